"""Back Market's Care (after-sales) API, imitated for the demo and the tests: folders, messages, problems,
item transfers and refunds, with their per-minute and per-day budgets.

Faithful to the Care spec's [C] facts: ``GET /ws/sav`` lists folders ten to a
page, filtered by ``last_id``, ``state`` (0 open, 9 closed), ``orderline``,
``last_modification_date`` and ``last_message_date`` (``YYYY-MM-DD-hh-mm``);
``GET /ws/sav/{id}`` gives the folder with its claims, its order line (and
order) and every message; a message (multipart, ``message`` required, at most
ten files of 3 MB) reopens a closed folder; a problem defaults to ``OTHER``,
needs attachments for ``DAMAGED_PACKAGE``, ``ITEM_NOT_RECEIVED`` and
``OOW_ITEM``, and a folder numbered below 100,000,000 takes only ``OTHER``
without message or file; an item transfer needs ``shipperName`` and
``trackingNumber``, refuses a tracking number already used (400) and folders
numbered above 100,000,000 (422); a refund names ``orderline_pk`` and
``refund_type`` 4 (a paid line), 5 (an accepted line) or 6 (a shipped line,
with an ``amount``) and answers 201 with a text summary. Each endpoint has its
budget per minute and per day (:data:`CARE_LIMITS`): past either, a 429.

Guesses, marked [I]: a refund of type N moves the line to state N (the same
moves ``POST /ws/orders/{id}`` allows, 1→4, 2→5, 3→6), its order's state
following its lines; a line refunded after shipping takes further partial
refunds until nothing is left (the price times the quantity plus the line's
shipping), and shows what was refunded in ``refunded_amount`` (the spec has no
field for it); Back Market writes an informative message in the folder for a
refund, a problem and an item transfer; a folder whose line is wholly refunded
closes; the list's dates are UTC; "per day" is any 24 hours (the strictest
reading, so a client that keeps to it keeps to any other); the budgets are per
token and, like the edge limits, forgotten on restart.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from shelfdesk.sandbox.app import ApiError, iso, parse_iso
from shelfdesk.sandbox.backmarket_rules import line_total, settle_order
from shelfdesk.sandbox.core import RateWindow, SandboxClock, as_datetime, utf8_clean
from shelfdesk.sandbox.inputs import FormFile, as_decimal, as_int, field_str, query_int, read_form

#: [C] Budgets by endpoint: (requests a minute, requests a day); None where none is published.
CARE_LIMITS: dict[str, tuple[int | None, int | None]] = {
    "care_list": (520, 4000),
    "care_detail": (600, 40000),
    "care_message": (560, 40000),
    "care_problem": (750, 1000),
    "care_transfer": (292, 500),
    "care_refund": (None, 500),
}
PAGE_SIZE = 10  # [C] ten folders a page
#: [C] Folders numbered below this are the old platform's: problems of type OTHER only, but item transfers.
NEW_PLATFORM_IDS = 100_000_000
FIRST_FOLDER_ID, FIRST_LEGACY_FOLDER_ID = 100_000_001, 5_000_001  # [I]
MERCHANT = {"id": 7301, "username": "care@refurb-paris.example", "first_name": "Service", "last_name": "Client"}  # [I]
PROBLEM_TYPES = (
    "ACCOUNT_LOCKED",
    "CODE_LOCKED",
    "DAMAGED_PACKAGE",
    "ITEM_NOT_RECEIVED",
    "MISSING_PART",
    "OOW_ITEM",
    "PROBLEM_NOT_IDENTIFIED",
    "WRONG_ITEM",
    "OTHER",
)
PROBLEMS_NEEDING_FILES = ("DAMAGED_PACKAGE", "ITEM_NOT_RECEIVED", "OOW_ITEM")
TRANSFER_ACTIONS = ("REPAIR", "REPLACE", "NOTHING")
RESOLUTIONS = ("REMOTE_ASSISTANCE", "REPAIR", "REPLACE", "REPAIR_REPLACE", "REFUND")
WARRANTY_STATES = ("IN_WARRANTY", "WATER_OR_DROPPED", "THIRD_PARTY_REPAIR")
#: What a buyer can open a folder for: issue -> (tag, the return reason a refund after shipping records). [I]
ISSUES = {
    "BATTERY_NOT_CHARGING": ("TECHNICAL", 22),
    "SCREEN_DEFECT": ("TECHNICAL", 21),
    "CAMERA_NOT_WORKING": ("TECHNICAL", 22),
    "ACCOUNT_LOCKED": ("TECHNICAL", 23),
    "NOT_AS_DESCRIBED": ("COMPLIANCE", 24),
    "DAMAGED_ON_ARRIVAL": ("DELIVERY", 21),
    "ITEM_NOT_RECEIVED": ("DELIVERY", 12),
    "CHANGED_MIND": ("WITHDRAWAL", 1),
}
MAX_FILES, MAX_FILE_BYTES = 10, 3 * 1024 * 1024  # [C]
MAX_MESSAGE = 10_000  # [I] characters of a message
#: [C] Refund type -> the line state it applies to (and, [I], the state it leaves the line in: the type itself).
REFUND_FROM = {4: 1, 5: 2, 6: 3}
CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$", "SEK": "kr", "JPY": "¥", "AUD": "A$"}


def refunded(line: dict[str, Any]) -> Decimal:
    return as_decimal(line.get("refunded_amount")) or Decimal("0")


def _list_date(text: str, name: str) -> datetime:
    """[C] ``YYYY-MM-DD-hh-mm`` (UTC [I]); an RFC 3339 date-time is taken too [I]."""
    parts = text.split("-")
    if len(parts) == 5 and all(p.isdigit() for p in parts):
        try:
            year, month, day, hour, minute = map(int, parts)
            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        except (ValueError, OverflowError):
            pass
    when = as_datetime(text)
    if when is None:
        raise ApiError(400, f"{name} must read YYYY-MM-DD-hh-mm, not {text[:40]!r}", "invalid-date")
    return when


def _attachment_fields(files: list[FormFile], status: int) -> list[FormFile]:
    """The files sent as attachments (``attachment``, ``attachment[]`` or ``attachments`` [I]), within the spec's limits."""
    files = [f for f in files if f.field in ("attachment", "attachment[]", "attachments")]
    if len(files) > MAX_FILES:
        raise ApiError(status, f"At most {MAX_FILES} attachments", "too-many-attachments")
    for f in files:
        if len(f.content) > MAX_FILE_BYTES:
            raise ApiError(status, f"{f.filename[:60]} is larger than 3 MB", "attachment-too-large")
    return files


