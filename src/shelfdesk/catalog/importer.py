"""The catalog import: a feed in, products upserted by SKU, a record of what happened.

Rows are streamed from the feed, validated one by one and written in batches
with Core upserts (never ORM objects, which cost about 40 µs each to build), each batch in its
own short transaction, so memory stays flat and the console, the CLI and a
worker can keep using the database during a long import.

* Valid rows are stored even when others fail; every rejected row is kept in
  ``catalog_import_rejections`` with its line, field, reason and raw values.
* A SKU seen twice in one feed keeps its first row; the later ones are
  rejected. Duplicates are found through ``products.last_import_id`` (the
  import that last saw a SKU), so no set of every SKU is held in memory.
* ``updated_at`` only moves when a product's content changed, so an "update"
  publication can send just what changed.
* Products missing from a complete feed are flagged ``gone`` (never deleted),
  so their offers go to quantity 0 at the next publication. A product whose
  row was rejected but whose SKU could be read is still in the feed: it keeps
  its stored values and is not flagged gone.

The feed is read twice. The first pass (*checking*) writes no product: it
validates every row, records the rejections, and decides whether the feed is
whole and plausible. A feed that ends inside a record or cannot be read to its
end (:attr:`ImportOutcome.TRUNCATED`), or that would reject or flag gone more
than a share of the catalog at once (:attr:`ImportOutcome.REFUSED`, the
workspace setting ``catalog_implausible_share``) stops there: nothing is
overwritten, nothing flagged gone, the last good catalog stays, and the result
says why. Only then does the second pass (*writing*) store the rows. An
operator who has read the report can force the import (``force=True``): rows
that parsed whole are stored, and products are flagged gone only when the file
ended cleanly. A scheduled refresh never forces; it turns these two outcomes
into an alert.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.columns import ROLES, check_roles, inspect_feed
from shelfdesk.catalog.detect import FeedOptions, detect_options
from shelfdesk.catalog.errors import CatalogError, FeedError, FeedTruncated, SourceError
from shelfdesk.catalog.readers import CountingFile, RawRow, RowError, read_rows
from shelfdesk.catalog.source import LocalFeed, open_source
from shelfdesk.catalog.validation import ProductRow, RowRejected, validate_row
from shelfdesk.publishing.dirty import REASON_CATALOG, mark_dirty
from shelfdesk.publishing.stock import open_order_units

if TYPE_CHECKING:
    import httpx

    from shelfdesk.context import AppContext

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
#: Fewer rejected or disappearing products than this never count as implausible (a small catalog
#: losing two of its five products is an edit, not an accident).
IMPLAUSIBLE_FLOOR = 10
#: Rejections returned with the result (all of them are in the database).
SAMPLE_REJECTIONS = 20

#: Product columns each role fills; unmapped roles leave existing values alone.
_ROLE_COLUMNS = {"ean": "ean", "title": "title", "brand": "brand", "category": "category_path", "price": "price", "stock": "stock"}
_CONTENT = ("ean", "title", "brand", "category_path", "price", "stock", "attributes")


class ImportOutcome(StrEnum):
    """How an import ended, as a value a scheduled job can turn into an alert."""

    DONE = "done"  #: read to its end and stored (some rows may have been rejected)
    FORCED = "forced"  #: refused or truncated, then stored because the operator forced it
    TRUNCATED = "truncated"  #: the file ends inside a record or cannot be read to its end: nothing stored
    REFUSED = "refused"  #: too many rows rejected or products gone at once: nothing stored
    CANCELLED = "cancelled"  #: stopped by the operator; rows written before stay, nothing flagged gone
    FAILED = "failed"  #: the source could not be fetched or opened, or it holds no valid product

    @property
    def needs_force(self) -> bool:
        """True when nothing was stored because the feed looked damaged: read the report, then force."""
        return self in (ImportOutcome.TRUNCATED, ImportOutcome.REFUSED)


@dataclass(frozen=True)
class ImportProgress:
    """Where a running import is; ``bytes_total`` is 0 when unknown.

    The feed is read twice (``phase`` "checking", then "writing"): bytes count
    both passes, so ``fraction`` runs once from 0 to 1.
    """

    rows_read: int
    stored: int
    rejected: int
    bytes_read: int
    bytes_total: int
    phase: str = "writing"

    @property
    def fraction(self) -> float | None:
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_read / self.bytes_total)


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str
    field: str | None = None
    sku: str | None = None


@dataclass(frozen=True)
class ImportResult:
    """What an import did; ``error`` says why it stopped early or changed nothing."""

    import_id: int
    store_id: int
    source: str
    format: str | None
    rows_read: int = 0
    stored: int = 0
    created: int = 0
    rejected: int = 0
    gone: int = 0
    duration_ms: int = 0
    error: str | None = None
    cancelled: bool = False
    reasons: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    outcome: ImportOutcome = ImportOutcome.DONE
    #: Products a refused or truncated import would have flagged gone (0 otherwise).
    would_flag_gone: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def needs_force(self) -> bool:
        return self.outcome.needs_force

    @property
    def updated(self) -> int:
        return self.stored - self.created


class _Cancelled(Exception):
    pass


@dataclass
class _Run:
    """Counters and settings of one import while it runs (both passes)."""

    ctx: AppContext
    store_id: int
    import_id: int
    roles: dict[str, str]
    now: datetime
    progress: Callable[[ImportProgress], None] | None
    should_cancel: Callable[[], bool] | None
    counting: CountingFile | None = None
    bytes_total: int = 0
    bytes_done: int = 0  #: bytes of the passes already finished
    phase: str = "checking"
    rows_read: int = 0
    stored: int = 0
    created: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    sample: list[Rejection] = field(default_factory=list)
    batch: dict[str, ProductRow] = field(default_factory=dict)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    #: SKU -> line of every valid row (the first pass finds duplicates and what would be gone with it).
    valid: dict[str, int] = field(default_factory=dict)
    #: SKUs of rows rejected by validation: still in the feed, so never flagged gone.
    rejected_skus: set[str] = field(default_factory=set)
    #: Lines of every rejected row, skipped by the writing pass.
    skip: set[int] = field(default_factory=set)

    @property
    def compared(self) -> list[str]:
        """Product columns whose change moves ``updated_at``: the mapped roles' and the attributes."""
        return ["attributes", *(column for role, column in _ROLE_COLUMNS.items() if role in self.roles)]

    # ---------------------------------------------------------------- passes

    def _rows(self, path: Path, options: FeedOptions) -> Iterator[RawRow | RowError]:
        with path.open("rb") as raw:
            self.counting = CountingFile(raw)
            yield from read_rows(self.counting, options)  # type: ignore[arg-type]

    def check(self, path: Path, options: FeedOptions) -> FeedError | None:
        """The first pass: validate every row, record rejections, write no product.

        Returns the damage that stopped the read (None when the file ended cleanly).
        """
        stopped: FeedError | None = None
        try:
            for item in self._rows(path, options):
                self.take(item)
        except FeedError as exc:
            stopped = exc
        self.flush_rejections()
        self.bytes_done = self.counting.bytes_read if self.counting is not None else 0
        self.counting = None
        self.report()
        return stopped

    def write(self, path: Path, options: FeedOptions) -> None:
        """The second pass: store the rows the first one found valid, in batches."""
        self.phase = "writing"
        try:
            for item in self._rows(path, options):
                if isinstance(item, RawRow) and item.line not in self.skip:
                    row = validate_row(item.line, item.values, self.roles)
                    self.batch[row.sku] = row
                    if len(self.batch) >= BATCH_SIZE:
                        self.flush()
        except FeedError:
            pass  # the first pass met it too: forced, the rows before it are stored
        finally:
            self.flush(check_cancel=False)  # rows read before a cancel are kept

    # ---------------------------------------------------------------- rows

    def reject(self, line: int, reason: str, field_name: str | None, sku: str | None, raw: dict[str, Any] | None) -> None:
        self.rejected += 1
        self.skip.add(line)
        self.reasons[field_name or "row"] += 1
        if len(self.sample) < SAMPLE_REJECTIONS:
            self.sample.append(Rejection(line, reason, field_name, sku))
        self.rejections.append({"import_id": self.import_id, "line": line, "sku": sku, "field": field_name, "reason": reason, "raw": raw})

    def take(self, item: RawRow | RowError) -> None:
        """Check one row of the first pass."""
        self.rows_read += 1
        if isinstance(item, RowError):
            sku = (item.values.get(self.roles["sku"]) or "").strip()[:128] or None
            if sku:
                self.rejected_skus.add(sku)
            self.reject(item.line, item.reason, None, sku, item.raw or None)
        else:
            try:
                row = validate_row(item.line, item.values, self.roles)
            except RowRejected as exc:
                sku = (item.values.get(self.roles["sku"]) or "").strip()[:128] or None
                if sku:
                    self.rejected_skus.add(sku)
                self.reject(item.line, exc.reason, exc.field, sku, item.values)
            else:
                first = self.valid.get(row.sku)
                if first is not None:
                    self.reject(
                        row.line, f"duplicate SKU {row.sku!r} in the file (first on line {first}, kept)", "sku", row.sku, item.values
                    )
                else:
                    self.valid[row.sku] = row.line
        if self.rows_read % BATCH_SIZE == 0:
            self.flush_rejections()
            self.report()
            if self.should_cancel is not None and self.should_cancel():
                raise _Cancelled

    def flush_rejections(self) -> None:
        from sqlalchemy import insert

        from shelfdesk.db.models import CatalogImportRejection

        if self.rejections:
            with self.ctx.write_session() as session:
                session.execute(insert(CatalogImportRejection.__table__), self.rejections)
            self.rejections = []

    # ---------------------------------------------------------------- the verdict

    def would_flag_gone(self) -> tuple[int, int]:
        """(products a clean end would flag gone, products not gone now)."""
        from sqlalchemy import select

        from shelfdesk.db.models import Product

        products = Product.__table__
        gone = live = 0
        query = select(products.c.sku).where(products.c.store_id == self.store_id, products.c.gone.is_(False))
        with self.ctx.read_session() as session:
            for (sku,) in session.execute(query):
                live += 1
                if sku not in self.valid and sku not in self.rejected_skus:
                    gone += 1
        return gone, live

    def implausible(self, gone: int, live: int, share: float) -> str | None:
        """Why this feed looks like an accident rather than the new catalog, or None.

        Only a store that has a catalog to lose is protected: a first import stores what it can.
        """
        limit = f"more than the {share:.0%} limit (catalog_implausible_share in config.toml)"
        if not live:
            return None  # no catalog yet: storing the valid rows of a messy first feed loses nothing
        if self.rejected >= IMPLAUSIBLE_FLOOR and self.rejected > share * self.rows_read:
            return f"{self.rejected:,} of {self.rows_read:,} rows ({self.rejected / self.rows_read:.0%}) were rejected, {limit}"
        if gone >= IMPLAUSIBLE_FLOOR and gone > share * live:
            return f"{gone:,} of {live:,} products ({gone / live:.0%}) are missing from the feed and would be flagged gone, {limit}"
        return None

    # ---------------------------------------------------------------- batches

    def flush(self, *, check_cancel: bool = True) -> None:
        """Write the batch in one short transaction."""
        from sqlalchemy import select, update

        from shelfdesk.db.models import Product
        from shelfdesk.db.upsert import upsert_rows

        products = Product.__table__
        rows = list(self.batch.values())
        self.batch = {}
        if rows:
            with self.ctx.write_session() as session:
                query = select(products.c.sku, products.c.updated_at, products.c.gone, *(products.c[name] for name in _CONTENT)).where(
                    products.c.store_id == self.store_id, products.c.sku.in_([r.sku for r in rows])
                )
                existing = {rec.sku: rec for rec in session.execute(query)}
                values, unchanged = [], []
                moved: list[str] = []  #: SKUs whose publishable quantity may change
                for row in rows:
                    old = existing.get(row.sku)
                    if old is None:
                        self.created += 1
                    elif not self._changed(row, old):
                        unchanged.append(row.sku)  # the usual daily case: only mark it seen
                        continue
                    values.append(self._values(row))
                    if old is None or old.gone or ("stock" in self.roles and old.stock != row.stock):
                        moved.append(row.sku)
                if values:
                    upsert_rows(session, products, values, ["store_id", "sku"], self._update_columns())
                if moved:
                    mark_dirty(session, self.store_id, moved, REASON_CATALOG, self.now)
                if unchanged:
                    session.execute(
                        update(products)
                        .where(products.c.store_id == self.store_id, products.c.sku.in_(unchanged))
                        .values(last_import_id=self.import_id)
                    )
                self.stored += len(values) + len(unchanged)
        self.report()
        if check_cancel and self.should_cancel is not None and self.should_cancel():
            raise _Cancelled

    def _update_columns(self) -> list[str]:
        columns = ["attributes", "last_seen_at", "gone", "gone_at", "updated_at", "last_import_id"]
        for role, column in _ROLE_COLUMNS.items():
            if role in self.roles:
                columns.append(column)
        if "stock" in self.roles:
            columns.append("stock_imported_at")
        return columns

    def _content(self, row: ProductRow) -> dict[str, Any]:
        return {
            "ean": row.ean,
            "title": row.title,
            "brand": row.brand,
            "category_path": row.category_path,
            "price": row.price,
            "stock": row.stock,
            "attributes": row.attributes,
        }

    def _changed(self, row: ProductRow, old: Any) -> bool:
        """True when the row brings something new (a gone product coming back counts)."""
        if old.gone:
            return True
        content = self._content(row)
        return any(getattr(old, name) != content[name] for name in self.compared)

    def _values(self, row: ProductRow) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "sku": row.sku,
            **self._content(row),
            "stock_imported_at": self.now,
            "first_seen_at": self.now,
            "last_seen_at": self.now,
            "gone": False,
            "gone_at": None,
            "updated_at": self.now,
            "last_import_id": self.import_id,
        }

    def mark_seen(self) -> None:
        """Stamp every product this import saw (unchanged ones were only given the import id).

        Products whose row was rejected are then given the import id too, so
        they are not flagged gone, but keep their stamps and values.
        """
        from sqlalchemy import update

        from shelfdesk.db.models import Product

        products = Product.__table__
        stamps: dict[str, Any] = {"last_seen_at": self.now}
        if "stock" in self.roles:
            stamps["stock_imported_at"] = self.now
        kept = sorted(self.rejected_skus - self.valid.keys())
        with self.ctx.write_session() as session:
            session.execute(
                update(products).where(products.c.store_id == self.store_id, products.c.last_import_id == self.import_id).values(**stamps)
            )
            for start in range(0, len(kept), 500):
                session.execute(
                    update(products)
                    .where(products.c.store_id == self.store_id, products.c.sku.in_(kept[start : start + 500]))
                    .values(last_import_id=self.import_id)
                )
            if "stock" in self.roles:  # open orders placed before this import stop holding units: push the result
                mark_dirty(session, self.store_id, open_order_units(session, self.store_id), REASON_CATALOG, self.now)

    def report(self) -> None:
        if self.progress is not None:
            read = self.bytes_done + (self.counting.bytes_read if self.counting is not None else 0)
            read = min(read, self.bytes_total) if self.bytes_total else read
            self.progress(ImportProgress(self.rows_read, self.stored, self.rejected, read, self.bytes_total, self.phase))


