"""Products Back Market's catalog does not know: proposed through the listings endpoint, reviewed, then listed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shelfdesk.catalog.gtin import make_ean13
from shelfdesk.domain import ItemOutcome, PublicationState
from shelfdesk.publishing.errors import PublishError
from shelfdesk.publishing.triage import error_clusters
from shelfdesk.services.proposals import PROPOSAL, propose_products, unknown_products
from tests.publishing.conftest import Shop, bm_mappings, sandbox_ean


def test_unknown_products_are_proposed_with_their_data_then_listed_after_the_review(shop: Shop) -> None:
    bm_mappings(shop)
    unknown = make_ean13("376000000071")
    shop.add_product("FP5-256-GOOD", ean=unknown, grade="GOOD", price="399.00", stock=2)
    shop.add_product("IPH13-VG", ean=sandbox_ean(0), grade="VERY_GOOD", price="579.00", stock=3)
    first = shop.publish(shop.bm_channel, "products")
    assert shop.items(first.publication_id)["FP5-256-GOOD"].error_code == "unknown-ean"
    [group] = [c for c in error_clusters(shop.ctx, first.publication_id) if c.proposable]
    assert unknown in group.cause and group.fix.startswith("propose them with p")
    assert unknown_products(shop.ctx, shop.bm_channel) == ["FP5-256-GOOD"]

    proposal = propose_products(shop.ctx, shop.bm_channel, factory=shop.factory)
    [row] = shop.batch_rows()[-1:]
    assert (row["sku"], row["ean"], row["title"], row["brand"], row["category_id"]) == (
        "FP5-256-GOOD",
        unknown,
        "Product FP5-256-GOOD",
        "Apple",
        "7",
    )
    assert shop.publication(proposal.publication_id).started_by == PROPOSAL
    item = shop.items(proposal.publication_id)["FP5-256-GOOD"]
    assert (item.outcome, item.error_code) == (ItemOutcome.failed, "product-in-review")
    assert unknown_products(shop.ctx, shop.bm_channel) == []  # proposed: nothing left to propose

    shop.clock.advance(timedelta(seconds=shop.sb.backmarket.review_seconds))
    later = shop.publish(shop.bm_channel, "products")  # approved: the listing exists, the run confirms it
    assert later.state is PublicationState.succeeded
    assert shop.listings()["FP5-256-GOOD"]["quantity"] == 2
    assert all(c.all_resolved for c in error_clusters(shop.ctx, first.publication_id) if c.proposable)


def test_nothing_to_propose_and_leboncoin_are_refused_with_the_reason(shop: Shop) -> None:
    with pytest.raises(PublishError, match="no product waits for a proposal"):
        propose_products(shop.ctx, shop.bm_channel, factory=shop.factory)
    shop.set_channel(shop.lbc_channel, activated_at=shop.clock.now())
    with pytest.raises(PublishError, match="leboncoin has no product catalog to propose products to"):
        propose_products(shop.ctx, shop.lbc_channel, ["ANY"], factory=shop.factory)
