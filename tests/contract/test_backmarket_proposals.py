"""Back Market product proposals against the sandbox: an unknown EAN sent with the product's data is
reviewed, then listed (or rejected), as the spec's "Create products" section describes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from shelfdesk.catalog.gtin import make_ean13
from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.base import BatchState, ListingUpdate
from shelfdesk.clock import FakeClock

from .conftest import Admin


def fairphone(sku: str, ean: str, **extra: object) -> ListingUpdate:
    values: dict = dict(ean=ean, grade="GOOD", price=Decimal("399"), quantity=2, title="Fairphone 5 256 Go", category="7")
    values.update(extra)
    return ListingUpdate(sku, attributes={"brand": "Fairphone"}, **values)


async def test_a_proposed_product_is_reviewed_then_listed(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    proposed, plain, incomplete = make_ean13("376000000051"), make_ean13("376000000052"), make_ean13("376000000053")
    [ticket] = await bm.submit_listings(
        [
            fairphone("FP5-GOOD", proposed, propose=True),
            fairphone("FP5-PLAIN", plain),  # no proposal asked: the unknown EAN is refused, naming it
            fairphone("FP5-NOCAT", incomplete, propose=True, category=None),
        ]
    )
    catalog = bm_admin.get("/state")["tasks"][ticket.remote_id]["catalog"].splitlines()
    assert catalog[0].startswith("sku,") and catalog[0].endswith(",title,brand,category_id")
    assert catalog[1].endswith(",Fairphone 5 256 Go,Fairphone,7") and catalog[2].endswith(",,,")
    result = await bm.wait_for_batch(ticket, poll_every=30)
    assert result.state is BatchState.done
    outcome = {i.sku: i for i in result.items}
    assert not outcome["FP5-GOOD"].ok and outcome["FP5-GOOD"].code == "product-in-review"
    assert f"Product proposal for ean {proposed} received" in outcome["FP5-GOOD"].message
    assert outcome["FP5-PLAIN"].code == "unknown-ean" and plain in outcome["FP5-PLAIN"].message
    assert outcome["FP5-NOCAT"].code == "missing-category"
    [review] = bm_admin.get("/proposals")["proposals"]
    assert (review["ean"], review["sku"], review["status"]) == (proposed, "FP5-GOOD", "in_review")
    assert [e["ean"] for e in bm_admin.effects("product_proposal")] == [proposed]

    [again] = await bm.submit_listings([fairphone("FP5-GOOD", proposed)])  # in review: says so, lists nothing
    waiting = (await bm.wait_for_batch(again, poll_every=30)).items[0]
    assert waiting.code == "product-in-review" and "in Back Market's review" in waiting.message

    clock.advance(timedelta(seconds=bm_admin.get("/proposals")["review_seconds"]))
    listing = await bm.get_listing(sku="FP5-GOOD")  # approved: the product and its listing exist
    assert listing.online and listing.quantity == 2 and listing.price == Decimal("399")
    assert any(p["ean"] == proposed and p["title"] == "Fairphone 5 256 Go" for p in bm_admin.get("/products")["products"])
    [update] = await bm.submit_listings([fairphone("FP5-GOOD", proposed, quantity=3)])
    assert (await bm.wait_for_batch(update, poll_every=30)).items[0].ok


async def test_a_rejected_proposal_says_why(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    ean = make_ean13("376000000061")
    [ticket] = await bm.submit_listings([fairphone("FP4-FAIR", ean, propose=True)])
    await bm.wait_for_batch(ticket, poll_every=30)
    decided = bm_admin.post("/proposals", {"ean": ean, "decision": "reject", "reason": "duplicate of Fairphone 4"})
    assert decided["status"] == "rejected"
    assert bm_admin.http.post("/_sandbox/proposals", json={"ean": ean, "decision": "approve"}).status_code == 409
    assert bm_admin.http.post("/_sandbox/proposals", json={"ean": "0", "decision": "approve"}).status_code == 404
    [again] = await bm.submit_listings([fairphone("FP4-FAIR", ean)])
    item = (await bm.wait_for_batch(again, poll_every=30)).items[0]
    assert item.code == "product-rejected" and "duplicate of Fairphone 4" in item.message