def import_catalog(
    ctx: AppContext,
    store_id: int,
    source: str | None = None,
    *,
    format: str | None = None,
    roles: dict[str, str] | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    transport: httpx.BaseTransport | None = None,
    force: bool = False,
    implausible_share: float | None = None,
) -> ImportResult:
    """Import ``source`` (default: the store's saved source) into the store's catalog.

    ``roles`` overrides the store's column roles (and is saved). Raises
    :class:`CatalogError` for an unknown store or bad arguments; a feed that
    cannot be fetched or read still gets its import record, and the result's
    ``error`` says why and its ``outcome`` what happened (see the module
    docstring). ``force`` stores a feed refused as truncated or implausible;
    ``implausible_share`` overrides the workspace setting.
    """
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import CatalogImport, Store

    ctx.require_write()
    if format is not None and format not in ("csv", "json", "jsonl", "xml"):
        raise CatalogError(f"unknown format {format!r}: csv, json, jsonl or xml")
    share = ctx.settings.catalog_implausible_share if implausible_share is None else implausible_share
    with ctx.read_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise CatalogError(f"no store with id {store_id}")
        saved_source = store.catalog_source
        saved_options = dict(store.catalog_options or {})
        saved_roles = {k: v for k, v in (store.column_roles or {}).items() if k in ROLES}
    source = (source or saved_source or "").strip()
    if not source:
        raise CatalogError("this store has no catalog source yet: give a file path or an http(s) URL")
    same_source = source == (saved_source or "")
    started = ctx.clock.monotonic()
    now = ctx.clock.now()
    with ctx.write_session() as session:
        record = CatalogImport(store_id=store_id, started_at=now, source=_shown(source), actor=ctx.actor)
        session.add(record)
        session.flush()
        import_id = int(record.id)  # type: ignore[arg-type]

    feed: LocalFeed | None = None
    run: _Run | None = None
    options: FeedOptions | None = None
    chosen_roles: dict[str, str] = {}
    error: str | None = None
    outcome = ImportOutcome.FAILED
    complete = False
    would_gone = 0
    columns_report: list[dict[str, Any]] = []
    try:
        feed = open_source(source, download_dir=ctx.paths.home / "downloads", clock=ctx.clock, transport=transport)
        options = detect_options(feed.path, format_hint=format, saved=saved_options if same_source and not format else None)
        inspected = inspect_feed(feed.path, options, roles=None)
        columns = [c.name for c in inspected.columns]
        columns_report = [{"name": c.name, "samples": list(c.samples)} for c in inspected.columns]
        if roles:
            chosen_roles = check_roles(roles, columns or None)
        elif saved_roles and (same_source or set(saved_roles.values()) <= set(columns)):
            chosen_roles = check_roles(saved_roles, columns or None)
        else:
            suggested = inspected.roles
            if "sku" not in suggested:
                if not columns and inspected.problems:
                    raise FeedError(inspected.problems[0])
                raise CatalogError(
                    f"no SKU column found among: {', '.join(columns) or 'no columns'}; say which column holds the SKU (column roles)"
                )
            chosen_roles = suggested
        run = _Run(ctx, store_id, import_id, chosen_roles, now, progress, should_cancel, bytes_total=feed.size * 2)
        stopped = run.check(feed.path, options)
        kept = "nothing was stored and nothing flagged gone: the last good catalog stays"
        if not run.valid:
            if stopped is not None:
                outcome, error = ImportOutcome.TRUNCATED, f"{stopped}; {kept}"
            else:
                error = (
                    "no valid product in the feed: nothing was flagged gone"
                    if run.rows_read
                    else "the feed holds no products: nothing was flagged gone"
                )
        else:
            would_gone, live = run.would_flag_gone()
            if stopped is not None:
                would_gone = 0  # a feed not read to its end never flags anything gone
            why = run.implausible(would_gone, live, share)
            if stopped is not None and not force:
                outcome = ImportOutcome.TRUNCATED
                error = (
                    f"{stopped}; the file was not read to its end, so {kept}. If the file is right, force the "
                    f"import after reading its report: the {len(run.valid):,} whole rows before it are stored "
                    "and nothing is flagged gone"
                )
            elif why is not None and not force:
                outcome = ImportOutcome.REFUSED
                error = f"refused as implausible: {why}; {kept}. If the feed is right, force the import after reading its report"
            else:
                run.write(feed.path, options)
                complete = stopped is None
                outcome = ImportOutcome.FORCED if (stopped is not None or why is not None) else ImportOutcome.DONE
                would_gone = 0
    except _Cancelled:
        outcome = ImportOutcome.CANCELLED
        error = "cancelled by the operator; products written so far were stored, nothing was flagged gone"
    except FeedError as exc:
        error = f"{exc}; nothing was imported"
        outcome = ImportOutcome.TRUNCATED if isinstance(exc, FeedTruncated) else ImportOutcome.FAILED
    except (SourceError, CatalogError) as exc:
        error = str(exc)
    except Exception as exc:
        _finish_failed(ctx, import_id, f"internal error: {exc}", started)
        raise
    finally:
        if feed is not None:
            feed.cleanup()

    gone = 0
    if run is not None and (run.stored or outcome in (ImportOutcome.DONE, ImportOutcome.FORCED)):
        run.mark_seen()
    if complete and run is not None and run.stored:
        gone = _flag_gone(ctx, store_id, import_id, now)
    duration_ms = int(round((ctx.clock.monotonic() - started) * 1000))
    counts = run or _Run(ctx, store_id, import_id, {}, now, None, None)
    report = {
        "options": options.to_dict() if options else {},
        "roles": chosen_roles,
        "columns": columns_report,
        "reasons": dict(counts.reasons),
        "created": counts.created,
        "updated": counts.stored - counts.created,
        "complete": complete,
        "outcome": outcome.value,
        "forced": force,
        "would_flag_gone": would_gone,
    }
    with ctx.write_session() as session:
        record = session.get(CatalogImport, import_id)
        assert record is not None
        record.finished_at = ctx.clock.now()
        record.format = options.format if options else None
        record.rows_read, record.stored, record.rejected, record.gone = (counts.rows_read, counts.stored, counts.rejected, gone)
        record.duration_ms = duration_ms
        record.error = error
        record.report = report
        if options is not None and chosen_roles and (same_source or not saved_source or roles):
            store = session.get(Store, store_id)
            assert store is not None
            if not saved_source:
                store.catalog_source = source
            if store.catalog_source == source:
                store.catalog_format = options.format
                store.catalog_options = options.to_dict()
                store.column_roles = {
                    **chosen_roles,
                    "extra": [c["name"] for c in columns_report if c["name"] not in chosen_roles.values()],
                }
                store.updated_at = ctx.clock.now()
        record_audit(
            session,
            ctx,
            "catalog.import",
            "store",
            store_id,
            {
                "import_id": import_id,
                "source": _shown(source),
                "stored": counts.stored,
                "rejected": counts.rejected,
                "gone": gone,
                "error": error,
                "outcome": outcome.value,
                "forced": force,
            },
        )
    log.info(
        "catalog import %s into store %s: %s, %s read, %s stored, %s rejected, %s gone%s",
        import_id,
        store_id,
        outcome.value,
        counts.rows_read,
        counts.stored,
        counts.rejected,
        gone,
        f" ({error})" if error else "",
    )
    return ImportResult(
        import_id,
        store_id,
        _shown(source),
        options.format if options else None,
        counts.rows_read,
        counts.stored,
        counts.created,
        counts.rejected,
        gone,
        duration_ms,
        error,
        outcome is ImportOutcome.CANCELLED,
        dict(counts.reasons),
        list(counts.sample),
        chosen_roles,
        outcome,
        would_gone,
    )


