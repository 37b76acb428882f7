"""Proposing to a marketplace's catalog the products it does not know.

Back Market matches a new listing to a product of its own catalog by EAN, and
refuses the listing when no product has it ("unknown-ean"). It offers the way
out itself: the same listing sent with the product's data is a *proposal*,
which its team reviews; approved, the product and the listing exist. The
console's ``p`` on such an error group and ``shelfdesk publish --propose``
both call :func:`propose_products`: one products run of just those SKUs, each
new listing carrying its product's title, brand and category.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.engine import PublishResult

#: ``started_by`` of a proposal run: Publications names the run "proposal".
PROPOSAL = "proposal"
#: The failures a proposal answers: the marketplace's catalog has no product with the listing's EAN.
UNKNOWN_PRODUCT_CODES = ("unknown-ean",)


def unknown_products(ctx: AppContext, channel_id: int) -> list[str]:
    """SKUs whose latest real products item on this channel was refused because the catalog does not know the product."""
    from sqlalchemy import func, select

    from shelfdesk.db.models import Publication as P, PublicationItem as I
    from shelfdesk.domain import ItemOutcome, PublicationKind

    latest = (
        select(func.max(I.id))
        .join(P, P.id == I.publication_id)
        .where(P.channel_id == channel_id, P.dry_run.is_(False), P.kind == PublicationKind.products, I.outcome != ItemOutcome.queued)
        .group_by(I.sku)
    )
    query = select(I.sku).where(I.id.in_(latest), I.outcome == ItemOutcome.failed, I.error_code.in_(UNKNOWN_PRODUCT_CODES))
    with ctx.read_session() as session:
        return sorted(set(session.execute(query).scalars()))


def propose_products(ctx: AppContext, channel_id: int, skus: Collection[str] | None = None, **publish_options: Any) -> PublishResult:
    """Send ``skus`` (default: :func:`unknown_products`) as product proposals, in a products run of their own.

    ``publish_options`` go to :func:`shelfdesk.publishing.engine.publish` (progress,
    should_cancel, factory …). Refused with :class:`PublishError` when there is
    nothing to propose or the marketplace has no catalog to propose to.
    """
    from shelfdesk.publishing.engine import publish_sync
    from shelfdesk.publishing.errors import PublishError

    chosen = sorted(set(skus)) if skus else unknown_products(ctx, channel_id)
    if not chosen:
        raise PublishError(
            "no product waits for a proposal on this channel: a products run first shows which ones the marketplace does not know"
        )
    publish_options.setdefault("started_by", PROPOSAL)
    return publish_sync(ctx, channel_id, "products", "update", only_skus=chosen, propose=True, **publish_options)
