"""Product proposals in the Back Market sandbox: a listing row for an unknown EAN, sent with the product's data.

The spec's ``POST /ws/listings`` "creates both Products and Listings": a
product Back Market does not have is *proposed*, "reviewed and either approved
or rejected by our team" [C]. What the sandbox does with it [I] (the spec
names neither the columns nor the task's result for such a row):

* a row whose ``ean`` no product has, carrying ``title`` and ``category_id``
  (``brand`` optional), with valid listing values (grade, price, quantity), is
  a proposal: its result reads ``status: pending_review``;
* the review ends :attr:`BackMarketSandbox.review_seconds` after the proposal
  (on the sandbox's clock, so a test walks past it): approved, the product
  joins the catalog and the listing is created from the proposed row, as if
  Back Market created both; a proposal can also be decided at once through the
  admin API (``POST /_sandbox/proposals``), which can reject it with a reason;
* sending the row again while in review updates the proposal ("the merchant
  who created this Product can update it as long as it's not been validated"
  [C]); a row without the product's data is told the product is in review, or
  why it was rejected;
* a row missing ``title`` or ``category_id`` is refused with what to send.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shelfdesk.sandbox.app import ApiError, iso, parse_iso
from shelfdesk.sandbox.backmarket_rules import GRADES, check_grade, check_listing_values, parse_listing_row
from shelfdesk.sandbox.core import utf8_clean

if TYPE_CHECKING:
    from shelfdesk.sandbox.backmarket import BackMarketSandbox

#: The product's data on a proposal row [I].
PRODUCT_COLUMNS = frozenset({"title", "brand", "category_id"})
#: How long Back Market's team takes, by default (a real review takes days) [I].
REVIEW_SECONDS = 600.0
#: A proposal's shape in the state file (checked when a state folder is loaded).
ENTRY = {"ean": str, "sku": str, "status": str, "proposed_at": str, "review_at": str, "row": dict}


def is_proposal(row: dict[str, str]) -> bool:
    """Whether a listing row carries product data (else it only names a product)."""
    return any((row.get(name) or "").strip() for name in PRODUCT_COLUMNS)


def known_proposal(sandbox: BackMarketSandbox, ean: str | None) -> list[dict[str, str]]:
    """Why a row naming an EAN that is only proposed cannot be listed yet (empty: no proposal)."""
    proposal = sandbox.state["proposals"].get(ean or "")
    if proposal is None:
        return []
    if proposal["status"] == "rejected":
        return [
            {
                "code": "product-rejected",
                "message": f"The product proposal for ean {ean} was rejected: {proposal.get('reason') or 'no reason given'}",
            }
        ]
    return [
        {
            "code": "product-in-review",
            "message": f"The product proposal for ean {ean} is in Back Market's review since {proposal['proposed_at']}; "
            "the listing is created once it is approved",
        }
    ]


def propose(sandbox: BackMarketSandbox, row: dict[str, str], number: int, when: datetime) -> dict[str, Any]:
    """The task's result for a proposal row: stored for review, or refused with every reason."""
    values, errors = parse_listing_row(row)
    sku, ean = values["sku"], values["ean"]
    title, category = (row.get("title") or "").strip(), (row.get("category_id") or "").strip()
    if not title:
        errors.append({"code": "missing-title", "message": "title is mandatory to propose a product"})
    elif len(title) > 200 or not utf8_clean(title):
        errors.append({"code": "invalid-title", "message": "title is limited to 200 characters"})
    if not category:
        errors.append({"code": "missing-category", "message": "category_id is mandatory to propose a product"})
    errors += check_grade(values.get("grade"), None, new=True)
    errors += check_listing_values(values, new=True)
    if errors:
        return {"line": number, "sku": sku, "status": "error", "errors": errors, "message": "; ".join(e["message"] for e in errors)}
    earlier = sandbox.state["proposals"].get(ean)
    if earlier is not None and earlier["status"] == "rejected":
        return {"line": number, "sku": sku, "status": "error", "errors": known_proposal(sandbox, ean), "message": ""}
    proposal = {
        "ean": ean,
        "sku": sku,
        "status": "in_review",
        "proposed_at": earlier["proposed_at"] if earlier else iso(when),
        "review_at": earlier["review_at"] if earlier else iso(when + timedelta(seconds=sandbox.review_seconds)),
        "row": {k: v for k, v in row.items() if isinstance(v, str)},
        "reason": None,
    }
    sandbox.state["proposals"][ean] = proposal
    sandbox.touch("proposals", ean)
    sandbox.effect("product_proposal", ean=ean, sku=sku, title=title, category_id=category)
    verb = "updated" if earlier else "received"
    return {
        "line": number,
        "sku": sku,
        "status": "pending_review",
        "message": f"Product proposal for ean {ean} {verb}: Back Market reviews it, and the listing is created once it is approved",
    }


def review_due(sandbox: BackMarketSandbox, now: datetime) -> None:
    """Approve the proposals whose review time has come."""
    for proposal in sandbox.state["proposals"].values():
        if proposal["status"] == "in_review" and parse_iso(proposal["review_at"]) <= now:
            decide(sandbox, proposal, approve=True, when=parse_iso(proposal["review_at"]))


def decide(sandbox: BackMarketSandbox, proposal: dict[str, Any], *, approve: bool, when: datetime, reason: str | None = None) -> None:
    """Approve (the product joins the catalog, the proposed listing is created) or reject a proposal."""
    proposal["status"], proposal["reason"], proposal["decided_at"] = ("approved" if approve else "rejected"), reason, iso(when)
    sandbox.touch("proposals", proposal["ean"])
    if not approve:
        return
    row = proposal["row"]
    [product] = sandbox.add_products(
        [
            {
                "ean": proposal["ean"],
                "title": row.get("title", "").strip(),
                "category": row.get("category_id", "").strip(),
                "grades": list(GRADES),
            }
        ]
    ) or [next(p for p in sandbox.state["products"].values() if p["ean"] == proposal["ean"])]
    if sandbox.listing_by_sku(proposal["sku"]) is None:
        values, _ = parse_listing_row(row)
        listing = sandbox.create_listing(proposal["sku"], product, values, when)
        sandbox.touch("listings", listing["id"])


def admin_routes(sandbox: BackMarketSandbox, admin: Any) -> list[Route]:
    async def proposals(request: Request, payload: Any) -> Any:
        """GET lists the proposals; POST ``{"ean", "decision": "approve"|"reject", "reason"?}`` ends one's review now."""
        if request.method == "GET":
            return {"proposals": list(sandbox.state["proposals"].values()), "review_seconds": sandbox.review_seconds}
        ean, decision, reason = payload.get("ean"), payload.get("decision"), payload.get("reason")
        proposal = sandbox.state["proposals"].get(ean) if isinstance(ean, str) else None
        if proposal is None:
            raise ApiError(404, f"no product proposal for ean {str(ean)[:20]!r}")
        if decision not in ("approve", "reject"):
            raise ApiError(400, "decision is approve or reject")
        if reason is not None and not (isinstance(reason, str) and len(reason) <= 500 and utf8_clean(reason)):
            raise ApiError(400, "reason is a string of at most 500 characters")
        if proposal["status"] != "in_review":
            raise ApiError(409, f"the proposal for ean {ean} is already {proposal['status']}")
        decide(sandbox, proposal, approve=decision == "approve", when=sandbox.clock.now(), reason=reason)
        return JSONResponse(proposal)

    return [Route("/_sandbox/proposals", admin(proposals), methods=["GET", "POST"])]
