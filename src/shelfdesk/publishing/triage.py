"""Reading publications for the console and the CLI: history, items, error groups, product history.

Support staff spend their day here, so every list is paged from the
database with keyset conditions on indexed columns (``publications`` newest
first on ``(started_at, id)``; a publication's items by ``id``, failed ones by
``(error_key, id)``) and nothing loads a whole table. Results are plain
dataclasses; no session leaves this module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from shelfdesk.domain import ItemAction, ItemOutcome, PublicationKind, PublicationMode, PublicationState
from shelfdesk.formatting import NONE, amount_text
from shelfdesk.publishing.errors import NotFound

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

PAGE = 200
MAX_PAGE = 500


@dataclass(frozen=True)
class PublicationRow:
    """One line of the history."""

    id: int
    channel_id: int
    channel: str
    store: str
    kind: PublicationKind
    mode: PublicationMode
    state: PublicationState
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None
    started_by: str | None
    items_total: int
    excluded: int
    invalid: int
    sent: int
    succeeded: int
    warnings: int
    failed: int
    skipped: int
    queued: int
    planned: int | None
    error: str | None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def pending(self) -> int:
        return int(self.summary.get("pending") or 0)

    @property
    def state_label(self) -> str:
        return "dry run" if self.state is PublicationState.dry_run else str(self.state)


@dataclass(frozen=True)
class ItemRow:
    id: int
    publication_id: int
    sku: str
    product_id: int | None
    action: ItemAction
    outcome: ItemOutcome
    old_price: Decimal | None
    new_price: Decimal | None
    old_quantity: int | None
    new_quantity: int | None
    message: str | None
    error_code: str | None
    error_key: str | None
    attribute: str | None
    warning: str | None
    sent_at: datetime | None
    resolved_at: datetime | None

    def outcome_label(self, dry_run: bool = False) -> str:
        """What happened, in words; a dry run's items say what would happen."""
        if dry_run:
            if self.outcome is ItemOutcome.queued:
                return "would send"
            if self.outcome is ItemOutcome.skipped and self.message and "quota" in self.message:
                return "over quota"
            if self.outcome is ItemOutcome.failed:
                return "invalid"
        if self.outcome is ItemOutcome.failed and self.sent_at is None:
            return "invalid"
        if self.outcome is ItemOutcome.sent:
            return "awaiting answer"
        if self.outcome in (ItemOutcome.created, ItemOutcome.updated, ItemOutcome.zeroed) and self.warning:
            return f"{self.outcome} (warning)"
        return str(self.outcome)

    def change_text(self) -> str:
        """``price 12.00 → 11.50, qty 3 → 0`` for the fields the item sends."""
        parts = []
        if self.new_price is not None:
            parts.append(f"price {amount_text(self.old_price) or NONE} → {amount_text(self.new_price) or NONE}")
        if self.new_quantity is not None:
            parts.append(f"qty {'—' if self.old_quantity is None else self.old_quantity} → {self.new_quantity}")
        return ", ".join(parts)


@dataclass(frozen=True)
class ItemFilter:
    """Filters of a publication's items; ``failed_only`` is the errors-only toggle."""

    failed_only: bool = False
    outcome: ItemOutcome | None = None
    error_key: str | None = None
    sku: str = ""  #: SKU prefix, case-insensitive


@dataclass(frozen=True)
class ErrorCluster:
    """Failed items sharing one cause, largest first: what support staff fix together."""

    key: str
    count: int
    message: str  #: one example message, verbatim
    code: str | None
    attribute: str | None
    invalid: int  #: of which refused before sending (fixed in mappings or the catalog)
    same_message: bool = False  #: every item of the group has this very message
    resolved: int = 0  #: of which a later run on the same channel published successfully

    @property
    def all_resolved(self) -> bool:
        return self.resolved >= self.count

    @property
    def cause(self) -> str:
        """The message as the group reads: verbatim when every product has it (one refused value names
        what to map), else one real example and how many more are like it (the values differ)."""
        if self.count == 1 or self.same_message:
            return self.message
        # One real example, never "#": "matches ean 3760000000000" names what to look up.
        others = self.count - 1
        return f"{self.message.rstrip('.')} (and {others:,} more like it)"

    @property
    def label(self) -> str:
        noun = "product" if self.count == 1 else "products"
        return f"{self.cause} — {self.count:,} {noun}"

    @property
    def fix(self) -> str:
        """Where the fix is, for the operator."""
        if self.attribute == "category":
            return "map the category (Mappings → categories)"
        if self.attribute in ("price", "quantity"):
            return "check the catalog's prices and stock (or the price mapping)"
        if self.attribute:
            return f"map or fix attribute {self.attribute} (Mappings → columns), or exclude the products"
        return "read the marketplace's message; exclude the products if they cannot be sold there"


