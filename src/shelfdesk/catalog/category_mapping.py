"""Category mapping: each merchant category path → a leaf category of the channel, with its cost.

The list the console shows puts unmapped categories first, largest first (by
current, not-excluded products), so the work that unlocks most products comes
first. A mapping must name a *leaf*; a non-leaf is refused with its
subcategories named. The cost defaults to the tree's: a commission rate, or
for Leboncoin without secure payment (a channel option) the insertion fee.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.categories import CategoryTree, ChannelCategory, category_tree
from shelfdesk.catalog.errors import CatalogError
from shelfdesk.domain import Marketplace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: Merchant category shown for products without one.
NO_CATEGORY = "(no category)"


@dataclass(frozen=True)
class MerchantCategory:
    """One merchant category of a store, seen from one channel."""

    path: str | None  #: None for products without a category
    products: int  #: current, not excluded products
    channel_category_id: str | None = None
    channel_category_path: str | None = None
    commission: Decimal | None = None
    insertion_fee: Decimal | None = None
    requires_imei_or_serial: bool = False
    problem: str | None = None  #: why the mapping no longer holds (category gone from the tree …)

    @property
    def mapped(self) -> bool:
        return self.channel_category_id is not None and self.problem is None

    @property
    def label(self) -> str:
        return self.path or NO_CATEGORY


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    store_id: int
    marketplace: Marketplace
    secure_payment: bool


def channel_info(ctx: AppContext, channel_id: int) -> ChannelInfo:
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise CatalogError(f"no channel with id {channel_id}")
        return ChannelInfo(
            channel.id,
            channel.store_id,
            Marketplace(channel.marketplace),
            bool((channel.settings or {}).get("secure_payment", True)),
        )


def uses_insertion_fee(info: ChannelInfo) -> bool:
    """Leboncoin charges per ad without secure payment, a commission with it."""
    return info.marketplace is Marketplace.leboncoin and not info.secure_payment


def merchant_categories(
    ctx: AppContext, channel_id: int, *, search: str = "", unmapped_only: bool = False, limit: int = 500, offset: int = 0
) -> list[MerchantCategory]:
    """The store's categories with product counts and mapping: unmapped first, then largest first."""
    from sqlalchemy import func, not_, select

    from shelfdesk.catalog.exclusions import channel_rules, exclusion_sql
    from shelfdesk.db.models import CategoryMapping, Product

    info = channel_info(ctx, channel_id)
    tree = category_tree(info.marketplace)
    t = Product.__table__
    query = select(t.c.category_path, func.count()).where(t.c.store_id == info.store_id, t.c.gone.is_(False)).group_by(t.c.category_path)
    condition = exclusion_sql(channel_rules(ctx, channel_id))
    if condition is not None:
        query = query.where(not_(condition))
    with ctx.read_session() as session:
        counts = session.execute(query).all()
        mappings = {
            m.merchant_category: m
            for m in session.execute(select(CategoryMapping).where(CategoryMapping.channel_id == channel_id)).scalars()
        }
    rows: list[MerchantCategory] = []
    for path, count in counts:
        rows.append(_row(path, int(count), mappings.get(path) if path else None, tree))
    needle = search.casefold().strip()
    if needle:
        rows = [r for r in rows if needle in r.label.casefold() or needle in (r.channel_category_path or "").casefold()]
    if unmapped_only:
        rows = [r for r in rows if not r.mapped]
    rows.sort(key=lambda r: (r.mapped, r.path is None, -r.products, r.label))  # no category: cannot be mapped
    return rows[offset : offset + limit]


def _row(path: str | None, count: int, mapping: Any, tree: CategoryTree) -> MerchantCategory:
    if mapping is None:
        return MerchantCategory(path, count)
    node = tree.get(mapping.channel_category_id)
    problem = None
    if node is None:
        problem = f"category {mapping.channel_category_id} no longer exists on the marketplace"
    elif not node.leaf:
        problem = f"{node.path} is no longer a leaf category"
    return MerchantCategory(
        path,
        count,
        mapping.channel_category_id,
        mapping.channel_category_path,
        mapping.commission,
        mapping.insertion_fee,
        mapping.requires_imei_or_serial,
        problem,
    )


def resolve_leaf(tree: CategoryTree, id_or_path: str) -> ChannelCategory:
    """The leaf named by id or path; refuses unknown and non-leaf categories with a reason."""
    node = tree.find(id_or_path)
    if node is None:
        hits = tree.search(id_or_path, leaves_only=True)[:3]
        hint = f" (did you mean: {'; '.join(h.path for h in hits)})" if hits else ""
        raise CatalogError(f"{tree.marketplace} has no category {id_or_path!r}{hint}")
    if not node.leaf:
        below = ", ".join(c.name for c in tree.children(node.id)[:6])
        raise CatalogError(f"{node.path} is not a leaf category: choose one of its subcategories ({below})")
    return node


