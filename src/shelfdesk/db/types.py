"""Column types that keep values exact and portable across SQLite and PostgreSQL.

* :class:`Money` stores a :class:`~decimal.Decimal` as a whole number of cents
  (BIGINT). SQLite has no decimal type: a NUMERIC column silently becomes a
  float there, so 0.1 + 0.2 sums drift and prices sort wrongly. Integers sum,
  sort and compare exactly on every database.
* :class:`Percent` is the same idea with four decimals, for commission rates.
* :class:`EnumString` stores a :class:`~enum.StrEnum` as its string value in a
  VARCHAR, with no database enum type to migrate when a member is added.
* :func:`json_type` is JSON with in-place mutation tracking for dicts.

Datetime fields need no type in the models: SQLModel 0.0.50 maps ``datetime``
fields to its ``UTCDateTime``, which refuses naive values and returns aware UTC
ones. :class:`UTCDateTime` here does the same for the Core copy of the tables
(``db/tables.py``), which read commands use without loading SQLModel.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Interval, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class FixedDecimal(TypeDecorator[Decimal]):
    """A Decimal with a fixed number of decimal places, stored as a scaled BIGINT.

    Binding accepts Decimal, int and decimal strings (marketplaces send money as
    strings); it refuses floats (already inexact), booleans, NaN/infinity and
    values with more decimal places than the column holds, rather than rounding
    money behind anyone's back. Reading returns a Decimal with exactly
    ``places`` decimals (``Decimal("12.50")``).
    """

    impl = BigInteger
    cache_ok = True
    places = 2

    def __init__(self, places: int | None = None) -> None:
        super().__init__()
        if places is not None:
            self.places = places
        self._scale = 10**self.places
        self._quantum = Decimal(1).scaleb(-self.places)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        # Comparisons (price > Decimal("10")) bind through this type, so they compare scaled integers.
        return self

    def to_units(self, value: Any) -> int | None:
        """The stored integer for ``value``; raises ValueError for anything inexact."""
        if value is None:
            return None
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError(
                f"{type(self).__name__} refuses {type(value).__name__} {value!r}: use Decimal (or a decimal string) so amounts stay exact"
            )
        if isinstance(value, int):
            return value * self._scale
        if isinstance(value, str):
            try:
                value = Decimal(value.strip())
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a decimal amount") from None
        if not isinstance(value, Decimal):
            raise ValueError(f"{type(self).__name__} needs a Decimal, got {type(value).__name__} {value!r}")
        if not value.is_finite():
            raise ValueError(f"{type(self).__name__} refuses {value!r}")
        scaled = value.scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places; round it explicitly before storing")
        return int(scaled)

    def from_units(self, units: int | None) -> Decimal | None:
        if units is None:
            return None
        return Decimal(int(units)).scaleb(-self.places).quantize(self._quantum)

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return self.to_units(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return self.from_units(value)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        units = self.to_units(value)
        return "NULL" if units is None else str(units)

    @property
    def python_type(self) -> type:
        return Decimal


class Money(FixedDecimal):
    """An amount of money in a currency with cents (EUR, GBP, USD …), stored as BIGINT cents."""

    cache_ok = True
    places = 2


class Percent(FixedDecimal):
    """A percentage such as a commission rate (``Decimal("12.5")`` = 12.5 %), four decimals."""

    cache_ok = True
    places = 4


class EnumString(TypeDecorator[str]):
    """A StrEnum stored as its value in a VARCHAR.

    Binding checks the value belongs to the enum (a typo fails at the write,
    not later in a screen). Reading returns the enum member, or the raw string
    when the value is unknown, so an older shelfdesk can still read rows a
    newer one wrote with a member it does not know.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 32) -> None:
        super().__init__(length=length)
        self.enum = enum
        longest = max(len(member.value) for member in enum)
        if longest > length:
            raise ValueError(f"{enum.__name__} has values longer than {length}")

    def __repr__(self) -> str:
        return f"EnumString({self.enum.__name__}, length={self.impl_instance.length})"

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if type(value) is self.enum:  # the common case, on the bulk-upsert hot path
            return value._value_
        try:
            return self.enum(value).value
        except ValueError:
            allowed = ", ".join(member.value for member in self.enum)
            raise ValueError(f"{value!r} is not a valid {self.enum.__name__} (one of: {allowed})") from None

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        try:
            return self.enum(value)
        except ValueError:
            return value

    @property
    def python_type(self) -> type:
        return self.enum


def json_type() -> TypeEngine[Any]:
    """JSON for dict documents; SQL NULL for None; in-place changes are saved.

    Without :class:`~sqlalchemy.ext.mutable.MutableDict`, ``channel.settings["x"] = 1``
    would be lost silently at commit. Tracking is shallow: replace nested
    dicts rather than editing them in place. Values must be JSON-native
    (convert Decimal and datetime to strings first). Each call returns a new
    instance because mutation tracking is attached per type instance.
    """
    from sqlalchemy.ext.mutable import MutableDict  # loads the ORM: only the models need it

    return MutableDict.as_mutable(JSON(none_as_null=True))


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC and read back aware in UTC (SQLModel's ``UTCDateTime``, for Core reads).

    A database without time zones (SQLite) returns what it stored, UTC without
    an offset: the offset is put back. Naive values are refused when binding.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def __repr__(self) -> str:
        return "UTCDateTime()"

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        return Interval() if isinstance(value, timedelta) else self

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("datetime values must be aware (with a time zone)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
