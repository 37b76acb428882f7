"""Stores, marketplace accounts and channels: who sells what, where, with which credentials.

A *store* is a merchant catalog; an *account* is one set of credentials on one
marketplace; a *channel* publishes one store to one market of one account
(several channels may share an account, e.g. Back Market France and Spain).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, enum_field, id_field, json_field
from shelfdesk.domain import Marketplace, OrderScope


class Store(ShelfModel, table=True):
    """A merchant catalog and where it is imported from."""

    __tablename__ = "stores"

    id: int | None = id_field()
    name: str = Field(unique=True)
    country: str = Field(max_length=2)  #: ISO 3166-1 alpha-2, upper case
    currency: str = Field(max_length=3)  #: ISO 4217
    catalog_source: str | None = None  #: a path or an http(s) URL
    catalog_format: str | None = Field(default=None, max_length=16)  #: csv, json, jsonl, xml; None = detect
    #: Reader options found by detection or set by hand (delimiter, encoding, XML element …).
    catalog_options: dict[str, Any] = json_field()
    #: Which catalog column plays which role: {"sku": "Ref", "ean": "EAN13", …, "extra": [...]}.
    column_roles: dict[str, Any] = json_field()
    safety_stock: int = 0  #: default for the store's channels and products
    created_at: datetime
    updated_at: datetime
    #: The merchant's working time for deadlines: {"deadlines": {"cutoff_hour": 13, "working_days": [0, 1, 2, 3, 4]}};
    #: its channels inherit it (a channel's own ``settings["deadlines"]`` overrides it). None = defaults. Last column: added by 0013.
    settings: dict[str, Any] | None = json_field(nullable=True)


class MarketplaceAccount(ShelfModel, table=True):
    """One set of credentials on one marketplace.

    ``credential_ref`` only ever holds a *reference* (``secret:NAME`` into the
    workspace secrets file, or ``env:VAR``); a check constraint refuses
    anything else, so a token can never land in the database by mistake.
    """

    __tablename__ = "marketplace_accounts"
    __table_args__ = (
        UniqueConstraint("marketplace", "name"),
        CheckConstraint(
            "credential_ref LIKE 'secret:%' OR credential_ref LIKE 'env:%'",
            name="credential_ref_is_reference",
        ),
    )

    id: int | None = id_field()
    marketplace: Marketplace = enum_field(Marketplace)
    name: str
    credential_ref: str | None = None  #: ``secret:NAME`` or ``env:VAR``; None until set
    token_expires_at: datetime | None = None
    token_checked_at: datetime | None = None  #: last credentials check or authenticated call
    token_error: str | None = None  #: why the marketplace last rejected the token; None when accepted
    region: str | None = Field(default=None, max_length=16)  #: eu, na, apac
    base_url: str | None = None  #: overrides the region (sandbox, proxies)
    company: str | None = None  #: sent in the User-Agent some marketplaces require
    contact_email: str | None = None
    user_agent: str | None = None  #: full override of the User-Agent
    settings: dict[str, Any] = json_field()  #: marketplace-specific extras (never secrets)
    #: Orders modified up to this instant are harvested; moves only after a whole harvest committed.
    orders_watermark: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Channel(ShelfModel, table=True):
    """A store published to one market of one marketplace account."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("account_id", "market"),)

    id: int | None = id_field()
    store_id: int = Field(foreign_key="stores.id", ondelete="CASCADE", index=True)
    account_id: int = Field(foreign_key="marketplace_accounts.id", ondelete="RESTRICT")
    marketplace: Marketplace = enum_field(Marketplace)  #: copy of the account's, for filters
    market: str = Field(max_length=16)  #: the marketplace's market code, e.g. "fr-fr" or "FR"
    country: str = Field(max_length=2)  #: ISO2 country of the market
    name: str
    settings: dict[str, Any] = json_field()  #: marketplace-specific options (secure payment …)
    enabled: bool = True
    products_feed_enabled: bool = True
    offers_feed_enabled: bool = True
    quantities_only: bool = False  #: offers carry quantities, never prices
    orders_enabled: bool = True
    orders_scope: OrderScope = enum_field(OrderScope, OrderScope.market)
    auto_accept: bool = False
    #: Where the marketplace keeps one quantity per listing across markets (Back Market),
    #: only the owning channel of an account sends quantities.
    owns_quantities: bool = True
    repricer_enabled: bool = False
    safety_stock: int | None = None  #: None = the store's
    activated_at: datetime | None = None  #: publication active since; orders older are never auto-accepted
    categories_ok: bool = False
    columns_ok: bool = False
    api_ok: bool = False
    readiness_checked_at: datetime | None = None
    readiness_reasons: dict[str, Any] = json_field()  #: {"categories": ["37 categories unmapped …"], …}
    created_at: datetime
    updated_at: datetime
