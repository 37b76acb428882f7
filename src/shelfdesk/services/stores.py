"""Stores: a merchant catalog, where it is imported from, and what the Stores screen lists.

Summaries are plain dataclasses (no ORM object leaves a session), counted with
indexed aggregate queries so the list stays quick on a 200,000-product store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.errors import SetupError

if TYPE_CHECKING:
    from shelfdesk.catalog.readiness import Readiness
    from shelfdesk.services.working_time import StoreWorkingTime
    from shelfdesk.context import AppContext


@dataclass(frozen=True)
class ImportSummary:
    id: int
    started_at: datetime
    finished_at: datetime | None
    source: str
    format: str | None
    rows_read: int
    stored: int
    rejected: int
    gone: int
    duration_ms: int | None
    error: str | None
    #: ``catalog.importer.ImportOutcome`` value ("done" for imports recorded before outcomes existed).
    outcome: str = "done"

    @property
    def needs_force(self) -> bool:
        """Nothing was stored because the feed looked cut or implausible: it can be forced after reading this."""
        return self.outcome in ("truncated", "refused")

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "source": self.source,
            "format": self.format,
            "rows_read": self.rows_read,
            "stored": self.stored,
            "rejected": self.rejected,
            "gone": self.gone,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class ChannelLine:
    """A channel as a line under its store: name, market and readiness lights."""

    id: int
    name: str
    marketplace: str
    market: str
    country: str
    account_id: int
    account_name: str
    enabled: bool
    active: bool  #: publication activated
    readiness: Readiness | None


@dataclass(frozen=True)
class StoreSummary:
    id: int
    name: str
    country: str
    currency: str
    catalog_source: str | None
    catalog_format: str | None
    column_roles: dict[str, Any]
    products: int  #: current (not gone)
    gone: int
    last_import: ImportSummary | None
    channels: list[ChannelLine] = field(default_factory=list)
    safety_stock: int = 0  #: units kept back from every channel without its own setting
    working_time: StoreWorkingTime | None = None  #: cut-off hour and working days its channels' deadlines use

    def as_json(self) -> dict[str, Any]:
        from shelfdesk.secrets import mask_url

        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "currency": self.currency,
            "catalog_source": mask_url(self.catalog_source) if self.catalog_source else None,
            "catalog_format": self.catalog_format,
            "column_roles": {k: v for k, v in self.column_roles.items() if k != "extra"},
            "products": self.products,
            "gone": self.gone,
            "safety_stock": self.safety_stock,
            "working_time": self.working_time.as_json() if self.working_time else None,
            "last_import": self.last_import.as_json() if self.last_import else None,
            "channels": [
                {
                    "id": c.id,
                    "name": c.name,
                    "marketplace": c.marketplace,
                    "market": c.market,
                    "account": c.account_name,
                    "active": c.active,
                    "ready": c.readiness.ready if c.readiness else None,
                }
                for c in self.channels
            ],
        }


def _check_country(country: str) -> str:
    code = (country or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise SetupError(f"country {country!r} must be a two-letter ISO code such as FR or ES")
    return code


def _check_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise SetupError(f"currency {currency!r} must be a three-letter ISO code such as EUR")
    return code


def _check_name(name: str) -> str:
    """Refuse control and formatting characters in a name every screen, export and log line shows.

    A terminal escape (ESC …) would repaint the console; a bidi override
    (U+202E) or a zero-width character makes one name look like another.
    """
    import unicodedata

    bad = next((ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")), None)
    if bad is not None:
        raise SetupError(
            f"a store name cannot hold control or invisible formatting characters "
            f"(U+{ord(bad):04X} {unicodedata.name(bad, 'control')}): type it again"
        )
    if len(name) > 120:
        raise SetupError("a store name is at most 120 characters")
    return name


def create_store(ctx: AppContext, name: str, country: str, currency: str = "EUR", *, catalog_source: str | None = None) -> StoreSummary:
    """A new store (its catalog comes with the first import)."""
    from sqlalchemy import func, select

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Store

    name = _check_name((name or "").strip())
    if not name:
        raise SetupError("the store needs a name (e.g. 'Refurb Paris')")
    country, currency = _check_country(country), _check_currency(currency)
    now = ctx.clock.now()
    with ctx.write_session() as session:
        if session.execute(select(Store.id).where(func.lower(Store.name) == name.lower())).first():
            raise SetupError(f"a store named {name!r} already exists")
        store = Store(
            name=name,
            country=country,
            currency=currency,
            catalog_source=(catalog_source or "").strip() or None,
            created_at=now,
            updated_at=now,
        )
        session.add(store)
        session.flush()
        record_audit(session, ctx, "store.create", "store", store.id, {"name": name, "country": country})
        store_id = int(store.id)  # type: ignore[arg-type]
    return get_store(ctx, store_id)


def update_store(ctx: AppContext, store_id: int, **changes: Any) -> StoreSummary:
    """Change name, country, currency, catalog_source, catalog_options or column_roles."""
    from shelfdesk.audit import record_audit
    from shelfdesk.catalog.columns import check_roles
    from shelfdesk.catalog.detect import FeedOptions
    from shelfdesk.db.models import Store

    allowed = {"name", "country", "currency", "catalog_source", "catalog_options", "column_roles"}
    unknown = set(changes) - allowed
    if unknown:
        raise SetupError(f"cannot change {', '.join(sorted(unknown))} on a store")
    with ctx.write_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise SetupError(f"no store with id {store_id}")
        if "name" in changes:
            name = _check_name((changes["name"] or "").strip())
            if not name:
                raise SetupError("the store needs a name")
            store.name = name
        if "country" in changes:
            country = _check_country(changes["country"])
            if country != store.country and _has_backmarket_channel(session, store_id):
                raise SetupError(
                    "this store publishes to Back Market, which needs one store per country: create a new store for the other country"
                )
            store.country = country
        if "currency" in changes:
            store.currency = _check_currency(changes["currency"])
        if "catalog_source" in changes:
            store.catalog_source = (changes["catalog_source"] or "").strip() or None
        if "catalog_options" in changes:
            options = dict(changes["catalog_options"] or {})
            if options:
                FeedOptions.from_dict({"format": store.catalog_format or "csv", **options})
            store.catalog_options = options
            if options.get("format"):
                store.catalog_format = options["format"]
        if "column_roles" in changes:
            roles = check_roles(changes["column_roles"] or {})
            extra = (store.column_roles or {}).get("extra") or []
            store.column_roles = {**roles, "extra": [c for c in extra if c not in roles.values()]}
        store.updated_at = ctx.clock.now()
        record_audit(session, ctx, "store.update", "store", store_id, {"changed": sorted(changes)})
    return get_store(ctx, store_id)


def _has_backmarket_channel(session: Any, store_id: int) -> bool:
    from sqlalchemy import select

    from shelfdesk.db.models import Channel
    from shelfdesk.domain import Marketplace

    return (
        session.execute(select(Channel.id).where(Channel.store_id == store_id, Channel.marketplace == Marketplace.backmarket)).first()
        is not None
    )


def list_stores(ctx: AppContext) -> list[StoreSummary]:
    """Every store with counts, last import and channels (with their saved readiness)."""
    from sqlalchemy import func, select

    from shelfdesk.catalog.readiness import saved_readiness
    from shelfdesk.db.models import CatalogImport, Channel, MarketplaceAccount, Product, Store
    from shelfdesk.services.working_time import StoreWorkingTime

    with ctx.read_session() as session:
        stores = session.execute(select(Store).order_by(Store.name)).scalars().all()
        counts = {
            (sid, gone): n
            for sid, gone, n in session.execute(
                select(Product.store_id, Product.gone, func.count()).group_by(Product.store_id, Product.gone)
            )
        }
        latest = session.execute(select(CatalogImport.store_id, func.max(CatalogImport.id)).group_by(CatalogImport.store_id)).all()
        imports = {}
        if latest:
            ids = [i for _, i in latest]
            for record in session.execute(select(CatalogImport).where(CatalogImport.id.in_(ids))).scalars():
                imports[record.store_id] = _import_summary(record)
        channels: dict[int, list[ChannelLine]] = {}
        rows = session.execute(
            select(Channel, MarketplaceAccount.name)
            .join(MarketplaceAccount, MarketplaceAccount.id == Channel.account_id)
            .order_by(Channel.name)
        ).all()
        for channel, account_name in rows:
            channels.setdefault(channel.store_id, []).append(
                ChannelLine(
                    channel.id,
                    channel.name,
                    str(channel.marketplace),
                    channel.market,
                    channel.country,
                    channel.account_id,
                    account_name,
                    channel.enabled,
                    channel.activated_at is not None,
                    saved_readiness(channel),
                )
            )
        return [
            StoreSummary(
                s.id,
                s.name,
                s.country,
                s.currency,
                s.catalog_source,
                s.catalog_format,
                dict(s.column_roles or {}),
                counts.get((s.id, False), 0),
                counts.get((s.id, True), 0),
                imports.get(s.id),
                channels.get(s.id, []),
                int(s.safety_stock or 0),
                StoreWorkingTime.from_settings(s.settings),
            )
            for s in stores
        ]


def _import_summary(record: Any) -> ImportSummary:
    return ImportSummary(
        record.id,
        record.started_at,
        record.finished_at,
        record.source,
        record.format,
        record.rows_read,
        record.stored,
        record.rejected,
        record.gone,
        record.duration_ms,
        record.error,
        str((record.report or {}).get("outcome") or "done"),
    )


def get_store(ctx: AppContext, store_id: int) -> StoreSummary:
    for store in list_stores(ctx):
        if store.id == store_id:
            return store
    raise SetupError(f"no store with id {store_id}")


def find_store(ctx: AppContext, ref: str | int) -> StoreSummary:
    """A store by id or by name (case-insensitive)."""
    from sqlalchemy import func, select

    from shelfdesk.db.models import Store

    text = str(ref).strip()
    with ctx.read_session() as session:
        found = None
        if text.isdigit():
            found = session.execute(select(Store.id).where(Store.id == int(text))).scalar_one_or_none()
        if found is None:
            found = session.execute(select(Store.id).where(func.lower(Store.name) == text.lower())).scalar_one_or_none()
        if found is None:
            names = session.execute(select(Store.name).order_by(Store.name)).scalars().all()
            raise SetupError(f"no store {text!r} (stores: {', '.join(names) or 'none yet'})")
    return get_store(ctx, int(found))


def import_history(ctx: AppContext, store_id: int, limit: int = 20) -> list[ImportSummary]:
    from sqlalchemy import select

    from shelfdesk.db.models import CatalogImport

    with ctx.read_session() as session:
        rows = session.execute(
            select(CatalogImport).where(CatalogImport.store_id == store_id).order_by(CatalogImport.id.desc()).limit(limit)
        ).scalars()
        return [_import_summary(r) for r in rows]