@dataclass(frozen=True)
class HistoryRow:
    publication_id: int
    started_at: datetime
    channel: str
    kind: PublicationKind
    dry_run: bool
    item: ItemRow
    started_by: str | None = None  #: who ran it ("stock pusher" for the pusher's pushes)


# --------------------------------------------------------------------------- publications


def _publication_row(pub: Any, channel: str, store: str) -> PublicationRow:
    return PublicationRow(
        pub.id,
        pub.channel_id,
        channel,
        store,
        PublicationKind(pub.kind),
        PublicationMode(pub.mode),
        PublicationState(pub.state),
        bool(pub.dry_run),
        pub.started_at,
        pub.finished_at,
        pub.started_by,
        pub.items_total,
        pub.excluded,
        pub.invalid,
        pub.sent,
        pub.succeeded,
        pub.warnings,
        pub.failed,
        pub.skipped,
        pub.queued,
        pub.planned,
        pub.error,
        dict(pub.summary or {}),
    )


def list_publications(
    ctx: AppContext,
    *,
    channel_id: int | None = None,
    before: tuple[datetime, int] | None = None,
    limit: int = PAGE,
    failed_only: bool = False,
    search: str = "",
) -> list[PublicationRow]:
    """Publications newest first; ``before`` is the (started_at, id) of the last row of the previous page.

    ``failed_only`` keeps runs with failed or invalid items (the errors-only
    toggle); ``search`` matches the channel or store name, the feed or the state.
    """
    from sqlalchemy import and_, func, or_, select

    from shelfdesk.db.models import Channel, Publication as P, Store

    query = select(P, Channel.name, Store.name).join(Channel, Channel.id == P.channel_id).join(Store, Store.id == Channel.store_id)
    if channel_id is not None:
        query = query.where(P.channel_id == channel_id)
    if before is not None:
        ts, pid = before
        query = query.where(P.started_at <= ts, or_(P.started_at < ts, and_(P.started_at == ts, P.id < pid)))  # type: ignore[operator]
    if failed_only:
        query = query.where(or_(P.failed > 0, P.invalid > 0, P.state == PublicationState.failed))
    text = search.strip().lower()
    if text:
        word = text.replace("dry run", "dry_run")
        conditions = [func.lower(Channel.name).contains(text, autoescape=True), func.lower(Store.name).contains(text, autoescape=True)]
        for column, enum in ((P.kind, PublicationKind), (P.state, PublicationState), (P.mode, PublicationMode)):
            if word in enum._value2member_map_:  # the columns take only their enum's values
                conditions.append(column == enum(word))
        query = query.where(or_(*conditions))
    query = query.order_by(P.started_at.desc(), P.id.desc()).limit(max(1, min(limit, MAX_PAGE)))  # type: ignore[union-attr,attr-defined]
    with ctx.read_session() as session:
        return [_publication_row(p, c, s) for p, c, s in session.execute(query).all()]


def get_publication(ctx: AppContext, publication_id: int) -> PublicationRow:
    rows = _by_ids(ctx, [publication_id])
    if not rows:
        raise NotFound(f"no publication {publication_id}")
    return rows[0]


def _by_ids(ctx: AppContext, ids: list[int]) -> list[PublicationRow]:
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, Publication as P, Store

    query = (
        select(P, Channel.name, Store.name)
        .join(Channel, Channel.id == P.channel_id)
        .join(Store, Store.id == Channel.store_id)
        .where(P.id.in_(ids))
    )  # type: ignore[attr-defined]
    with ctx.read_session() as session:
        return [_publication_row(p, c, s) for p, c, s in session.execute(query).all()]


def running_publications(ctx: AppContext) -> list[PublicationRow]:
    from sqlalchemy import select

    from shelfdesk.db.models import Publication as P

    with ctx.read_session() as session:
        ids = list(session.execute(select(P.id).where(P.state == PublicationState.running)).scalars())
    return _by_ids(ctx, ids)


# --------------------------------------------------------------------------- items


def _item_row(row: Any) -> ItemRow:
    return ItemRow(
        row.id,
        row.publication_id,
        row.sku,
        row.product_id,
        ItemAction(row.action),
        ItemOutcome(row.outcome),
        row.old_price,
        row.new_price,
        row.old_quantity,
        row.new_quantity,
        row.message,
        row.error_code,
        row.error_key,
        row.attribute,
        row.warning,
        row.sent_at,
        row.resolved_at,
    )


