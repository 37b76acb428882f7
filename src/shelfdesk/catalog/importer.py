"""The catalog import: a feed in, products upserted by SKU, a record of what happened.

Rows are streamed from the feed, validated one by one and written in batches
with Core upserts (never ORM objects: measurements.md §4), each batch in its
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
  so their offers go to quantity 0 at the next publication. A feed that could
  not be read to its end, was cancelled, or yielded no valid row flags
  nothing: a truncated download must not take a whole catalog offline.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.columns import ROLES, check_roles, inspect_feed
from shelfdesk.catalog.detect import FeedOptions, detect_options
from shelfdesk.catalog.errors import CatalogError, FeedError, SourceError
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
#: Rejections returned with the result (all of them are in the database).
SAMPLE_REJECTIONS = 20

#: Product columns each role fills; unmapped roles leave existing values alone.
_ROLE_COLUMNS = {"ean": "ean", "title": "title", "brand": "brand", "category": "category_path",
                 "price": "price", "stock": "stock"}  # fmt: skip
_CONTENT = ("ean", "title", "brand", "category_path", "price", "stock", "attributes")


@dataclass(frozen=True)
class ImportProgress:
    """Where a running import is; ``bytes_total`` is 0 when unknown."""

    rows_read: int
    stored: int
    rejected: int
    bytes_read: int
    bytes_total: int

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

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def updated(self) -> int:
        return self.stored - self.created


class _Cancelled(Exception):
    pass


@dataclass
class _Run:
    """Counters and settings of one import while it runs."""

    ctx: AppContext
    store_id: int
    import_id: int
    roles: dict[str, str]
    now: datetime
    progress: Callable[[ImportProgress], None] | None
    should_cancel: Callable[[], bool] | None
    counting: CountingFile | None = None
    bytes_total: int = 0
    rows_read: int = 0
    stored: int = 0
    created: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    sample: list[Rejection] = field(default_factory=list)
    batch: dict[str, ProductRow] = field(default_factory=dict)
    rejections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def compared(self) -> list[str]:
        """Product columns whose change moves ``updated_at``: the mapped roles' and the attributes."""
        return ["attributes", *(column for role, column in _ROLE_COLUMNS.items() if role in self.roles)]

    # ---------------------------------------------------------------- rows

    def reject(self, line: int, reason: str, field_name: str | None, sku: str | None, raw: dict[str, Any] | None) -> None:
        self.rejected += 1
        self.reasons[field_name or "row"] += 1
        if len(self.sample) < SAMPLE_REJECTIONS:
            self.sample.append(Rejection(line, reason, field_name, sku))
        self.rejections.append({"import_id": self.import_id, "line": line, "sku": sku, "field": field_name,
                                "reason": reason, "raw": raw})  # fmt: skip

    def take(self, item: RawRow | RowError) -> None:
        self.rows_read += 1
        if isinstance(item, RowError):
            self.reject(item.line, item.reason, None, None, item.raw or None)
            return
        try:
            row = validate_row(item.line, item.values, self.roles)
        except RowRejected as exc:
            sku = (item.values.get(self.roles["sku"]) or "").strip() or None
            self.reject(item.line, exc.reason, exc.field, sku[:128] if sku else None, item.values)
            return
        first = self.batch.get(row.sku)
        if first is not None:
            self.reject(row.line, f"duplicate SKU {row.sku!r} in the file (first on line {first.line}, kept)",
                        "sku", row.sku, item.values)  # fmt: skip
            return
        self.batch[row.sku] = row
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    # ---------------------------------------------------------------- batches

    def flush(self, *, check_cancel: bool = True) -> None:
        """Write the batch and the pending rejections in one short transaction."""
        from sqlalchemy import insert, select, update

        from shelfdesk.db.models import CatalogImportRejection, Product
        from shelfdesk.db.upsert import upsert_rows

        products = Product.__table__
        rows = list(self.batch.values())
        self.batch = {}
        with self.ctx.write_session() as session:
            existing: dict[str, Any] = {}
            if rows:
                query = select(products.c.sku, products.c.last_import_id, products.c.updated_at, products.c.gone,
                               *(products.c[name] for name in _CONTENT)).where(  # fmt: skip
                    products.c.store_id == self.store_id, products.c.sku.in_([r.sku for r in rows])
                )
                existing = {rec.sku: rec for rec in session.execute(query)}
            values, unchanged = [], []
            moved: list[str] = []  #: SKUs whose publishable quantity may change
            for row in rows:
                old = existing.get(row.sku)
                if old is not None and old.last_import_id == self.import_id:
                    self.reject(row.line, f"duplicate SKU {row.sku!r} in the file (an earlier row was kept)",
                                "sku", row.sku, None)  # fmt: skip
                    continue
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
            if self.rejections:
                session.execute(insert(CatalogImportRejection.__table__), self.rejections)
                self.rejections = []
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
        return {"ean": row.ean, "title": row.title, "brand": row.brand, "category_path": row.category_path,
                "price": row.price, "stock": row.stock, "attributes": row.attributes}  # fmt: skip

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
        """Stamp every product this import saw (unchanged ones were only given the import id)."""
        from sqlalchemy import update

        from shelfdesk.db.models import Product

        products = Product.__table__
        stamps: dict[str, Any] = {"last_seen_at": self.now}
        if "stock" in self.roles:
            stamps["stock_imported_at"] = self.now
        with self.ctx.write_session() as session:
            session.execute(
                update(products)
                .where(products.c.store_id == self.store_id, products.c.last_import_id == self.import_id)
                .values(**stamps)
            )
            if "stock" in self.roles:  # open orders placed before this import stop holding units: push the result
                mark_dirty(session, self.store_id, open_order_units(session, self.store_id), REASON_CATALOG, self.now)

    def report(self) -> None:
        if self.progress is not None:
            read = self.counting.bytes_read if self.counting is not None else 0
            self.progress(ImportProgress(self.rows_read, self.stored, self.rejected, read, self.bytes_total))


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
) -> ImportResult:
    """Import ``source`` (default: the store's saved source) into the store's catalog.

    ``roles`` overrides the store's column roles (and is saved). Raises
    :class:`CatalogError` for an unknown store or bad arguments; a feed that
    cannot be fetched or read still gets its import record, and the result's
    ``error`` says why.
    """
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import CatalogImport, Store

    ctx.require_write()
    if format is not None and format not in ("csv", "json", "jsonl", "xml"):
        raise CatalogError(f"unknown format {format!r}: csv, json, jsonl or xml")
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
    cancelled = False
    complete = False
    columns_report: list[dict[str, Any]] = []
    try:
        feed = open_source(source, download_dir=ctx.paths.home / "downloads", clock=ctx.clock, transport=transport)
        options = detect_options(feed.path, format_hint=format,
                                 saved=saved_options if same_source and not format else None)  # fmt: skip
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
                    f"no SKU column found among: {', '.join(columns) or 'no columns'}; "
                    "say which column holds the SKU (column roles)"
                )
            chosen_roles = suggested
        run = _Run(ctx, store_id, import_id, chosen_roles, now, progress, should_cancel, bytes_total=feed.size)
        with feed.path.open("rb") as raw:
            run.counting = CountingFile(raw)
            try:
                for item in read_rows(run.counting, options):  # type: ignore[arg-type]
                    run.take(item)
                complete = True
            finally:
                run.flush(check_cancel=False)  # rows read before an error or a cancel are kept
    except _Cancelled:
        cancelled = True
        error = "cancelled by the operator; products read so far were stored, nothing was flagged gone"
    except FeedError as exc:
        if run is not None and run.stored:
            error = f"{exc}; the {run.stored:,} products before it were stored, nothing was flagged gone"
        else:
            error = f"{exc}; nothing was imported"
    except (SourceError, CatalogError) as exc:
        error = str(exc)
    except Exception as exc:
        _finish_failed(ctx, import_id, f"internal error: {exc}", started)
        raise
    finally:
        if feed is not None:
            feed.cleanup()

    gone = 0
    if run is not None and run.stored:
        run.mark_seen()
    if complete and not cancelled and run is not None:
        if run.stored == 0:
            error = ("no valid product in the feed: nothing was flagged gone"
                     if run.rows_read else "the feed holds no products: nothing was flagged gone")  # fmt: skip
        else:
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
        "complete": complete and not cancelled,
    }
    with ctx.write_session() as session:
        record = session.get(CatalogImport, import_id)
        assert record is not None
        record.finished_at = ctx.clock.now()
        record.format = options.format if options else None
        record.rows_read, record.stored, record.rejected, record.gone = (
            counts.rows_read, counts.stored, counts.rejected, gone)  # fmt: skip
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
                store.column_roles = {**chosen_roles, "extra": [c["name"] for c in columns_report
                                                                 if c["name"] not in chosen_roles.values()]}  # fmt: skip
                store.updated_at = ctx.clock.now()
        record_audit(session, ctx, "catalog.import", "store", store_id,
                     {"import_id": import_id, "source": _shown(source), "stored": counts.stored,
                      "rejected": counts.rejected, "gone": gone, "error": error})  # fmt: skip
    log.info("catalog import %s into store %s: %s read, %s stored, %s rejected, %s gone%s", import_id, store_id,
             counts.rows_read, counts.stored, counts.rejected, gone, f" ({error})" if error else "")  # fmt: skip
    return ImportResult(
        import_id, store_id, _shown(source), options.format if options else None, counts.rows_read, counts.stored,
        counts.created, counts.rejected, gone, duration_ms, error, cancelled, dict(counts.reasons),
        list(counts.sample), chosen_roles,
    )  # fmt: skip


def _flag_gone(ctx: AppContext, store_id: int, import_id: int, now: datetime) -> int:
    """Flag every product of the store this import did not see; returns how many."""
    from sqlalchemy import or_, select, update

    from shelfdesk.db.models import Product

    products = Product.__table__
    with ctx.write_session() as session:
        unseen = (products.c.store_id == store_id, products.c.gone.is_(False),
                  or_(products.c.last_import_id.is_(None), products.c.last_import_id != import_id))  # fmt: skip
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


def import_rejections(ctx: AppContext, import_id: int, *, after_line: int = 0, after_id: int = 0,
                      limit: int = 200) -> list[Rejection]:  # fmt: skip
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
