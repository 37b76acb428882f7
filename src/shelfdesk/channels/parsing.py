"""Small, strict converters from marketplace JSON to shelfdesk values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


def to_decimal(value: Any, default: Decimal | None = None) -> Decimal | None:
    """Money arrives as strings ("42.00"), numbers, or ``{amount, currency}``."""
    if isinstance(value, Mapping):
        value = value.get("amount")
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return default


def money_text(value: Decimal | None) -> str:
    """Decimal as the two-decimal string marketplaces expect."""
    return "" if value is None else f"{value.quantize(Decimal('0.01'))}"


def to_datetime(value: Any) -> datetime | None:
    """RFC 3339 text to an aware UTC datetime. A naive value is taken as UTC [I]."""
    if not value:
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def rfc3339(value: datetime) -> str:
    """Aware datetime as ``2026-03-02T09:30:00Z`` (no ``+`` to escape in a query)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def int_or_none(value: Any) -> int | None:
    """An integer, or None when the value is missing or is not one."""
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
