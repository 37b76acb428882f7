"""One product of a store, as every channel sees it: the Stores screen's product browser.

Answers "why is this SKU not on Back Market?" in one place: its stock and
price, its category and where each channel maps it, the exclusion rules that
keep it out, and what the channel's last publication did with it. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


@dataclass(frozen=True)
class ProductLine:
    """One product in the search results."""

    sku: str
    title: str | None
    stock: int
    price: Decimal | None
    gone: bool = False


@dataclass(frozen=True)
class ChannelSight:
    """One channel's view of the product."""

    channel: str
    category: str  #: the channel category it is mapped to, or why not
    excluded_by: list[str] = field(default_factory=list)  #: the rules that keep it out
    listed: str = "never published"  #: the last publication's outcome for it
    listed_at: datetime | None = None


@dataclass(frozen=True)
class ProductSight:
    """The product and what each channel of its store makes of it."""

    sku: str
    title: str | None
    ean: str | None
    category: str | None
    stock: int
    price: Decimal | None
    gone: bool
    channels: list[ChannelSight]


def find_products(ctx: AppContext, store_id: int, text: str = "", *, limit: int = 200) -> list[ProductLine]:
    """Products whose SKU, title or EAN contains ``text`` (all when empty), by SKU."""
    from sqlalchemy import or_, select

    from shelfdesk.db.models import Product

    query = select(Product.sku, Product.title, Product.stock, Product.price, Product.gone).where(Product.store_id == store_id)
    needle = text.strip()
    if needle:
        like = f"%{needle}%"
        query = query.where(or_(Product.sku.ilike(like), Product.title.ilike(like), Product.ean.ilike(like)))
    with ctx.read_session() as session:
        rows = session.execute(query.order_by(Product.sku).limit(limit)).all()
    return [ProductLine(sku, title, int(stock or 0), price, bool(gone)) for sku, title, stock, price, gone in rows]


def product_sight(ctx: AppContext, store_id: int, sku: str) -> ProductSight:
    """Everything about one SKU per channel of its store; a ``CatalogError`` when there is no such SKU."""
    from sqlalchemy import select

    from shelfdesk.catalog.errors import CatalogError
    from shelfdesk.catalog.exclusions import channel_rules, excluding_rules
    from shelfdesk.catalog.fields import to_values
    from shelfdesk.db.models import CategoryMapping, Channel, Product, Publication, PublicationItem

    with ctx.read_session() as session:
        product = session.execute(select(Product).where(Product.store_id == store_id, Product.sku == sku)).scalar()
        if product is None:
            raise CatalogError(f"no product with SKU {sku!r} in this store")
        values = to_values(product)
        channels = list(session.execute(select(Channel).where(Channel.store_id == store_id).order_by(Channel.id)).scalars())
        sights = []
        for channel in channels:
            mapping = session.execute(
                select(CategoryMapping).where(
                    CategoryMapping.channel_id == channel.id, CategoryMapping.merchant_category == product.category_path
                )
            ).scalar()
            category = (
                (mapping.channel_category_path or mapping.channel_category_id)
                if mapping
                else ("no category in the catalog" if not product.category_path else "category not mapped")
            )
            last = session.execute(
                select(PublicationItem.outcome, PublicationItem.message, Publication.started_at, Publication.kind)
                .join(Publication, Publication.id == PublicationItem.publication_id)
                .where(Publication.channel_id == channel.id, PublicationItem.sku == sku, Publication.dry_run.is_(False))
                .order_by(Publication.started_at.desc(), PublicationItem.id.desc())
                .limit(1)
            ).first()
            listed, when = "never published", None
            if last is not None:
                outcome, message, when, kind = last
                listed = f"{kind}: {outcome}" + (f" — {message}" if message else "")
            sights.append(ChannelSight(channel.name, category, [], listed, when))
    result = []
    for channel, sight in zip(channels, sights, strict=True):
        rules = excluding_rules(channel_rules(ctx, channel.id), values)
        result.append(ChannelSight(sight.channel, sight.category, [r.describe() for r in rules], sight.listed, sight.listed_at))
    return ProductSight(
        product.sku, product.title, product.ean, product.category_path, int(product.stock or 0), product.price, bool(product.gone), result
    )
