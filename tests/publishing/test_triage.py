"""Triage reads: error keys, keyset paging of items and history, clusters largest first, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from shelfdesk.context import AppContext
from shelfdesk.domain import ItemAction, ItemOutcome, Marketplace, PublicationState
from shelfdesk.publishing.errors import attribute_of, error_key, normalize_message
from shelfdesk.publishing.triage import (
    ItemFilter,
    count_items,
    error_clusters,
    export_errors_text,
    failed_skus,
    list_items,
    list_publications,
    product_history,
)


def test_error_keys_group_the_same_cause_whatever_the_values() -> None:
    a = "No product of the Back Market catalog matches ean 3001185549725; propose it first"
    b = "No product of the Back Market catalog matches ean 3760000000000; propose it first"
    assert normalize_message(a) == normalize_message(b) == "No product of the Back Market catalog matches ean #; propose it first"
    assert error_key(None, a) == error_key(None, b)
    assert error_key("unknown-ean", a, "ean") == "unknown-ean:ean"
    assert attribute_of("missing_attribute", "L'attribut « brand » est obligatoire pour la catégorie x") == "brand"
    assert attribute_of("unknown-ean", "") == "ean" and attribute_of(None, "boom") is None
    assert normalize_message("price 'abc' for « SKU-1 » is 12.50") == "price … for … is #"


@pytest.fixture
def publications(ctx: AppContext) -> list[int]:
    """Two channels' runs; the newest has 450 failed items in three groups, plus successes."""
    from shelfdesk.db.models import Channel, MarketplaceAccount, Publication, PublicationItem, Store

    now = ctx.clock.now()
    with ctx.write_session() as session:
        store = Store(name="S", country="FR", currency="EUR", created_at=now, updated_at=now)
        account = MarketplaceAccount(marketplace=Marketplace.backmarket, name="A", created_at=now, updated_at=now)
        session.add_all([store, account])
        session.flush()
        channels = [
            Channel(
                store_id=store.id,
                account_id=account.id,
                marketplace=Marketplace.backmarket,
                market=m,
                country="FR",
                name=f"C{m}",
                created_at=now,
                updated_at=now,
            )
            for m in ("fr-fr", "es-es")
        ]
        session.add_all(channels)
        session.flush()
        ids = []
        for n in range(5):
            pub = Publication(
                channel_id=channels[n % 2].id,
                kind="offers",
                mode="update",
                state=PublicationState.partial,
                started_at=now + timedelta(minutes=n // 2),
                finished_at=now + timedelta(minutes=n // 2, seconds=30),
                failed=450 if n == 4 else 0,
            )
            session.add(pub)
            session.flush()
            ids.append(pub.id)
        rows = []
        for i in range(600):
            key = ("grade:missing", "unknown-ean:ean", "price-out-of-range:price")[i % 3] if i < 450 else None
            rows.append(
                dict(
                    publication_id=ids[-1],
                    sku=f"SKU-{i:04d}",
                    action=ItemAction.update,
                    outcome=ItemOutcome.failed if key else ItemOutcome.updated,
                    error_key=key,
                    message=f"problem {key} on SKU-{i:04d}" if key else None,
                    attribute=key.split(":")[1] if key else None,
                    new_price=Decimal("9.99"),
                    sent_at=None if key == "grade:missing" else now,
                )
            )
        session.execute(PublicationItem.__table__.insert(), rows)
    return ids


def test_items_pages_follow_the_index_and_match_the_whole_list(ctx: AppContext, publications: list[int]) -> None:
    pid = publications[-1]
    flt = ItemFilter(failed_only=True)
    pages, after = [], None
    while True:
        page = list_items(ctx, pid, flt, after=after, limit=200)
        pages += page
        if len(page) < 200:
            break
        after = (page[-1].error_key, page[-1].id)
    assert len(pages) == count_items(ctx, pid, flt) == 450
    assert [(i.error_key, i.id) for i in pages] == sorted((i.error_key, i.id) for i in pages)
    assert len({i.id for i in pages}) == 450
    everything = list_items(ctx, pid, limit=500) + list_items(ctx, pid, after=(None, 0), limit=500)[500:]
    assert count_items(ctx, pid) == 600 and len({i.id for i in everything}) == 500  # one window holds at most 500
    assert [i.sku for i in list_items(ctx, pid, ItemFilter(sku="sku-059"))] == [f"SKU-059{d}" for d in range(10)]


def test_clusters_are_largest_first_and_republishing_takes_one_group(ctx: AppContext, publications: list[int]) -> None:
    pid = publications[-1]
    clusters = error_clusters(ctx, pid)
    assert [(c.key, c.count, c.invalid) for c in clusters] == [
        ("grade:missing", 150, 150),
        ("price-out-of-range:price", 150, 0),
        ("unknown-ean:ean", 150, 0),
    ]
    # One real example rather than "SKU-#": the operator can look the value up.
    assert clusters[0].label == "problem grade:missing on SKU-0000 (and 149 more like it) — 150 products"
    assert "Mappings → columns" in clusters[0].fix
    assert failed_skus(ctx, pid, "unknown-ean:ean")[:2] == ["SKU-0001", "SKU-0004"]
    text = export_errors_text(ctx, pid, error_key="grade:missing")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 150 and {r["outcome"] for r in rows} == {"invalid"}


def test_history_is_newest_first_keyset_paged_and_filterable(ctx: AppContext, publications: list[int]) -> None:
    first = list_publications(ctx, limit=2)
    rest = list_publications(ctx, before=(first[-1].started_at, first[-1].id), limit=10)
    assert [p.id for p in first + rest] == sorted(publications, key=lambda i: (-(i - 1) // 2, -i))
    assert [p.id for p in list_publications(ctx, failed_only=True)] == [publications[-1]]
    assert {p.channel for p in list_publications(ctx, search="ces-es")} == {"Ces-es"}
    assert first[0].duration_seconds == 30
    assert [h.item.sku for h in product_history(ctx, "SKU-0001")] == ["SKU-0001"]
