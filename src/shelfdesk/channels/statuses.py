"""Status-normalization tables: marketplace raw states -> shelfdesk's NormalizedStatus.

Each table is data (raw value -> status and the marketplace's meaning), so the
console can show the meaning and a table-driven test covers every row. A raw
value the table does not know gives ``Undefined``; no value at all gives
``NotProvided`` (BeezUP's convention, which shelfdesk follows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shelfdesk.domain import NormalizedStatus as S


@dataclass(frozen=True)
class StatusTable:
    name: str
    rows: Mapping[str, tuple[S, str]]

    def normalize(self, raw: object) -> S:
        key = _key(raw)
        if key is None:
            return S.NotProvided
        row = self.rows.get(key)
        return row[0] if row else S.Undefined

    def meaning(self, raw: object) -> str:
        key = _key(raw)
        row = self.rows.get(key) if key is not None else None
        return row[1] if row else "unknown"


def _key(raw: object) -> str | None:
    """Raw states arrive as ints or strings ("3", 3, " paid "); compare them as text."""
    if raw is None:
        return None
    if isinstance(raw, bool):  # bool is an int: never a state
        return "bool"
    text = str(raw).strip()
    return text or None


# Back Market order states [C reference]. Choices of ours are marked.
BACKMARKET_ORDER = StatusTable(
    "backmarket order",
    {
        # 0 is not actionable yet (checks running) but it is still a new sale, not
        # an accepted one; actions are computed from line states, so the console
        # offers nothing until the lines reach 1.
        "0": (S.New, "new: payment and identity checks running, do not ship"),
        "10": (S.New, "pending payment: the customer may still pay"),
        "1": (S.New, "paid: accept or cancel each line"),
        "3": (S.InProgress, "all lines accepted: ship now"),
        # Payment failed is final and never became a sale: shelfdesk calls it Canceled.
        "8": (S.Canceled, "payment failed: ignore (final)"),
        # Refined from the lines by normalize_backmarket_order (all cancelled -> Canceled).
        "9": (S.Shipped, "processed / shipped (final)"),
    },
)

BACKMARKET_LINE = StatusTable(
    "backmarket order line",
    {
        "0": (S.New, "new, awaiting payment"),
        "1": (S.New, "paid: accept or cancel"),
        "2": (S.InProgress, "accepted: prepare the shipment"),
        "3": (S.Shipped, "shipped (handed to the carrier)"),
        "4": (S.Canceled, "cancelled, customer refunded"),
        "5": (S.Canceled, "refunded before shipping"),
        # A return after delivery: the sale is over and nothing more can be done
        # on the line, which is BeezUP's "Closed" (our choice).
        "6": (S.Closed, "refunded after shipping (customer request)"),
        "7": (S.Canceled, "payment refused by the bank"),
        "8": (S.New, "pending payment"),
        "9": (S.New, "on hold: partner validation"),
    },
)

_BM_CANCELLED_LINES = {"4", "5", "7"}


def normalize_backmarket_order(state: object, line_states: Iterable[object] = ()) -> S:
    """Order status from the order state, refined for the final state 9.

    Back Market closes an order whose lines were all cancelled with state 9 too
    [I]; shelfdesk shows it as Canceled, and one whose lines were all refunded
    after shipping as Closed.
    """
    status = BACKMARKET_ORDER.normalize(state)
    if _key(state) != "9":
        return status
    lines = {_key(s) for s in line_states}
    if lines and lines <= _BM_CANCELLED_LINES:
        return S.Canceled
    if lines and "6" in lines and "3" not in lines and lines <= _BM_CANCELLED_LINES | {"6"}:
        return S.Closed
    return status


# Leboncoin order states: an invented shape [I] that follows the documented
# seller flow (paid -> availability confirmed within 3 days -> shipping
# confirmed within 72 h -> delivered; else automatic cancellation and refund).
LEBONCOIN_ORDER = StatusTable(
    "leboncoin order",
    {
        "paid": (S.New, "paid: confirm availability within 3 days"),
        "awaiting_shipment": (S.InProgress, "availability confirmed: ship and confirm within 72 h"),
        "shipped": (S.Shipped, "shipped"),
        "delivered": (S.Closed, "delivered to the buyer"),
        "cancelled": (S.Canceled, "cancelled, buyer refunded"),
    },
)