class CareSandbox:
    """The Care side of :class:`~shelfdesk.sandbox.backmarket.BackMarketSandbox` (a mixin: it uses its state,
    clock, journal and error envelope)."""

    # What the host sandbox provides; annotations only, so they resolve to its own at run time.
    state: dict[str, Any]
    clock: SandboxClock
    touch: Callable[[str, Any], None]
    effect: Callable[..., dict[str, Any]]
    public_order: Callable[[dict[str, Any]], dict[str, Any]]
    route: Callable[..., Route]
    care_limits = CARE_LIMITS

    # ------------------------------------------------------------------ budgets

    def reset_care_limits(self) -> None:
        self.care_windows = {
            name: [RateWindow(n, seconds, 0.0) for n, seconds in zip(limits, (60.0, 86400.0), strict=True) if n is not None]
            for name, limits in self.care_limits.items()
        }

    def care_budget_refusal(self, key: str, limits: tuple[str, ...], now: float) -> Response | None:
        """A 429 when the endpoint's budget for this minute or these 24 hours is spent; else the request counts."""
        for name in limits:
            windows = self.care_windows.get(name, [])
            if any(w.full(key, now) for w in windows):
                per = " or ".join(f"{w.limit} a {'minute' if w.window == 60 else 'day'}" for w in windows)
                body = {"error": {"code": "too-many-requests", "message": f"Rate limit exceeded ({per})"}}
                return JSONResponse(body, 429)  # [C] the V1 envelope, no Retry-After
            for w in windows:
                w.allow(key, now)
        return None

    # ------------------------------------------------------------------ state

    def care_ids(self, kind: str, first: int) -> int:
        """The next id of ``kind``; a state saved before Care existed starts the count."""
        ids = self.state["next_ids"]
        value = ids.setdefault(kind, first)
        ids[kind] = value + 1
        return value

    def _folder(self, ident: str) -> dict[str, Any]:
        number = as_int(ident, minimum=0)
        if number is None:  # [C] an integer path parameter
            raise ApiError(400, f"careFolderId must be an integer, not {ident[:40]!r}", "invalid-parameter")
        folder = self.state["care"].get(str(number))
        if folder is None:
            raise ApiError(404, f"Care Folder {number} does not exist", "not-found")
        return folder

    def _line_of(self, line_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for order in self.state["orders"].values():
            for line in order["orderlines"]:
                if line.get("id") == line_id:
                    return order, line
        return None

    def _changed(self, folder: dict[str, Any], *, message: bool = False) -> None:
        now = iso(self.clock.now())
        folder["date_modification"] = now
        if message:
            folder["date_last_message"] = now
        self.touch("care", folder["id"])

    def _add_message(
        self,
        folder: dict[str, Any],
        text: str,
        *,
        initiator: str,
        kind: str,
        informative: bool = False,
        files: list[FormFile] | tuple[FormFile, ...] = (),
    ) -> dict[str, Any]:
        now = self.clock.now()
        message: dict[str, Any] = {
            "id": self.care_ids("care_message", 800001),
            "message": text,
            "date_creation": iso(now),
            "initiator": initiator,
            "kind": kind,
            "is_informative": informative,
            "attachments": [],
        }
        for f in files:
            attachment_id = self.care_ids("care_attachment", 900001)
            name = "".join(c for c in f.filename if c.isalnum() or c in "._-")[:80] or f"attachment-{attachment_id}"
            self.state["care_attachments"][str(attachment_id)] = {
                "id": attachment_id,
                "folder": folder["id"],
                "msg": message["id"],
                "name": name,
                "content_type": f.content_type if utf8_clean(f.content_type) else "application/octet-stream",
                "size": len(f.content),
                "sha256": hashlib.sha256(f.content).hexdigest(),
                "data": base64.b64encode(f.content).decode("ascii"),
                "date_creation": iso(now),
            }
            message["attachments"].append(attachment_id)
        folder["messages"].append(message)
        self._changed(folder, message=not informative)
        return message

    def open_case(
        self,
        line_id: int,
        *,
        issue: str = "BATTERY_NOT_CHARGING",
        resolution: str = "REPAIR",
        message: str | None = None,
        warranty: str = "IN_WARRANTY",
        legacy: bool = False,
        return_label: bool = False,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A buyer opens a Care folder on an order line (the admin API and the demo): its first message is theirs.

        Refused (``ValueError``) for a line that does not exist, was never paid,
        or already has an open folder [I].
        """
        found = self._line_of(line_id)
        if found is None:
            raise ValueError(f"no order line {line_id}")
        order, line = found
        if line["state"] in (0, 7, 8):
            raise ValueError(f"order line {line_id} is in state {line['state']}: a buyer opens a case on a paid line")
        if any(f["orderline"] == line_id and f["state"] == 0 for f in self.state["care"].values()):
            raise ValueError(f"order line {line_id} already has an open case")
        if issue not in ISSUES:
            raise ValueError(f"issue must be one of {', '.join(ISSUES)}")
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        if warranty not in WARRANTY_STATES:
            raise ValueError(f"warranty must be one of {', '.join(WARRANTY_STATES)}")
        if message is not None and not (isinstance(message, str) and 0 < len(message) <= MAX_MESSAGE and utf8_clean(message)):
            raise ValueError(f"message must be text of 1 to {MAX_MESSAGE} characters")
        when = iso(at or self.clock.now())
        folder_id = self.care_ids("care_legacy", FIRST_LEGACY_FOLDER_ID) if legacy else self.care_ids("care", FIRST_FOLDER_ID)
        address = order.get("billing_address") or order.get("shipping_address") or {}
        tag, reason = ISSUES[issue]
        claim: dict[str, Any] = {
            "id": self.care_ids("care_claim", 700001),
            "state": 0,
            "issues": [{"customerIssue": issue, "tag": tag}],
            "resolution_choice": resolution,
            "declared_warranty_state": warranty,
            "return_labels": [],
        }
        if return_label:
            claim["return_labels"].append(
                {
                    "date_creation": when,
                    "state": "ALIVE",
                    "label": f"https://sandbox.invalid/care/labels/{folder_id}.pdf",
                    "initiator": "BackMarket",
                    "kind": "CUSTOMER_TO_MERCHANT",
                }
            )
        folder = {
            "id": folder_id,
            "orderline": line_id,
            "order_id": order["order_id"],
            "state": 0,
            "client": {
                "first_name": str(address.get("first_name") or address.get("firstName") or ""),
                "last_name": str(address.get("last_name") or address.get("lastName") or ""),
                "email": str(address.get("email") or ""),
            },
            "country_code": str(order.get("country_code") or "fr-fr").lower(),
            "backcare": False,
            "date_creation": when,
            "date_modification": when,
            "date_last_message": when,
            "date_closed": None,
            "lines": [claim],
            "messages": [],
            "problems": [],
            "transfers": [],
            "return_reason": reason,
        }
        self.state["care"][str(folder_id)] = folder
        text = message or _OPENING.get(issue, "Bonjour, j'ai un problème avec mon appareil.")
        first = self._add_message(folder, text, initiator="Customer", kind="CUSTOMER_TO_MERCHANT")
        first["date_creation"] = when
        folder["date_modification"] = folder["date_last_message"] = when
        self.effect("care_opened", folder=folder_id, orderline=line_id, order_id=order["order_id"])
        return folder

    def write_in_case(self, folder: dict[str, Any], text: Any, *, initiator: str = "Customer") -> dict[str, Any]:
        """Someone writes in a folder (the admin API plays the buyer or Back Market; the demo's seeding, the seller
        too): it reopens a closed one, as a message does."""
        if not (isinstance(text, str) and 0 < len(text.strip()) and len(text) <= MAX_MESSAGE and utf8_clean(text)):
            raise ValueError(f"message must be text of 1 to {MAX_MESSAGE} characters")
        kinds = {"Customer": "CUSTOMER_TO_MERCHANT", "BackMarket": "BACKMARKET_TO_ALL", "Merchant": "MERCHANT_TO_CUSTOMER"}
        if initiator not in kinds:
            raise ValueError(f"from must be one of {', '.join(kinds)}")
        self._reopen(folder)
        return self._add_message(folder, text, initiator=initiator, kind=kinds[initiator])

    def _reopen(self, folder: dict[str, Any]) -> None:
        if folder["state"] == 9:
            folder["state"], folder["date_closed"] = 0, None
            for claim in folder["lines"]:
                claim["state"] = 0

    def close_case(self, folder: dict[str, Any]) -> None:
        if folder["state"] != 9:
            folder["state"], folder["date_closed"] = 9, iso(self.clock.now())
            for claim in folder["lines"]:
                claim["state"] = 9
            self._changed(folder)

    # ------------------------------------------------------------------ what the API shows

    def public_folder(self, folder: dict[str, Any]) -> dict[str, Any]:
        """[C] careFolder: a list's entry (the claims by id; an unset date is absent)."""
        entry = {
            "id": folder["id"],
            "client": 0,
            "merchant": MERCHANT["id"],
            "orderline": folder["orderline"],
            "date_creation": folder["date_creation"],
            "date_modification": folder["date_modification"],
            "date_last_message": folder["date_last_message"],
            "state": folder["state"],
            "lines": [claim["id"] for claim in folder["lines"]],
            "country_code": folder["country_code"],
            "backcare": folder["backcare"],
        }
        if folder.get("date_closed"):
            entry["date_closed"] = folder["date_closed"]
        return entry

    def folder_details(self, folder: dict[str, Any], base_url: str) -> dict[str, Any]:
        """[C] getCareFolderDetailsResponse: the folder with its claims, its order line (and order) and every message."""
        details = self.public_folder(folder)
        details.update(
            client={"id": 0, "username": "", **folder["client"]},
            merchant=dict(MERCHANT),
            lines=folder["lines"],
            messages=[self._public_message(m, base_url) for m in folder["messages"]],
            orderline=self._public_orderline(folder),
        )
        return details

    def _public_message(self, message: dict[str, Any], base_url: str) -> dict[str, Any]:
        public = {k: message[k] for k in ("id", "message", "date_creation", "initiator", "kind", "is_informative")}
        public["attachments"] = [
            {"id": a["id"], "attachment": f"{base_url}_sandbox/care/attachments/{a['id']}/{a['name']}", "date_creation": a["date_creation"]}
            for ident in message["attachments"]
            if (a := self.state["care_attachments"].get(str(ident)))
        ]
        return public

    def _public_orderline(self, folder: dict[str, Any]) -> dict[str, Any]:
        found = self._line_of(folder["orderline"])
        if found is None:  # the order was replaced through the admin API [I]: what the folder knows
            return {"id": folder["orderline"]}
        order, line = found
        public = self.public_order(order)
        keys = (
            "order_id",
            "shipping_address",
            "billing_address",
            "tracking_number",
            "tracking_url",
            "shipper_display",
            "date_creation",
            "date_modification",
            "date_shipping",
            "date_payment",
            "state",
            "price",
            "shipping_price",
            "currency",
            "country_code",
        )
        listing = next((l for l in self.state["listings"].values() if l["sku"] == line.get("listing")), None)
        product = self.state["products"].get(listing["product_id"]) if listing else None
        return {
            "id": line["id"],
            "order": {k: public[k] for k in keys if k in public and public[k] is not None},
            "snapshot": {
                "id": 0,
                "product": {
                    "product_id": int(line.get("product_id") or 0),
                    "category_3": {"category_name": str((product or {}).get("category") or "")},
                },
                "listing": int(line.get("listing_id") or 0),
                "sku": str(line.get("listing") or ""),
                "image": f"https://sandbox.invalid/images/{line.get('listing_id') or 0}.jpg",
            },
            "quantity": line.get("quantity"),
            "price": line.get("price"),
            "state": line["state"],
            "trust_pack_plus": False,
        }

    # ------------------------------------------------------------------ handlers

    async def list_care_folders(self, request: Request, _: Any) -> Response:
        q = request.query_params
        last_id = query_int(q, "last_id", minimum=0)
        state = query_int(q, "state", choices=(0, 9))
        orderline = query_int(q, "orderline", minimum=0)
        page = query_int(q, "page", minimum=1, code="invalid-pagination") or 1
        bounds = {key: _list_date(q[key], key) for key in ("last_modification_date", "last_message_date") if q.get(key)}
        folders = sorted(self.state["care"].values(), key=lambda f: f["id"])
        if last_id is not None:
            folders = [f for f in folders if f["id"] > last_id]
        if state is not None:
            folders = [f for f in folders if f["state"] == state]
        if orderline is not None:
            folders = [f for f in folders if f["orderline"] == orderline]
        if "last_modification_date" in bounds:
            folders = [f for f in folders if parse_iso(f["date_modification"]) >= bounds["last_modification_date"]]
        if "last_message_date" in bounds:
            folders = [f for f in folders if parse_iso(f["date_last_message"]) >= bounds["last_message_date"]]
        start = (page - 1) * PAGE_SIZE
        chunk = folders[start : start + PAGE_SIZE]
        return JSONResponse(
            {
                "count": len(chunk),  # [C] the folders on this page
                "next": str(request.url.include_query_params(page=page + 1)) if start + PAGE_SIZE < len(folders) else None,
                "previous": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
                "results": [self.public_folder(f) for f in chunk],
            }
        )

    async def get_care_folder(self, request: Request, _: Any) -> Response:
        folder = self._folder(request.path_params["care_folder_id"])
        return JSONResponse(self.folder_details(folder, str(request.base_url)))

    async def post_care_message(self, request: Request, body: Any) -> Response:
        folder = self._folder(request.path_params["care_folder_id"])
        fields, files = read_form(request.headers.get("content-type", ""), body)
        text = field_str(fields, "message", max_len=MAX_MESSAGE)
        if text is None or not text.strip():
            raise ApiError(400, "message is required", "missing-message")
        files = _attachment_fields(files, 400)
        self._reopen(folder)  # [C] a message reopens a closed folder
        message = self._add_message(folder, text, initiator="Merchant", kind="MERCHANT_TO_CUSTOMER", files=files)
        self.effect("care_message", folder=folder["id"], message=message["id"], attachments=len(files))
        attachments = [
            {"msg": message["id"], "group": folder["id"], "sender": MERCHANT["id"], "attachment": f"/care/{folder['id']}/{a}"}
            for a in message["attachments"]
        ]
        answer: dict[str, Any] = {
            "attachments": attachments,
            "date_creation": message["date_creation"],
            "group": folder["id"],
            "id": message["id"],
            "message": text,
            "sender": MERCHANT["id"],
        }
        if attachments:
            answer["attachment"] = attachments[0]
        return JSONResponse(answer, 201)

    async def post_care_problem(self, request: Request, body: Any) -> Response:
        folder = self._folder(request.path_params["care_folder_id"])
        fields, files = read_form(request.headers.get("content-type", ""), body)
        problem = fields.get("problem_type", "OTHER")
        if problem not in PROBLEM_TYPES:
            raise ApiError(422, f"problem_type must be one of {', '.join(PROBLEM_TYPES)}", "invalid-problem-type")
        text = field_str(fields, "message", max_len=MAX_MESSAGE, status=422, nullable=True) or ""
        files = _attachment_fields(files, 413)
        if folder["state"] != 0:
            raise ApiError(422, "Cannot declare problem on this Care Folder (it is closed)", "folder-closed")
        if folder["id"] < NEW_PLATFORM_IDS and (problem != "OTHER" or text or files):
            raise ApiError(
                422, "Only OTHER problem type, without message or attachment, is allowed for IDs lower than 100,000,000", "legacy-folder"
            )
        if problem in PROBLEMS_NEEDING_FILES and not files:
            raise ApiError(422, f"Attachments are mandatory for the problem type {problem}", "attachments-required")
        entry = {
            "id": self.care_ids("care_problem", 300001),
            "problem_type": problem,
            "message": text,
            "date_creation": iso(self.clock.now()),
        }
        folder["problems"].append(entry)
        note = f"The seller declared a problem: {problem}." + (f"\n{text}" if text else "")
        self._add_message(folder, note, initiator="BackMarket", kind="BACKMARKET_TO_ALL", informative=True, files=files)
        self.effect("care_problem", folder=folder["id"], problem_type=problem, attachments=len(files))
        return JSONResponse(entry, 201)

    async def post_item_transfer(self, request: Request, body: Any) -> Response:
        folder = self._folder(request.path_params["care_folder_id"])
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a JSON object with shipperName and trackingNumber", "invalid-body")
        shipper = field_str(body, "shipperName", min_len=1, max_len=100)
        tracking = field_str(body, "trackingNumber", min_len=1, max_len=100)
        if shipper is None or tracking is None or not shipper.strip() or not tracking.strip():
            raise ApiError(400, "shipperName and trackingNumber are required", "missing-field")
        action = body.get("action")
        if action is not None and action not in TRANSFER_ACTIONS:
            raise ApiError(400, f"action must be one of {', '.join(TRANSFER_ACTIONS)}", "invalid-action")
        if any(t["trackingNumber"] == tracking for f in self.state["care"].values() for t in f["transfers"]):
            raise ApiError(400, "An item transfer with this tracking number already exists", "duplicate-tracking-number")
        if folder["id"] > NEW_PLATFORM_IDS:
            raise ApiError(
                422,
                "Care folders with ID above 100,000,000 are not yet supported on this endpoint due to an ongoing internal migration",
                "unsupported-folder",
            )
        if folder["state"] != 0:
            raise ApiError(422, "Cannot create item transfer (the folder is closed)", "folder-closed")
        entry = {
            "id": self.care_ids("care_transfer", 400001),
            "shipperName": shipper,
            "trackingNumber": tracking,
            "action": action or "NOTHING",
            "date_creation": iso(self.clock.now()),
        }
        folder["transfers"].append(entry)
        note = f"The seller sent the item back to the customer with {shipper}, tracking number {tracking} ({entry['action']})."
        self._add_message(folder, note, initiator="BackMarket", kind="BACKMARKET_TO_ALL", informative=True)
        self.effect("care_transfer", folder=folder["id"], shipper=shipper, tracking=tracking)
        return JSONResponse(entry, 201)

    async def post_refund(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a JSON object with orderline_pk and refund_type", "invalid-body")
        line_id = as_int(body.get("orderline_pk"), minimum=0)
        if line_id is None:
            raise ApiError(400, "orderline_pk must be an order line's id", "invalid-orderline")
        refund_type = as_int(body.get("refund_type"), allow_text=False)
        if refund_type not in REFUND_FROM:
            raise ApiError(400, "refund_type must be 4, 5 or 6", "invalid-refund-type")
        amount: Decimal | None = None
        if body.get("amount") is not None:
            if refund_type != 6:
                raise ApiError(400, "amount is only for refund_type 6", "unexpected-amount")
            amount = as_decimal(body["amount"])
            if amount is None or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise ApiError(400, "amount must be a positive amount with at most two decimals", "invalid-amount")
        found = self._line_of(line_id)
        if found is None:
            raise ApiError(404, f"Orderline {line_id} does not exist", "not-found")
        order, line = found
        left = line_total(line) - refunded(line)
        partial_again = refund_type == 6 and line["state"] == 6 and left > 0  # [I] a second partial refund
        if line["state"] != REFUND_FROM[refund_type] and not partial_again:
            raise ApiError(
                400,
                f"Orderline {line_id} is in state {line['state']}: refund_type {refund_type} is for state {REFUND_FROM[refund_type]}",
                "invalid-line-state",
            )
        amount = left if amount is None else amount
        if amount > left:
            raise ApiError(400, f"{amount:.2f} is more than the {left:.2f} left to refund on orderline {line_id}", "amount-too-high")
        now = self.clock.now()
        self.touch("orders", order["order_id"])
        line["state"] = refund_type
        line["refunded_amount"] = f"{refunded(line) + amount:.2f}"
        if refund_type == 6:
            folder = self._folder_of_line(line_id)
            line["return_reason"] = folder["return_reason"] if folder else 25  # [I] the buyer's issue, else "Other"
            line["return_message"] = line.get("return_message") or ""
        settle_order(order)
        order["date_modification"] = iso(now)
        currency = str(line.get("currency") or order.get("currency") or "EUR")
        summary = f"{amount:.2f}{CURRENCY_SIGNS.get(currency, ' ' + currency)} refunded on the sku {line.get('listing')}"
        record = {
            "orderline": line_id,
            "order_id": order["order_id"],
            "refund_type": refund_type,
            "amount": f"{amount:.2f}",
            "at": iso(now),
        }
        self.state["refunds"].append(record)
        self.effect("care_refund", **record)
        folder = self._folder_of_line(line_id)
        if folder is not None:
            self._add_message(folder, f"Refund: {summary}.", initiator="BackMarket", kind="BACKMARKET_TO_ALL", informative=True)
            if refunded(line) >= line_total(line):
                self.close_case(folder)  # [I] nothing left to settle
        return PlainTextResponse(summary, 201)

    def _folder_of_line(self, line_id: int) -> dict[str, Any] | None:
        """The line's open folder, else its latest one."""
        folders = sorted((f for f in self.state["care"].values() if f["orderline"] == line_id), key=lambda f: (f["state"] == 0, f["id"]))
        return folders[-1] if folders else None

    def care_routes(self) -> list[Route]:
        r = self.route
        return [
            r("/ws/sav", self.list_care_folders, ["GET"], limits=("requests", "care_list")),
            r("/ws/sav/refund", self.post_refund, ["POST"], limits=("requests", "care_refund")),
            r("/ws/sav/{care_folder_id}", self.get_care_folder, ["GET"], limits=("requests", "care_detail")),
            r("/ws/sav/{care_folder_id}/msg", self.post_care_message, ["POST"], limits=("requests", "care_message")),
            r("/ws/sav/{care_folder_id}/problem", self.post_care_problem, ["POST"], limits=("requests", "care_problem")),
            r("/ws/sav/{care_folder_id}/item-transfer", self.post_item_transfer, ["POST"], limits=("requests", "care_transfer")),
        ]

    # ------------------------------------------------------------------ admin

    def care_received(self) -> dict[str, Any]:
        effects = self.state["effects"]
        return {
            "care_messages": [e for e in effects if e["kind"] == "care_message"],
            "care_problems": [e for e in effects if e["kind"] == "care_problem"],
            "care_transfers": [e for e in effects if e["kind"] == "care_transfer"],
            "refunds": self.state["refunds"],
        }

    def care_admin_routes(self, admin: Any) -> list[Route]:
        async def open_case(request: Request, payload: Any) -> Any:
            """POST ``{"orderline": id}`` or ``{"order_id": id}`` (its first paid line), with ``issue``,
            ``resolution``, ``message``, ``warranty``, ``legacy`` (a folder of the old platform) and
            ``return_label`` optional: a buyer opens a case. GET lists the folders as the API does."""
            if request.method == "GET":
                return {"folders": [self.folder_details(f, str(request.base_url)) for f in self.state["care"].values()]}
            line_id = as_int(payload.get("orderline"), minimum=0)
            if line_id is None:
                order_id = as_int(payload.get("order_id"), minimum=0)
                order = self.state["orders"].get(str(order_id)) if order_id is not None else None
                if order is None:
                    raise ValueError("give orderline (an order line's id) or order_id (an order's)")
                line = next((l for l in order["orderlines"] if l.get("state") not in (0, 7, 8)), None)
                if line is None:
                    raise ValueError(f"order {order_id} has no paid line")
                line_id = line["id"]
            options: dict[str, Any] = {}
            for name in ("issue", "resolution", "message", "warranty"):
                if payload.get(name) is not None:
                    options[name] = payload[name]
            for name in ("legacy", "return_label"):
                if name in payload:
                    if not isinstance(payload[name], bool):
                        raise ValueError(f"{name} must be true or false")
                    options[name] = payload[name]
            folder = self.open_case(line_id, **options)
            return JSONResponse({"folder": self.folder_details(folder, str(request.base_url))}, 201)

        async def write(request: Request, payload: Any) -> Any:
            """POST ``{"message": text, "from": "Customer" | "BackMarket"}``: the buyer (or Back Market) writes."""
            folder = self._folder(request.path_params["care_folder_id"])
            initiator = payload.get("from", "Customer")
            if initiator not in ("Customer", "BackMarket"):  # the seller writes through the API
                raise ValueError("from must be Customer or BackMarket")
            message = self.write_in_case(folder, payload.get("message"), initiator=initiator)
            return JSONResponse({"message": self._public_message(message, str(request.base_url))}, 201)

        async def close(request: Request, _: Any) -> Any:
            folder = self._folder(request.path_params["care_folder_id"])
            self.close_case(folder)
            return {"folder": self.public_folder(folder)}

        async def attachment(request: Request, _: Any) -> Response:
            """An attachment's bytes, where the folder's messages point (Back Market's CDN, imitated)."""
            found = self.state["care_attachments"].get(str(as_int(request.path_params["attachment_id"], minimum=0)))
            if found is None:
                raise ApiError(404, "No such attachment", "not-found")
            ctype = found["content_type"] if found["content_type"].isascii() else "application/octet-stream"
            return Response(base64.b64decode(found["data"]), media_type=ctype)

        return [
            Route("/_sandbox/care", admin(open_case), methods=["GET", "POST"]),
            Route("/_sandbox/care/{care_folder_id}/messages", admin(write), methods=["POST"]),
            Route("/_sandbox/care/{care_folder_id}/close", admin(close), methods=["POST"]),
            Route("/_sandbox/care/attachments/{attachment_id}/{name}", admin(attachment), methods=["GET"]),
        ]


#: The buyer's first message by issue, in French like the demo's market [I].
_OPENING = {
    "BATTERY_NOT_CHARGING": "Bonjour, la batterie ne charge plus depuis deux jours. Que puis-je faire ?",
    "SCREEN_DEFECT": "Bonjour, l'écran présente des lignes vertes dès l'allumage.",
    "CAMERA_NOT_WORKING": "Bonjour, l'appareil photo arrière reste noir.",
    "ACCOUNT_LOCKED": "Bonjour, le téléphone est encore lié au compte de l'ancien propriétaire.",
    "NOT_AS_DESCRIBED": "Bonjour, l'appareil reçu est rayé alors qu'il était annoncé en excellent état.",
    "DAMAGED_ON_ARRIVAL": "Bonjour, le colis est arrivé écrasé et l'écran est fissuré.",
    "ITEM_NOT_RECEIVED": "Bonjour, je n'ai toujours pas reçu ma commande.",
    "CHANGED_MIND": "Bonjour, je souhaite me rétracter et renvoyer l'appareil.",
}
