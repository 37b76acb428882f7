"""Back Market's Care API (``/ws/sav``): after-sales folders, messages, problems, item transfers, refunds.

Mixed into :class:`~shelfdesk.channels.backmarket.BackMarketConnector`, which
provides ``self.api`` (retries, 429 waits, redaction) and ``self._care`` (the
per-minute limiters below). The daily budgets (list 4,000, problems 1,000,
item transfers 500, refunds 500 …) are a service matter: they must hold across
processes and restarts, so :mod:`shelfdesk.care.budget` counts them in the
database before a call is made.

Guesses where the published Care spec is silent or contradicts itself, each
marked [I] where it is used:

* The list sends ``lines`` as claim ids and ``orderline``/``client`` as ids;
  the detail sends claim objects and an ``orderline`` object with its order.
  Both shapes are read wherever either may come.
* ``state`` is documented as 0 OPEN / 9 CLOSED; "OPEN"/"CLOSED" text is read too.
  A claim's ``state`` example is 1 (not in its own enum): anything but 9 or
  "CLOSED" is taken as open.
* Dates are ISO 8601; the filters want ``YYYY-MM-DD-hh-mm``, taken as UTC.
* Pages hold 10 folders; ``next`` is followed when sent. A page without a
  ``next`` key at all (not even null) and 10 results asks for ``page + 1``.
* ``POST /ws/sav/refund`` answers 201 with a text summary; no refund id, no
  idempotency key. Whether it was applied is read back from the order line's
  state (and a refunded amount, when the line carries one under any of
  :data:`REFUNDED_AMOUNT_KEYS`), never by sending again.
* A message's ``initiator`` is "Merchant", "Customer"/"Client" or "BackMarket";
  its ``kind`` is SENDER_TO_RECEIVER (``MERCHANT_TO_ALL``): the sender is read
  from either.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shelfdesk.channels.care import (
    RefundOutcome,
    RemoteCareAttachment,
    RemoteCareCase,
    RemoteCareClaim,
    RemoteCareMessage,
    RemoteReturnLabel,
)
from shelfdesk.channels.errors import InvalidActionInput, RemoteRejected
from shelfdesk.channels.parsing import money_text, text_or_none, to_datetime, to_decimal, to_int
from shelfdesk.channels.ratelimit import SlidingWindowLimiter

#: Per-minute limits of the Care endpoints (rate-limits.yml), less a 5 % margin.
CARE_MINUTE_LIMITS = {
    "list": 494,  # 520
    "detail": 570,  # 600
    "message": 532,  # 560
    "problem": 712,  # 750
    "transfer": 277,  # 292
}
#: Daily limits of the Care endpoints, as published (the services keep their own margin).
CARE_DAILY_LIMITS = {
    "list": 4000,
    "detail": 40000,
    "message": 40000,
    "problem": 1000,
    "transfer": 500,
    "refund": 500,
}
PAGE_SIZE = 10
MAX_FILES = 10
MAX_FILE_BYTES = 3 * 1024 * 1024
#: Line states after which a refund of that type is visible, per refund type.
REFUNDED_STATES = {4: frozenset({"4"}), 5: frozenset({"5"}), 6: frozenset({"6"})}
#: Line states each refund type needs (the spec's table).
REFUNDABLE_STATES = {4: "1", 5: "2", 6: "3"}
#: Where a refunded amount might be on an order line [I: the spec names none].
REFUNDED_AMOUNT_KEYS = ("refunded_amount", "refund_amount", "amount_refunded", "refunded_price")


def care_limiters(shared: functools.partial[SlidingWindowLimiter]) -> dict[str, SlidingWindowLimiter]:
    """One shared per-minute limiter per Care endpoint of an account."""
    return {name: shared(limit, 60.0, name=f"bm-care-{name}") for name, limit in CARE_MINUTE_LIMITS.items()}


def care_endpoint(method: str, path: str) -> str | None:
    """Which Care budget a request counts against (None: not a Care call)."""
    if not path.startswith("/ws/sav"):
        return None
    if path.rstrip("/") == "/ws/sav/refund":
        return "refund"
    if method == "GET":
        return "list" if path.rstrip("/") == "/ws/sav" else "detail"
    for suffix, name in (("/msg", "message"), ("/problem", "problem"), ("/item-transfer", "transfer")):
        if path.rstrip("/").endswith(suffix):
            return name
    return None


def filter_date(value: datetime) -> str:
    """``YYYY-MM-DD-hh-mm`` in UTC, the Care list's filter format (minutes: rounded down) [I: zone unstated]."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%d-%H-%M")


