"""Storing harvested Care cases: the case row, its claims, its whole thread and attachments.

Idempotent: storing the same folder twice changes nothing. A summary from the
list never overwrites what a detail read stored (claims, thread); the order is
found by the order id the detail names, else by the order line's id within
the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import col

from shelfdesk.care.deadlines import case_due
from shelfdesk.channels.care import RemoteCareCase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class StoredCases:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    messages_new: int = 0


def find_case(session: Session, account_id: int, case_ref: str) -> Any:
    from shelfdesk.db.models import CareCase

    return session.execute(
        select(CareCase).where(col(CareCase.account_id) == account_id, col(CareCase.case_ref) == case_ref)
    ).scalar_one_or_none()


def _order_for(session: Session, account_id: int, remote: RemoteCareCase) -> Any:
    from shelfdesk.db.models import Order, OrderLine

    if remote.order_id:
        order = session.execute(
            select(Order).where(col(Order.account_id) == account_id, col(Order.marketplace_order_id) == remote.order_id)
        ).scalar_one_or_none()
        if order is not None:
            return order
    if remote.orderline_id:
        return session.execute(
            select(Order)
            .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
            .where(col(Order.account_id) == account_id, col(OrderLine.marketplace_line_id) == remote.orderline_id)
            .limit(1)
        ).scalar_one_or_none()
    return None


def attachment_name(url: str) -> str:
    name = PurePosixPath(urlsplit(url).path).name
    return name or "attachment"


def store_case(session: Session, account_id: int, marketplace: str, remote: RemoteCareCase, now: datetime, out: StoredCases) -> int:
    """Upsert one case (and, from a detail, its claims and thread); returns its local id."""
    from shelfdesk.db.models import CareAttachment, CareCase, CareMessage

    case = find_case(session, account_id, remote.remote_id)
    order = _order_for(session, account_id, remote)
    created = case is None
    if case is None:
        case = CareCase(
            account_id=account_id,
            marketplace=marketplace,
            case_ref=remote.remote_id,
            state=remote.state,
            opened_at=remote.created_at or now,
            harvested_at=now,
            updated_at=now,
        )
        session.add(case)
    before = (case.state, case.modified_at, case.last_message_at, case.messages_count, case.order_id)
    case.state = remote.state
    case.raw_state = remote.raw_state
    case.opened_at = remote.created_at or case.opened_at
    case.modified_at = remote.modified_at or case.modified_at
    case.last_message_at = remote.last_message_at or case.last_message_at
    case.closed_at = remote.closed_at
    case.line_ref = remote.orderline_id or case.line_ref
    case.country_code = remote.country_code or case.country_code
    case.harvested_at = now
    if order is not None:
        case.order_id = order.id
        case.channel_id = order.channel_id
        case.order_ref = order.marketplace_order_id
        case.buyer_name = case.buyer_name or order.buyer_name
        case.buyer_email = case.buyer_email or order.buyer_email
    case.order_ref = remote.order_id or case.order_ref
    if remote.detailed:
        case.detailed_at = now
        case.sku = remote.sku or case.sku
        case.buyer_name = remote.buyer or case.buyer_name
        case.buyer_email = remote.buyer_email or case.buyer_email
        claims = [
            {
                "id": c.remote_id,
                "state": c.state,
                "issues": c.issues,
                "resolution": c.resolution,
                "warranty": c.warranty,
                "return_labels": [l.as_dict() for l in c.return_labels],
            }
            for c in remote.claims
        ]
        case.claims = {"claims": claims}
        case.problem = ", ".join(dict.fromkeys(i for c in remote.claims for i in c.issues)) or None
        case.resolution = next((c.resolution for c in remote.claims if c.resolution), None)
        labels = [l for c in remote.claims for l in c.return_labels]
        latest = max(labels, key=lambda l: l.created_at or datetime.min.replace(tzinfo=now.tzinfo), default=None)
        case.return_label = latest.state if latest else None
        case.payload = remote.raw
        case.unread_fields = ", ".join(remote.problems) or None
    elif created:
        case.payload = remote.raw
    session.flush()
    if remote.detailed:
        known = dict(
            session.execute(select(col(CareMessage.message_ref), col(CareMessage.id)).where(col(CareMessage.case_id) == case.id)).all()
        )
        for message in remote.messages:
            if message.remote_id in known:
                continue
            row = CareMessage(
                case_id=case.id,
                message_ref=message.remote_id,
                sent_at=message.created_at,
                sender=message.sender[:16],
                initiator=message.initiator,
                kind=message.kind,
                body=message.body,
                informative=message.informative,
                payload=message.raw,
            )
            session.add(row)
            session.flush()
            known[message.remote_id] = row.id
            out.messages_new += 1
        urls = set(session.execute(select(col(CareAttachment.url)).where(col(CareAttachment.case_id) == case.id)).scalars())
        for message in remote.messages:
            for attachment in message.attachments:
                if attachment.url in urls:
                    continue
                urls.add(attachment.url)
                session.add(
                    CareAttachment(
                        case_id=case.id,
                        message_id=known.get(message.remote_id),
                        attachment_ref=attachment.remote_id,
                        url=attachment.url,
                        name=attachment_name(attachment.url),
                        created_at=attachment.created_at,
                    )
                )
        thread = sorted(remote.messages, key=lambda m: (m.created_at or now, m.remote_id))
        case.messages_count = len(known)
        if thread:
            last = thread[-1]
            case.last_message_from = last.sender[:16]
            case.last_message_at = max(filter(None, (case.last_message_at, last.created_at)), default=None)
            informative = last.informative
        else:
            informative = False
    else:
        informative = False
    due = case_due(case.state, case.opened_at, case.last_message_at, case.last_message_from, informative)
    case.due_at, case.due_what = (due.due_at, due.what) if due else (None, None)
    after = (case.state, case.modified_at, case.last_message_at, case.messages_count, case.order_id)
    if created:
        out.created.append(case.id)
    elif after != before:
        case.updated_at = now
        out.updated.append(case.id)
    return int(case.id)
