"""The declarative base every shelfdesk table derives from, and field helpers.

shelfdesk's tables live in their own :class:`~sqlalchemy.MetaData` (not
SQLModel's global one), so tables another module might declare never leak into
migrations, and with a naming convention, so every index and constraint has a
stable name that Alembic can diff and a later migration can drop by name.

The helpers keep the column conventions in one place: aware UTC datetimes (no
defaults: the caller passes ``ctx.clock.now()``, since nothing reads the wall
clock directly), money as :class:`~shelfdesk.db.types.Money`, enums as strings,
JSON documents as mutable dicts.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, MetaData
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import registry
from sqlalchemy.orm.attributes import set_attribute
from sqlmodel import Field, SQLModel

from shelfdesk.db.types import EnumString, Money, Percent, json_type

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ShelfModel(SQLModel, registry=registry(metadata=metadata)):
    """Base class of every shelfdesk table (abstract: it has no table itself)."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        # SQLModel hands the value to SQLAlchemy (which wraps a dict in a tracking
        # MutableDict) and then to Pydantic, which stores the plain dict over it; in-place
        # edits of a new object's JSON column would then be lost at commit. Store it again.
        if type(value) is dict and name in _json_columns(type(self)):
            set_attribute(self, name, MutableDict(value))


@cache
def _json_columns(cls: type) -> frozenset[str]:
    table = getattr(cls, "__table__", None)
    if table is None:
        return frozenset()
    return frozenset(column.key for column in table.columns if isinstance(column.type, JSON))


#: BIGINT on PostgreSQL for tables that grow without bound; plain INTEGER on
#: SQLite, where only ``INTEGER PRIMARY KEY`` is the fast rowid alias.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def id_field(*, big: bool = False) -> Any:
    """The surrogate primary key (None until the row is flushed)."""
    if big:
        return Field(default=None, primary_key=True, sa_type=BigIntId)
    return Field(default=None, primary_key=True)


def enum_field(enum: type[StrEnum], default: Any = ..., *, nullable: bool = False, length: int = 32) -> Any:
    """A StrEnum column stored as its string value."""
    if default is ...:
        return Field(sa_type=EnumString(enum, length), nullable=nullable)
    return Field(default=default, sa_type=EnumString(enum, length), nullable=nullable)


def money_field(*, nullable: bool = True) -> Any:
    """An amount in cents; ``Decimal | None`` in Python."""
    if nullable:
        return Field(default=None, sa_type=Money(), nullable=True)
    return Field(sa_type=Money(), nullable=False)


def percent_field() -> Any:
    """A nullable percentage with four decimals."""
    return Field(default=None, sa_type=Percent(), nullable=True)


def json_field(*, nullable: bool = False) -> Any:
    """A JSON document (dict). Not-null ones default to ``{}``; nullable ones to None."""
    if nullable:
        return Field(default=None, sa_type=json_type(), nullable=True)
    return Field(default_factory=dict, sa_type=json_type(), nullable=False)