class BackMarketCare:
    """The Care calls of the Back Market connector (see the module's notes)."""

    api: Any
    clock: Any
    _care: dict[str, SlidingWindowLimiter]

    # ------------------------------------------------------------------ reading

    async def iter_care_cases(
        self,
        *,
        state: int | None = None,
        orderline: str | int | None = None,
        modified_since: datetime | None = None,
        message_since: datetime | None = None,
        max_pages: int | None = None,
        before_page: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[list[RemoteCareCase]]:
        """Pages of ``GET /ws/sav`` (summaries; :meth:`get_care_case` reads one in full).

        ``before_page`` is awaited before each request: the caller's daily
        budget, which may raise to stop before anything is sent.
        """
        params: dict[str, Any] = {}
        if state is not None:
            params["state"] = state
        if orderline is not None:
            params["orderline"] = to_int(orderline, -1) if str(orderline).isdigit() else orderline
        if modified_since is not None:
            params["last_modification_date"] = filter_date(modified_since)
        if message_since is not None:
            params["last_message_date"] = filter_date(message_since)
        page = 1
        url: str | None = "/ws/sav"
        query: dict[str, Any] | None = params
        pages = 0
        while url:
            if before_page is not None:
                await before_page()
            response = await self.api.request("GET", url, params=query)
            pages += 1
            data = response.data
            if isinstance(data, list):  # a bare list of folders [I]
                results, has_next_key, next_url = data, False, None
            elif isinstance(data, Mapping):
                found = data.get("results")
                results = found if isinstance(found, list) else []
                has_next_key = "next" in data
                next_url = text_or_none(data.get("next"))
                if next_url in ("null", "None"):
                    next_url = None
            else:
                raise RemoteRejected("Back Market sent a Care list that is neither an object nor a list", marketplace="backmarket")
            yield [parse_care_case(item) for item in results if isinstance(item, Mapping)]
            if max_pages is not None and pages >= max_pages:
                return
            if next_url:
                page += 1
                url, query = next_url, None
            elif not has_next_key and len(results) >= PAGE_SIZE:
                page += 1
                url, query = "/ws/sav", {**params, "page": page}
            else:
                url = None

    async def get_care_case(self, case_id: str | int) -> RemoteCareCase:
        """``GET /ws/sav/{id}``: the folder with its claims, order line and every message."""
        response = await self.api.request("GET", f"/ws/sav/{_int_id(case_id)}")
        return parse_care_case(response.data, detailed=True)

    # ------------------------------------------------------------------ writing (never retried blindly)

    async def post_care_message(
        self, case_id: str | int, message: str, attachments: Sequence[tuple[str, bytes]] = ()
    ) -> RemoteCareMessage | None:
        """``POST /ws/sav/{id}/msg`` (multipart). Returns the message when the answer describes it."""
        if not message or not message.strip():
            raise InvalidActionInput("a Care message cannot be empty")
        _check_files(attachments)
        body, ctype = multipart({"message": message}, [("attachment", name, data) for name, data in attachments])
        response = await self.api.request(
            "POST", f"/ws/sav/{_int_id(case_id)}/msg", content=body, headers={"Content-Type": ctype}, safe=False
        )
        data = response.data
        if isinstance(data, Mapping) and (data.get("id") is not None or data.get("message") is not None):
            return parse_message(data)
        return None

    async def post_care_problem(
        self,
        case_id: str | int,
        problem_type: str = "OTHER",
        message: str | None = None,
        attachments: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """``POST /ws/sav/{id}/problem`` (multipart): ``problem_type``, optional message and files."""
        _check_files(attachments)
        fields = {"problem_type": problem_type or "OTHER"}
        if message:
            fields["message"] = message
        body, ctype = multipart(fields, [("attachment", name, data) for name, data in attachments])
        await self.api.request("POST", f"/ws/sav/{_int_id(case_id)}/problem", content=body, headers={"Content-Type": ctype}, safe=False)

    async def post_item_transfer(self, case_id: str | int, carrier: str, tracking: str, action: str | None = None) -> None:
        """``POST /ws/sav/{id}/item-transfer`` (JSON ``shipperName``, ``trackingNumber``, ``action``).

        A 400 "already exists" for this tracking number means an earlier
        attempt went through: the caller treats :class:`RemoteRejected` with
        that message as done after reading the case.
        """
        if not carrier.strip() or not tracking.strip():
            raise InvalidActionInput("an item transfer needs a carrier and a tracking number")
        body: dict[str, Any] = {"shipperName": carrier.strip(), "trackingNumber": tracking.strip()}
        if action:
            body["action"] = action
        await self.api.request("POST", f"/ws/sav/{_int_id(case_id)}/item-transfer", json_body=body, safe=False)

    async def post_refund(self, line_id: str | int, refund_type: int, amount: Decimal | None = None) -> RefundOutcome:
        """``POST /ws/sav/refund``: ``orderline_pk``, ``refund_type`` 4/5/6, ``amount`` only for 6.

        Not idempotent and not retried on an unknown outcome: the caller reads
        the line back before anything is sent again.
        """
        if refund_type not in (4, 5, 6):
            raise InvalidActionInput(f"refund type {refund_type} is not 4, 5 or 6")
        body: dict[str, Any] = {"orderline_pk": _int_id(line_id), "refund_type": refund_type}
        if refund_type == 6:
            if amount is None or amount <= 0:
                raise InvalidActionInput("a refund after shipping needs a positive amount")
            body["amount"] = float(money_text(amount))  # the spec types it as a number
        response = await self.api.request("POST", "/ws/sav/refund", json_body=body, safe=False)
        data = response.data
        summary = data if isinstance(data, str) else str(data.get("message") or data) if isinstance(data, Mapping) else ""
        return RefundOutcome(str(line_id), refund_type, amount if refund_type == 6 else None, summary.strip())


# ---------------------------------------------------------------------- parsing


def _int_id(value: str | int) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise InvalidActionInput(f"Back Market ids are integers, not {value!r}") from None


def _state(value: Any) -> str:
    text = text_or_none(value)
    if text is None:
        return "unknown"
    upper = text.upper()
    if upper in ("9", "CLOSED"):
        return "closed"
    if upper in ("0", "OPEN"):
        return "open"
    return "open" if upper.isdigit() else "unknown"


def _sender(initiator: str | None, kind: str | None) -> str:
    who = (initiator or (kind or "").split("_TO_")[0]).strip().lower()
    if who.startswith(("merchant", "seller")):
        return "merchant"
    if who.startswith(("customer", "client", "buyer")):
        return "buyer"
    if who.startswith(("backmarket", "back market", "bm", "admin", "agent")):
        return "backmarket"
    return who or "unknown"


def parse_attachment(raw: Any, message_id: str | None = None) -> RemoteCareAttachment | None:
    """A ``lightAttachment`` (``id``, ``attachment`` URL) or an ``attachment`` (``msg``, ``attachment`` path) or a bare URL."""
    if isinstance(raw, str):
        return RemoteCareAttachment(None, raw, None, message_id) if raw.strip() else None
    if not isinstance(raw, Mapping):
        return None
    url = text_or_none(raw.get("attachment") or raw.get("url") or raw.get("file"))
    if not url:
        return None
    return RemoteCareAttachment(
        text_or_none(raw.get("id")), url, to_datetime(raw.get("date_creation")), text_or_none(raw.get("msg")) or message_id
    )


def parse_message(raw: Mapping[str, Any]) -> RemoteCareMessage:
    """A thread message, or a ``postMessageResponse`` (``sender`` an id, ``attachment`` and ``attachments``)."""
    remote_id = text_or_none(raw.get("id")) or f"h-{uuid.uuid5(uuid.NAMESPACE_URL, repr(sorted(raw.items(), key=str)))}"
    attachments: list[RemoteCareAttachment] = []
    for item in [*(raw.get("attachments") or [] if isinstance(raw.get("attachments"), list) else []), raw.get("attachment")]:
        parsed = parse_attachment(item, remote_id)
        if parsed is not None and all(a.url != parsed.url for a in attachments):
            attachments.append(parsed)
    initiator = text_or_none(raw.get("initiator"))
    kind = text_or_none(raw.get("kind"))
    sender = _sender(initiator, kind)
    if sender == "unknown" and raw.get("sender") is not None and initiator is None and kind is None:
        sender = "merchant"  # the answer to our own post names the sender by id only
    return RemoteCareMessage(
        remote_id=remote_id,
        created_at=to_datetime(raw.get("date_creation")),
        body=str(raw.get("message") or ""),
        sender=sender,
        initiator=initiator,
        kind=kind,
        informative=bool(raw.get("is_informative")),
        attachments=attachments,
        raw=dict(raw),
    )


def _label(raw: Any) -> RemoteReturnLabel | None:
    if not isinstance(raw, Mapping):
        return None
    return RemoteReturnLabel(
        text_or_none(raw.get("state")),
        text_or_none(raw.get("label")),
        to_datetime(raw.get("date_creation")),
        text_or_none(raw.get("initiator")),
        text_or_none(raw.get("kind")),
    )


def _claim(raw: Mapping[str, Any]) -> RemoteCareClaim:
    issues: list[str] = []
    for issue in raw.get("issues") or [] if isinstance(raw.get("issues"), list) else []:
        if isinstance(issue, Mapping):
            name = text_or_none(issue.get("customerIssue")) or text_or_none(issue.get("tag"))
        else:
            name = text_or_none(issue)
        if name:
            issues.append(name)
    found = raw.get("return_labels")
    labels_raw = found if isinstance(found, list) else []
    labels = [l for l in (_label(r) for r in labels_raw) if l is not None]
    return RemoteCareClaim(
        remote_id=str(raw.get("id")),
        state=_state(raw.get("state")),
        issues=issues,
        resolution=text_or_none(raw.get("resolution_choice")),
        warranty=text_or_none(raw.get("declared_warranty_state")),
        return_labels=labels,
        raw=dict(raw),
    )


def parse_care_case(raw: Any, *, detailed: bool = False) -> RemoteCareCase:
    """A ``careFolder`` (list) or ``getCareFolderDetailsResponse`` (detail), read leniently."""
    if not isinstance(raw, Mapping):
        raise RemoteRejected("Back Market sent a Care folder that is not an object", marketplace="backmarket")
    problems: list[str] = []
    if raw.get("id") is None:
        problems.append("id")
    claims: list[RemoteCareClaim] = []
    claim_ids: list[str] = []
    lines = raw.get("lines")
    if lines is not None and not isinstance(lines, list):
        problems.append("lines")
        lines = []
    for index, line in enumerate(lines or []):
        if isinstance(line, Mapping):
            claim = _claim(line)
            claims.append(claim)
            claim_ids.append(claim.remote_id)
        elif text_or_none(line) is not None:
            claim_ids.append(str(line))
        else:
            problems.append(f"lines[{index}]")
    messages: list[RemoteCareMessage] = []
    raw_messages = raw.get("messages")
    if raw_messages is not None and not isinstance(raw_messages, list):
        problems.append("messages")
        raw_messages = []
    for index, message in enumerate(raw_messages or []):
        if isinstance(message, Mapping):
            messages.append(parse_message(message))
        else:
            problems.append(f"messages[{index}]")
    orderline = raw.get("orderline")
    orderline_id = order_id = sku = line_state = None
    line_price: Decimal | None = None
    line_quantity: int | None = None
    if isinstance(orderline, Mapping):
        orderline_id = text_or_none(orderline.get("id"))
        order = orderline.get("order")
        if isinstance(order, Mapping):
            order_id = text_or_none(order.get("order_id") or order.get("id"))
        elif order is not None:
            order_id = text_or_none(order)
        snapshot = orderline.get("snapshot")
        if isinstance(snapshot, Mapping):
            sku = text_or_none(snapshot.get("sku"))
        sku = sku or text_or_none(orderline.get("listing") or orderline.get("sku"))
        line_price = to_decimal(orderline.get("price"))
        line_quantity = to_int(orderline.get("quantity"), 0) or None
        line_state = text_or_none(orderline.get("state"))
    else:
        orderline_id = text_or_none(orderline)
    order_id = order_id or text_or_none(raw.get("order_id"))
    client = raw.get("client")
    first = last = email = None
    if isinstance(client, Mapping):
        first, last, email = (text_or_none(client.get(k)) for k in ("first_name", "last_name", "email"))
    created = to_datetime(raw.get("date_creation"))
    if created is None:
        problems.append("date_creation")
    backcare = raw.get("backcare")
    return RemoteCareCase(
        remote_id=str(raw.get("id")),
        state=_state(raw.get("state")),
        raw_state=text_or_none(raw.get("state")),
        created_at=created,
        modified_at=to_datetime(raw.get("date_modification")),
        last_message_at=to_datetime(raw.get("date_last_message")),
        closed_at=to_datetime(raw.get("date_closed")),
        orderline_id=orderline_id,
        order_id=order_id,
        country_code=text_or_none(raw.get("country_code")),
        buyer_first_name=first,
        buyer_last_name=last,
        buyer_email=email,
        backcare=backcare if isinstance(backcare, bool) else None,
        claims=claims,
        claim_ids=claim_ids,
        messages=messages,
        sku=sku,
        line_price=line_price,
        line_quantity=line_quantity,
        line_state=line_state,
        detailed=detailed,
        raw=dict(raw),
        problems=tuple(dict.fromkeys(problems)),
    )


def refunded_amount(line_raw: Mapping[str, Any]) -> Decimal | None:
    """The amount already refunded on an order line, when the line names one (see :data:`REFUNDED_AMOUNT_KEYS`)."""
    for key in REFUNDED_AMOUNT_KEYS:
        amount = to_decimal(line_raw.get(key))
        if amount is not None:
            return amount
    return None


def _check_files(files: Sequence[tuple[str, bytes]]) -> None:
    if len(files) > MAX_FILES:
        raise InvalidActionInput(f"at most {MAX_FILES} attachments")
    for name, data in files:
        if len(data) > MAX_FILE_BYTES:
            raise InvalidActionInput(f"{name} is larger than 3 MB")


def multipart(fields: Mapping[str, str], files: Sequence[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body, even without files (httpx would send a form otherwise)."""
    boundary = f"shelfdesk-{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    for field_name, filename, data in files:
        safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{safe}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
