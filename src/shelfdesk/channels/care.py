"""After-sales (Care) as connectors return it: cases, their claims, messages and attachments.

Plain dataclasses like :mod:`shelfdesk.channels.base`: services store them,
connectors fill them. Every object keeps the marketplace's ``raw`` payload and
names the fields it could not read in ``problems`` instead of losing the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass
class RemoteCareAttachment:
    remote_id: str | None
    url: str
    created_at: datetime | None = None
    message_id: str | None = None


@dataclass
class RemoteCareMessage:
    remote_id: str
    created_at: datetime | None
    body: str
    sender: str  #: buyer / merchant / backmarket (from initiator and kind)
    initiator: str | None = None
    kind: str | None = None
    informative: bool = False
    attachments: list[RemoteCareAttachment] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class RemoteReturnLabel:
    state: str | None  #: ALIVE / USED / EXPIRED
    url: str | None
    created_at: datetime | None
    initiator: str | None
    kind: str | None  #: CUSTOMER_TO_MERCHANT / MERCHANT_TO_CUSTOMER / UNSET

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "url": self.url,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "initiator": self.initiator,
            "kind": self.kind,
        }


@dataclass
class RemoteCareClaim:
    """One claim (a line of the case): what the buyer reports and wants."""

    remote_id: str
    state: str | None  #: open / closed
    issues: list[str] = field(default_factory=list)
    resolution: str | None = None  #: REMOTE_ASSISTANCE / REPAIR / REPLACE / REPAIR_REPLACE / REFUND
    warranty: str | None = None
    return_labels: list[RemoteReturnLabel] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class RemoteCareCase:
    """A Care folder. The list gives a summary (``detailed`` False: claim ids only, no messages)."""

    remote_id: str
    state: str  #: open / closed / unknown
    raw_state: str | None
    created_at: datetime | None
    modified_at: datetime | None
    last_message_at: datetime | None
    closed_at: datetime | None
    orderline_id: str | None
    order_id: str | None = None  #: the order's id, when the detail names it
    country_code: str | None = None
    buyer_first_name: str | None = None
    buyer_last_name: str | None = None
    buyer_email: str | None = None
    backcare: bool | None = None
    claims: list[RemoteCareClaim] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)
    messages: list[RemoteCareMessage] = field(default_factory=list)
    sku: str | None = None
    line_price: Decimal | None = None
    line_quantity: int | None = None
    line_state: str | None = None
    detailed: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    problems: tuple[str, ...] = ()

    @property
    def buyer(self) -> str:
        return " ".join(p for p in (self.buyer_first_name, self.buyer_last_name) if p)


@dataclass(frozen=True)
class RefundOutcome:
    """What ``POST /ws/sav/refund`` answered (a text summary on success)."""

    line_id: str
    refund_type: int
    amount: Decimal | None
    summary: str
