"""Plain JSON for scripts: the one conversion the CLI's ``--json`` and the HTTP API share.

Dataclasses become objects, money (:class:`~decimal.Decimal`) a decimal string
(never a float, which would round), datetimes RFC 3339 text in UTC, enums
their value.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)``: what the standard encoder does not know."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