def _item_query(publication_id: int, flt: ItemFilter) -> Any:
    from sqlalchemy import func, select

    from shelfdesk.db.models import PublicationItem as I

    query = select(I).where(I.publication_id == publication_id)
    if flt.failed_only:
        query = query.where(I.outcome == ItemOutcome.failed)
    elif flt.outcome is not None:
        query = query.where(I.outcome == flt.outcome)
    if flt.error_key is not None:
        query = query.where(I.error_key == flt.error_key)
    if flt.sku.strip():
        query = query.where(func.lower(I.sku).startswith(flt.sku.strip().lower(), autoescape=True))
    return query


def list_items(
    ctx: AppContext, publication_id: int, flt: ItemFilter | None = None, *, after: tuple[str | None, int] | None = None, limit: int = PAGE
) -> list[ItemRow]:
    """A page of a publication's items.

    All items go by id; failed ones by ``(error_key, id)``, which follows the
    triage index. ``after`` is the (error_key, id) of the previous page's
    last row (error_key ignored outside failed-only).
    """
    from sqlalchemy import and_, func, or_

    from shelfdesk.db.models import PublicationItem as I

    flt = flt or ItemFilter()
    query = _item_query(publication_id, flt)
    by_error = flt.failed_only and flt.error_key is None
    if after is not None:
        key, last_id = after
        if by_error:
            key = key or ""
            error = func.coalesce(I.error_key, "")
            query = query.where(or_(error > key, and_(error == key, I.id > last_id)))  # type: ignore[operator]
        else:
            query = query.where(I.id > last_id)  # type: ignore[operator]
    order = (I.error_key, I.id) if by_error else (I.id,)
    with ctx.read_session() as session:
        rows = session.execute(query.order_by(*order).limit(max(1, min(limit, MAX_PAGE)))).scalars().all()
    return [_item_row(r) for r in rows]


def count_items(ctx: AppContext, publication_id: int, flt: ItemFilter | None = None) -> int:
    from sqlalchemy import func, select

    query = _item_query(publication_id, flt or ItemFilter())
    with ctx.read_session() as session:
        return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


SUCCESSFUL = (ItemOutcome.created, ItemOutcome.updated, ItemOutcome.unchanged, ItemOutcome.zeroed)
"""Outcomes that mean the marketplace holds the product as sent."""


def error_clusters(ctx: AppContext, publication_id: int) -> list[ErrorCluster]:
    """Failed items grouped by cause, largest first (one GROUP BY over the triage index)."""
    from sqlalchemy import case, exists, func, select
    from sqlalchemy.orm import aliased

    from shelfdesk.db.models import Publication, PublicationItem as I
    from shelfdesk.publishing.errors import NO_KEY

    query = (
        select(
            I.error_key,
            func.count(),
            func.min(I.message),
            func.max(I.message),
            func.min(I.error_code),
            func.min(I.attribute),
            func.sum(case((I.sent_at.is_(None), 1), else_=0)),
        )  # type: ignore[union-attr]
        .where(I.publication_id == publication_id, I.outcome == ItemOutcome.failed)
        .group_by(I.error_key)
    )
    # An item is resolved when its SKU went through in a later run on the same channel.
    L, LP, P = aliased(I), aliased(Publication), aliased(Publication)
    later_ok = (
        select(L.id)
        .join(LP, LP.id == L.publication_id)
        .join(P, P.id == publication_id)
        .where(L.sku == I.sku, LP.channel_id == P.channel_id, L.publication_id > publication_id, L.outcome.in_(SUCCESSFUL))  # type: ignore[attr-defined]
    )
    resolved_query = (
        select(I.error_key, func.count())
        .where(I.publication_id == publication_id, I.outcome == ItemOutcome.failed, exists(later_ok))
        .group_by(I.error_key)
    )
    with ctx.read_session() as session:
        rows = session.execute(query).all()
        resolved = {key: int(n) for key, n in session.execute(resolved_query).all()}
    clusters = [
        ErrorCluster(
            key or NO_KEY,
            int(n),
            message or "(no message)",
            code,
            attribute,
            int(invalid or 0),
            same_message=message == last,
            resolved=resolved.get(key, 0),
        )
        for key, n, message, last, code, attribute, invalid in rows
    ]
    clusters.sort(key=lambda c: (-c.count, c.key))
    return clusters