def set_category_mapping(
    ctx: AppContext,
    channel_id: int,
    merchant_category: str,
    channel_category: str,
    *,
    commission: Decimal | None = None,
    insertion_fee: Decimal | None = None,
    needs_identifier: bool | None = None,
) -> MerchantCategory:
    """Map a merchant category to a leaf (by id or path), with the tree's cost unless one is given.

    ``needs_identifier`` says whether a line of this category ships only with an
    IMEI or serial number; None takes the tree's answer (Back Market: phones).
    """
    from sqlalchemy import select

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import CategoryMapping

    merchant_category = (merchant_category or "").strip()
    if not merchant_category or merchant_category == NO_CATEGORY:
        raise CatalogError("products without a category cannot be mapped: give them a category in the feed")
    info = channel_info(ctx, channel_id)
    node = resolve_leaf(category_tree(info.marketplace), channel_category)
    for label, amount in (("commission", commission), ("insertion fee", insertion_fee)):
        if amount is not None and (not isinstance(amount, Decimal) or amount < 0 or not amount.is_finite()):
            raise CatalogError(f"the {label} must be a non-negative decimal, not {amount!r}")
    if commission is not None and commission > 100:
        raise CatalogError(f"a commission of {commission} % is more than the price")
    if commission is None and insertion_fee is None:
        if uses_insertion_fee(info):
            insertion_fee = node.insertion_fee
        else:
            commission = node.commission
    now = ctx.clock.now()
    with ctx.write_session() as session:
        row = session.execute(
            select(CategoryMapping).where(CategoryMapping.channel_id == channel_id, CategoryMapping.merchant_category == merchant_category)
        ).scalar_one_or_none()
        if row is None:
            row = CategoryMapping(channel_id=channel_id, merchant_category=merchant_category, channel_category_id=node.id, updated_at=now)
            session.add(row)
        row.channel_category_id = node.id
        row.channel_category_path = node.path
        row.commission = commission.quantize(Decimal("0.0001")) if commission is not None else None
        row.insertion_fee = insertion_fee.quantize(Decimal("0.01")) if insertion_fee is not None else None
        row.requires_imei_or_serial = node.requires_imei_or_serial if needs_identifier is None else needs_identifier
        row.updated_at = now
        record_audit(
            session, ctx, "mapping.category", "channel", channel_id, {"merchant": merchant_category, "category": node.id, "path": node.path}
        )
    return MerchantCategory(merchant_category, 0, node.id, node.path, row.commission, row.insertion_fee, row.requires_imei_or_serial)


def clear_category_mapping(ctx: AppContext, channel_id: int, merchant_category: str) -> bool:
    from sqlalchemy import delete

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import CategoryMapping

    with ctx.write_session() as session:
        result = session.execute(
            delete(CategoryMapping).where(CategoryMapping.channel_id == channel_id, CategoryMapping.merchant_category == merchant_category)
        )
        record_audit(session, ctx, "mapping.category.clear", "channel", channel_id, {"merchant": merchant_category})
        return bool(result.rowcount)


def suggest_for(ctx: AppContext, channel_id: int, merchant_category: str, limit: int = 3) -> list[ChannelCategory]:
    info = channel_info(ctx, channel_id)
    return category_tree(info.marketplace).suggest(merchant_category, limit)


@dataclass(frozen=True)
class Proposal:
    """A mapping a suggestion would make, shown before it is made: what, to what, for how many products."""

    name: str  #: the merchant category (or, for columns, the channel attribute)
    target: str  #: the channel category path (or the catalog column)
    products: int = 0
    target_id: str = ""


def category_proposals(ctx: AppContext, channel_id: int) -> list[Proposal]:
    """The best suggestion for every unmapped category, largest first; nothing is written."""
    proposals = []
    for row in merchant_categories(ctx, channel_id, unmapped_only=True, limit=100_000):
        if row.path is None:
            continue
        hits = suggest_for(ctx, channel_id, row.path, 1)
        if hits:
            proposals.append(Proposal(row.path, hits[0].path, row.products, hits[0].id))
    return proposals


def apply_suggestions(ctx: AppContext, channel_id: int, only: Collection[str] | None = None) -> list[tuple[str, str]]:
    """Map unmapped categories to their best suggestion (``only`` those named, if given); returns (merchant, channel path)."""
    done = []
    for proposal in category_proposals(ctx, channel_id):
        if only is not None and proposal.name not in only:
            continue
        set_category_mapping(ctx, channel_id, proposal.name, proposal.target_id)
        done.append((proposal.name, proposal.target))
    return done
