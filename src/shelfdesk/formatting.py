"""How amounts and times read on screen, in the CLI's tables and in ``--json``: one place, one look.

Amounts: two decimals; a table groups thousands and names the currency only
when it is not the workspace's usual euro. Times: ``YYYY-MM-DD HH:MM`` (UTC,
as stored), ``—`` when there is none. JSON carries ISO 8601 and two-decimal
strings, never floats (``jsonable.json_default`` converts them). Invoices have their own buyer-language formats
(``invoices.render``); marketplaces get theirs from ``channels.parsing``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

#: What a table shows where there is no value.
NONE = "—"


def amount_text(value: Decimal | None) -> str | None:
    """``1234.50`` (JSON, events, exports); None stays None."""
    return None if value is None else f"{value:.2f}"


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """``1,234.50`` for euros, ``1,234.50 GBP`` otherwise; ``—`` when unknown."""
    if amount is None:
        return NONE
    return f"{amount:,.2f}" + (f" {currency}" if currency and currency != "EUR" else "")


def money_with_currency(amount: Decimal | None, currency: str | None) -> str:
    """``1,234.50 EUR``: the currency always named (CLI lines read outside the console)."""
    return NONE if amount is None else f"{amount:,.2f} {currency or ''}".strip()


def when(value: datetime | None) -> str:
    """``2026-05-04 09:30``; ``—`` when there is none."""
    return value.strftime("%Y-%m-%d %H:%M") if value else NONE


def short_when(value: datetime | None) -> str:
    """``05-04 09:30``: a narrow column of this year's times; ``—`` when there is none."""
    return value.strftime("%m-%d %H:%M") if value else NONE


def iso(value: datetime | None) -> str | None:
    """ISO 8601 for JSON; None stays None."""
    return value.isoformat() if value is not None else None