def _flag_gone(ctx: AppContext, store_id: int, import_id: int, now: datetime) -> int:
    """Flag every product of the store this import did not see; returns how many."""
    from sqlalchemy import or_, select, update

    from shelfdesk.db.models import Product

    products = Product.__table__
    with ctx.write_session() as session:
        unseen = (
            products.c.store_id == store_id,
            products.c.gone.is_(False),
            or_(products.c.last_import_id.is_(None), products.c.last_import_id != import_id),
        )
        mark_dirty(session, store_id, session.execute(select(products.c.sku).where(*unseen)).scalars(), REASON_CATALOG, now)
        result = session.execute(update(products).where(*unseen).values(gone=True, gone_at=now, updated_at=now))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _finish_failed(ctx: AppContext, import_id: int, error: str, started: float) -> None:
    from shelfdesk.db.models import CatalogImport

    try:
        with ctx.write_session() as session:
            record = session.get(CatalogImport, import_id)
            if record is not None:
                record.finished_at = ctx.clock.now()
                record.error = error[:2000]
                record.duration_ms = int(round((ctx.clock.monotonic() - started) * 1000))
    except Exception:  # pragma: no cover - the original error matters more
        log.exception("could not record the failure of import %s", import_id)


def _shown(source: str) -> str:
    """The source as recorded and displayed: a password in a URL is masked."""
    from shelfdesk.secrets import mask_url

    return mask_url(source)


def import_rejections(ctx: AppContext, import_id: int, *, after_line: int = 0, after_id: int = 0, limit: int = 200) -> list[Rejection]:
    """Rejected rows of an import in line order, keyset-paged by (line, id)."""
    from sqlalchemy import and_, or_, select

    from shelfdesk.db.models import CatalogImportRejection as R

    table = R.__table__
    query = (
        select(table.c.id, table.c.line, table.c.reason, table.c.field, table.c.sku)
        .where(table.c.import_id == import_id)
        .where(or_(table.c.line > after_line, and_(table.c.line == after_line, table.c.id > after_id)))
        .order_by(table.c.line, table.c.id)
        .limit(limit)
    )
    with ctx.read_session() as session:
        return [Rejection(r.line, r.reason, r.field, r.sku) for r in session.execute(query)]
