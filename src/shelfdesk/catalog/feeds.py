"""Scheduled refresh of a store's catalog source and its optional stock feed.

Every store with a catalog source gets its catalog fetched again on its own
interval (default 15 minutes); a store may also have a stock feed (SKU,
quantity, optional price) polled every minute. One workspace job, ``feeds``
(every 5 s, under the same leases as every job, on the Jobs screen), looks
at each store's feeds and refreshes those that are due.

An unchanged feed costs one request and no import: URLs are fetched with
``If-None-Match``/``If-Modified-Since`` from the last answer, and a body whose
SHA-256 equals the last applied one is not imported. A changed catalog goes
through the catalog import (per-row rejects, gone flags, only changed rows
written, the stock pusher told); a changed stock feed through
:func:`services.stock.set_stock`. A source that fails (unreachable, HTTP
error, an import that refused the file) keeps the last good catalog, records
the reason (an alert names the store, the source and why) and is retried with
a growing delay (``claims.backoff``), never later than its interval.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.errors import SetupError

if TYPE_CHECKING:
    import httpx

    from shelfdesk.context import AppContext

log = logging.getLogger("shelfdesk.catalog")

CATALOG, STOCK = "catalog", "stock"
DEFAULT_SECONDS = {CATALOG: 15 * 60, STOCK: 60}
#: The first retry of a failing source comes after this long, then twice as long each time (up to its interval).
FIRST_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class FeedView:
    """One feed of a store, as the CLI and alerts show it (the source's secrets masked)."""

    store_id: int
    store: str
    kind: str
    source: str | None  #: masked
    interval_seconds: int
    enabled: bool
    checked_at: datetime | None
    changed_at: datetime | None
    next_at: datetime | None
    failures: int
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


@dataclass
class RefreshResult:
    store_id: int
    kind: str
    outcome: str  #: "not modified", "unchanged", "applied", "failed", "no source"
    detail: str = ""
    changed: int = 0  #: products whose stock or content changed


def _row(session: Any, store_id: int, kind: str, now: datetime) -> Any:
    from sqlalchemy import select

    from shelfdesk.db.models import StoreFeed

    row = session.execute(select(StoreFeed).where(StoreFeed.store_id == store_id, StoreFeed.kind == kind)).scalars().first()
    if row is None:
        row = StoreFeed(store_id=store_id, kind=kind, interval_seconds=DEFAULT_SECONDS[kind], updated_at=now)
        session.add(row)
        session.flush()
    return row


def set_feed(
    ctx: AppContext, store_id: int, kind: str, *, source: str | None = None, every: int | None = None, enabled: bool | None = None
) -> None:
    """Change a store's feed: its source (stock feeds; '' removes it), interval (seconds), on or off."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Store

    ctx.require_write()
    if kind not in DEFAULT_SECONDS:
        raise SetupError(f"unknown feed {kind!r}: catalog or stock")
    if every is not None and not 10 <= every <= 7 * 86400:
        raise SetupError("a feed's interval must be between 10 seconds and 7 days")
    if kind == CATALOG and source is not None:
        raise SetupError("the catalog feed reads the store's catalog source: change it with shelfdesk store edit --source")
    now = ctx.clock.now()
    with ctx.write_session() as session:
        if session.get(Store, store_id) is None:
            raise SetupError(f"no store with id {store_id}")
        row = _row(session, store_id, kind, now)
        if source is not None:
            row.source = source.strip() or None
            row.content_hash = row.etag = row.last_modified = None
            row.next_at, row.failures, row.error = None, 0, None
        if every is not None:
            row.interval_seconds = every
            row.next_at = None
        if enabled is not None:
            row.enabled = enabled
        row.updated_at = now
        record_audit(
            session,
            ctx,
            "feed.edit",
            "store",
            store_id,
            {"kind": kind, "every": every, "enabled": enabled, "source": _masked(source) if source else source},
        )


def _masked(source: str | None) -> str | None:
    from shelfdesk.secrets import mask_url

    return mask_url(source) if source else source


def list_feeds(ctx: AppContext) -> list[FeedView]:
    """Every store's catalog feed (stores with a catalog source) and stock feed (where one is set)."""
    from sqlalchemy import select

    from shelfdesk.db.models import Store, StoreFeed

    with ctx.read_session() as session:
        stores = session.execute(select(Store.id, Store.name, Store.catalog_source).order_by(Store.id)).all()
        rows = {(r.store_id, r.kind): r for r in session.execute(select(StoreFeed)).scalars()}
        out = []
        for store_id, name, catalog_source in stores:
            for kind in (CATALOG, STOCK):
                row = rows.get((store_id, kind))
                source = catalog_source if kind == CATALOG else (row.source if row else None)
                if source is None:
                    continue
                out.append(
                    FeedView(
                        store_id,
                        name,
                        kind,
                        _masked(source),
                        row.interval_seconds if row else DEFAULT_SECONDS[kind],
                        row.enabled if row else True,
                        row.checked_at if row else None,
                        row.changed_at if row else None,
                        row.next_at if row else None,
                        row.failures if row else 0,
                        row.error if row else None,
                    )
                )
    return out


def refresh_feed(ctx: AppContext, store_id: int, kind: str, *, transport: httpx.BaseTransport | None = None) -> RefreshResult:
    """Fetch one feed now; apply it when its content changed. Never raises for a failing source."""
    from shelfdesk.catalog.errors import CatalogError, SourceError
    from shelfdesk.catalog.source import open_source
    from shelfdesk.db.models import Store

    ctx.require_write()
    now = ctx.clock.now()
    with ctx.write_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise SetupError(f"no store with id {store_id}")
        row = _row(session, store_id, kind, now)
        source = store.catalog_source if kind == CATALOG else row.source
        etag, modified, known = row.etag, row.last_modified, row.content_hash
    if not source:
        return RefreshResult(store_id, kind, "no source")
    feed = None
    try:
        feed = open_source(
            source,
            download_dir=ctx.paths.home / "downloads",
            clock=ctx.clock,
            transport=transport,
            etag=etag if known else None,
            last_modified=modified if known else None,
        )
        if feed.not_modified:
            _record(ctx, store_id, kind, ok=True, etag=feed.etag, modified=feed.last_modified)
            return RefreshResult(store_id, kind, "not modified", "the source answered 304: nothing fetched")
        digest = _sha256(feed.path)
        if digest == known:
            _record(ctx, store_id, kind, ok=True, etag=feed.etag, modified=feed.last_modified)
            return RefreshResult(store_id, kind, "unchanged", "same content as the last one applied")
        changed = _apply(ctx, store_id, kind, feed.path, transport)
    except (SourceError, CatalogError, OSError, UnicodeDecodeError) as exc:
        reason = str(exc) if not isinstance(exc, UnicodeDecodeError) else "the stock feed is not UTF-8 text"
        _record(ctx, store_id, kind, ok=False, error=reason)
        log.warning("%s feed of store %s failed: %s", kind, store_id, reason)
        return RefreshResult(store_id, kind, "failed", reason)
    finally:
        if feed is not None:
            feed.cleanup()
    _record(ctx, store_id, kind, ok=True, etag=feed.etag, modified=feed.last_modified, digest=digest, changed=True)
    return RefreshResult(store_id, kind, "applied", f"{changed:,} product(s) changed", changed)


def _sha256(path: Any) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _apply(ctx: AppContext, store_id: int, kind: str, path: Any, transport: httpx.BaseTransport | None) -> int:
    """Import the changed feed; raises :class:`CatalogError` with the reason when it was refused."""
    from shelfdesk.catalog.errors import CatalogError

    if kind == STOCK:
        from shelfdesk.services.stock import set_stock_text

        with open(path, encoding="utf-8-sig") as fh:
            result = set_stock_text(ctx, store_id, fh.read(), source="stock feed")
        if result.errors or result.unknown:
            log.info("stock feed of store %s: %s line(s) refused, %s unknown SKU(s)", store_id, len(result.errors), len(result.unknown))
        return result.changed
    from shelfdesk.catalog.importer import import_catalog

    # The store's own source again (its saved format, options and roles): the import records it by name.
    imported = import_catalog(ctx, store_id, transport=transport)
    if imported.error is not None:
        raise CatalogError(imported.error)
    return imported.stored


def _record(
    ctx: AppContext,
    store_id: int,
    kind: str,
    *,
    ok: bool,
    error: str | None = None,
    etag: str | None = None,
    modified: str | None = None,
    digest: str | None = None,
    changed: bool = False,
) -> None:
    from shelfdesk.claims import backoff

    now = ctx.clock.now()
    with ctx.write_session() as session:
        row = _row(session, store_id, kind, now)
        row.checked_at = now
        if ok:
            row.failures, row.error = 0, None
            row.etag, row.last_modified = etag, modified
            if digest is not None:
                row.content_hash = digest
            if changed:
                row.changed_at = now
            row.next_at = now + timedelta(seconds=row.interval_seconds)
        else:
            row.failures += 1
            row.error = (error or "failed")[:500]
            delay = backoff(row.failures, random.Random(), base=FIRST_RETRY_SECONDS, cap=float(row.interval_seconds), jitter=0.25)
            row.next_at = now + timedelta(seconds=delay)
        row.updated_at = now


def refresh_due(ctx: AppContext, channel_id: int | None = None) -> dict[str, int]:
    """The ``feeds`` job: refresh every enabled feed whose time has come."""
    now = ctx.clock.now()
    counts: dict[str, int] = {}
    for view in list_feeds(ctx):
        if not view.enabled or (view.next_at is not None and view.next_at > now):
            continue
        result = refresh_feed(ctx, view.store_id, view.kind)
        key = {
            "not modified": "unchanged",
            "unchanged": "unchanged",
            "applied": f"{view.kind}_applied",
            "failed": f"{view.kind}_failed",
        }.get(result.outcome)
        if key:
            counts[key] = counts.get(key, 0) + 1
    if any(key.endswith("_applied") for key in counts):
        from shelfdesk.publishing.pusher import push_waiting

        push_waiting(ctx)  # what changed reaches the marketplaces now, not at the pusher's next run
    return counts