def cluster_skus(
    ctx: AppContext, publication_id: int, error_key: str, *, after: int | None = None, limit: int = 100
) -> tuple[list[str], int | None]:
    """One page of an error group's SKUs, in the order the run built them, and the cursor of the next page.

    Keyset on the item id, read along the triage index (publication, outcome,
    error key, id), so the last page of a 100,000-item group costs what the
    first does. The cursor is None after the last page.
    """
    from sqlalchemy import or_, select

    from shelfdesk.db.models import PublicationItem as I
    from shelfdesk.publishing.errors import NO_KEY

    limit = max(1, min(limit, MAX_PAGE))
    key = I.error_key == error_key
    if error_key == NO_KEY:  # items stored without a key are listed in that group too
        key = or_(key, I.error_key.is_(None))  # type: ignore[union-attr]
    query = select(I.id, I.sku).where(I.publication_id == publication_id, I.outcome == ItemOutcome.failed, key)
    if after is not None:
        query = query.where(I.id > after)
    with ctx.read_session() as session:
        rows = session.execute(query.order_by(I.id).limit(limit + 1)).all()  # type: ignore[arg-type]
    page = rows[:limit]
    return [sku for _, sku in page], (page[-1][0] if len(rows) > limit else None)


def failed_skus(ctx: AppContext, publication_id: int, error_key: str | None = None) -> list[str]:
    """SKUs of a publication's failed items (of one error group): what a re-publish sends."""
    from sqlalchemy import select

    from shelfdesk.db.models import PublicationItem as I

    query = select(I.sku).where(I.publication_id == publication_id, I.outcome == ItemOutcome.failed)
    if error_key is not None:
        query = query.where(I.error_key == error_key)
    with ctx.read_session() as session:
        return sorted(set(session.execute(query).scalars()))


def product_history(ctx: AppContext, sku: str, *, channel_id: int | None = None, limit: int = 100) -> list[HistoryRow]:
    """What was sent for one SKU across publications, newest first."""
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, Publication as P, PublicationItem as I

    query = (
        select(I, P.started_at, Channel.name, P.kind, P.dry_run, P.started_by)
        .join(P, P.id == I.publication_id)
        .join(Channel, Channel.id == P.channel_id)
        .where(I.sku == sku)
    )
    if channel_id is not None:
        query = query.where(P.channel_id == channel_id)
    query = query.order_by(I.publication_id.desc()).limit(max(1, min(limit, MAX_PAGE)))  # type: ignore[attr-defined]
    with ctx.read_session() as session:
        rows = session.execute(query).all()
    return [
        HistoryRow(item.publication_id, started, channel, PublicationKind(kind), bool(dry), _item_row(item), by)
        for item, started, channel, kind, dry, by in rows
    ]


# --------------------------------------------------------------------------- export


EXPORT_COLUMNS = (
    "publication",
    "sku",
    "action",
    "outcome",
    "error_key",
    "attribute",
    "message",
    "old_price",
    "new_price",
    "old_quantity",
    "new_quantity",
    "sent_at",
)


def export_errors(ctx: AppContext, publication_id: int, target: Path | str | IO[str], *, error_key: str | None = None) -> int:
    """Write the failed items (of one group) as CSV, spreadsheet-safe; returns the row count."""
    get_publication(ctx, publication_id)
    if isinstance(target, (str, Path)):
        from shelfdesk.exports import atomic_text_file

        with atomic_text_file(target) as fh:
            return _write_errors(ctx, publication_id, fh, error_key)
    return _write_errors(ctx, publication_id, target, error_key)


def export_errors_text(ctx: AppContext, publication_id: int, *, error_key: str | None = None) -> str:
    out = io.StringIO()
    export_errors(ctx, publication_id, out, error_key=error_key)
    return out.getvalue()


def _write_errors(ctx: AppContext, publication_id: int, fh: IO[str], error_key: str | None) -> int:
    from shelfdesk.exports import safe_cell

    writer = csv.writer(fh)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for item in iter_failed(ctx, publication_id, error_key):
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    publication_id,
                    item.sku,
                    item.action,
                    "invalid" if item.sent_at is None else item.outcome,
                    item.error_key,
                    item.attribute,
                    item.message,
                    item.old_price,
                    item.new_price,
                    item.old_quantity,
                    item.new_quantity,
                    item.sent_at.isoformat() if item.sent_at else "",
                )
            ]
        )
        count += 1
    return count


def iter_failed(ctx: AppContext, publication_id: int, error_key: str | None = None) -> Iterator[ItemRow]:
    flt = ItemFilter(failed_only=True, error_key=error_key)
    after: tuple[str | None, int] | None = None
    while True:
        page = list_items(ctx, publication_id, flt, after=after, limit=MAX_PAGE)
        yield from page
        if len(page) < MAX_PAGE:
            return
        after = (page[-1].error_key, page[-1].id)
