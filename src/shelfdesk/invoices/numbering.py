"""Gapless invoice numbers, one sequence per prefix, allocated inside the caller's transaction.

:func:`allocate` runs in the same write transaction that inserts the invoice:
it first *writes* the sequence row (``UPDATE … SET next_number = next_number
+ 1``), which takes the write lock (SQLite's ``BEGIN IMMEDIATE`` already holds
it; PostgreSQL locks the row until commit), then reads the number it
consumed. A second process allocating for the same prefix waits until the
first commits or rolls back, so two invoices never share a number, and a
number is consumed only if its invoice commits, so none is skipped. Plain
UPDATE/SELECT/INSERT: the same SQL on SQLite and PostgreSQL.

An operator may choose the number, but only within those rules: the chosen
number must be the next free one, except for a prefix that has no invoice
yet, where any start is allowed (a series continued from another system).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from shelfdesk.db.upsert import upsert_rows
from shelfdesk.invoices.errors import InvoiceError, NumberTaken

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def format_number(prefix: str, number: int, digits: int) -> str:
    """The printed number: ``F`` + ``00042`` = ``F00042``."""
    return f"{prefix}{number:0{max(1, digits)}d}"


def peek_next(session: Session, prefix: str) -> int:
    """The number the next invoice of ``prefix`` would get (nothing is reserved)."""
    from shelfdesk.db.models import InvoiceSequence

    value = session.execute(select(InvoiceSequence.next_number).where(InvoiceSequence.prefix == prefix)).scalar()
    return int(value) if value is not None else 1


def prefix_is_used(session: Session, prefix: str) -> bool:
    from shelfdesk.db.models import Invoice

    return session.execute(select(func.count()).select_from(Invoice).where(Invoice.prefix == prefix)).scalar_one() > 0


def allocate(session: Session, prefix: str, now: datetime, wanted: int | None = None) -> int:
    """Consume and return the next number of ``prefix`` (or ``wanted``, when the rules allow it).

    Must run in the write transaction that inserts the invoice. Raises
    :class:`NumberTaken` when ``wanted`` is not the next free number of a prefix
    already in use, and :class:`InvoiceError` for a number below 1.
    """
    from shelfdesk.db.models import InvoiceSequence

    if wanted is not None and wanted < 1:
        raise InvoiceError(f"invoice numbers start at 1, not {wanted}")

    def bump() -> int:
        return int(
            session.execute(
                update(InvoiceSequence)
                .where(InvoiceSequence.prefix == prefix)
                .values(next_number=InvoiceSequence.next_number + 1, updated_at=now)
            ).rowcount
        )

    if not bump():
        # First invoice of this prefix. Two processes may both get here on PostgreSQL (SQLite's
        # BEGIN IMMEDIATE queues them): ON CONFLICT DO NOTHING makes the second wait for the first
        # to commit, then both bump the one row, so the second gets 2 instead of failing.
        upsert_rows(session, InvoiceSequence, [{"prefix": prefix, "next_number": 1, "updated_at": now}], ["prefix"], [])
        bump()
    number = int(session.execute(select(InvoiceSequence.next_number).where(InvoiceSequence.prefix == prefix)).scalar_one()) - 1
    if wanted is None or wanted == number:
        return number
    if prefix_is_used(session, prefix):
        raise NumberTaken(
            f"{prefix}{wanted} is not the next free number of prefix {prefix!r}: the next one is {number}. "
            "Numbers of a prefix in use are gapless, so only the next one can be issued."
        )
    # A prefix with no invoice yet may start anywhere.
    session.execute(update(InvoiceSequence).where(InvoiceSequence.prefix == prefix).values(next_number=wanted + 1, updated_at=now))
    return wanted


def set_next(session: Session, prefix: str, next_number: int, now: datetime) -> None:
    """Set where a prefix's numbering starts; only while no invoice uses the prefix (no gap possible)."""
    from shelfdesk.db.models import InvoiceSequence

    if next_number < 1:
        raise InvoiceError("the next invoice number must be 1 or more")
    current = peek_next(session, prefix)
    if current == next_number:
        return
    if prefix_is_used(session, prefix):
        raise InvoiceError(
            f"prefix {prefix!r} already has invoices; its next number stays {current} (numbering is gapless). "
            "Choose a new prefix to start another series."
        )
    changed = session.execute(
        update(InvoiceSequence).where(InvoiceSequence.prefix == prefix).values(next_number=next_number, updated_at=now)
    ).rowcount
    if not changed:
        session.add(InvoiceSequence(prefix=prefix, next_number=next_number, updated_at=now))
