"""Order lists: keyset pages equal OFFSET pages, counts per status, and every filter reads an index in order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from shelfdesk.context import AppContext
from shelfdesk.db.models import Order
from shelfdesk.domain import NormalizedStatus
from shelfdesk.orders.queries import (
    _COUNT,
    _EXPAND,
    COUNT_CAP,
    OrderFilter,
    TextSearch,
    candidates_query,
    count_by_status,
    count_query,
    iter_order_ids,
    list_orders,
    list_query,
    rows_by_id_query,
)
from shelfdesk.orders.store import AccountScope, store_remote_orders

from .conftest import remote

S = NormalizedStatus
STATUSES = [S.New, S.InProgress, S.Shipped, S.Canceled]


@pytest.fixture
def orders(ctx: AppContext, scope: AccountScope) -> list[int]:
    """250 orders; purchase times repeat (ties broken by id) and statuses rotate."""
    remotes = [
        remote(
            ctx, f"O{n:04d}", bought=-(n // 3), status=STATUSES[n % 4], raw=str(n % 4), buyer="Zoé Petit" if n % 50 == 0 else f"Buyer {n}"
        )
        for n in range(250)
    ]
    with ctx.write_session() as session:
        store_remote_orders(session, scope, remotes, ctx.clock.now())
    with ctx.read_session() as session:
        return list(session.execute(select(Order.id).order_by(Order.purchased_at.desc(), Order.id.desc())).scalars())


def _explain(ctx: AppContext, query) -> str:  # type: ignore[no-untyped-def]
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with ctx.engine.connect() as conn:
        return "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def test_keyset_pages_forward_and_back_equal_the_offset_order(ctx: AppContext, orders: list[int]) -> None:
    flt = OrderFilter()
    pages, page = [], list_orders(ctx, flt, limit=40)
    pages.append([r.id for r in page.rows])
    while page.has_next:
        page = list_orders(ctx, flt, after=page.last, limit=40)
        pages.append([r.id for r in page.rows])
        assert page.has_prev
    assert [i for p in pages for i in p] == orders and not page.has_next
    back = []
    while page.has_prev:
        page = list_orders(ctx, flt, before=page.first, limit=40)
        back.append([r.id for r in page.rows])
    assert back == pages[-2::-1][: len(back)] and back[-1] == pages[0]
    assert [i for batch in iter_order_ids(ctx, flt, batch=33) for i in batch] == orders


def test_filters_and_counts_per_status(ctx: AppContext, orders: list[int]) -> None:
    now = ctx.clock.now()
    flt = OrderFilter(status=S.New, purchased_after=now - timedelta(minutes=40), purchased_before=now - timedelta(minutes=10))
    page = list_orders(ctx, flt, limit=500)
    assert page.rows and all(
        r.status is S.New and now - timedelta(minutes=40) <= r.purchased_at < now - timedelta(minutes=10) for r in page.rows
    )
    counts = count_by_status(ctx, flt)  # the status part of the filter is left out: counts at a glance
    everything = list_orders(ctx, flt.with_(status=None), limit=500).rows
    assert counts[S.New] == len(page.rows) and sum(counts.values()) == len(everything) > len(page.rows)
    assert counts[S.Shipped] == sum(1 for r in everything if r.status is S.Shipped) and counts[S.Closed] == 0
    assert set(counts) == set(S)
    assert [r.buyer_name for r in list_orders(ctx, OrderFilter(text="zoé")).rows] == ["Zoé Petit"] * 5
    by_id = [r.marketplace_order_id for r in list_orders(ctx, OrderFilter(), limit=500).rows]
    assert [r.marketplace_order_id for r in list_orders(ctx, OrderFilter(text="O024")).rows] == [m for m in by_id if m.startswith("O024")]
    assert len([m for m in by_id if m.startswith("O024")]) == 10
    assert list_orders(ctx, OrderFilter(text="100%")).rows == []  # nothing is a wildcard
    # "Buyer 10" and "Buyer 101" … "Buyer 109" (order 100 is Zoé Petit's)
    assert sorted(r.buyer_name for r in list_orders(ctx, OrderFilter(text="buy 10")).rows) == [f"Buyer {n}" for n in (10, *range(101, 110))]
    assert list_orders(ctx, OrderFilter(text="uyer")).rows == []  # words match from their start


FILTERS = [
    OrderFilter(**dict(zip(("status", "store_id", "channel_id", "purchased_after", "purchased_before", "text"), combo)))
    for combo in itertools.product(
        (None, S.New),
        (None, 1),
        (None, 1),
        (None, datetime(2026, 1, 1, tzinfo=UTC)),
        (None, datetime(2026, 3, 1, tzinfo=UTC)),
        ("", "Lé"),
    )
]


@pytest.fixture(params=[False, True], ids=["no-stats", "analyzed"])
def planned(request: pytest.FixtureRequest, ctx: AppContext, orders: list[int]) -> list[int]:
    """The orders, with and without the planner's statistics (ANALYZE)."""
    if request.param:
        with ctx.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return orders


@pytest.mark.sqlite  # reads SQLite's EXPLAIN QUERY PLAN
def test_every_list_filter_reads_an_index_in_order_without_a_temporary_sort(ctx: AppContext, planned: list[int]) -> None:
    page = list_orders(ctx, OrderFilter(), limit=10)
    for flt in FILTERS:
        for cursor in ({}, {"after": page.last}, {"before": page.last}):
            plan = _explain(ctx, list_query(flt, **cursor))
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (flt, plan)
            assert "TEMP B-TREE" not in plan, (flt, cursor, plan)
        assert "USING" in _explain(ctx, count_query(flt)) and "SCAN orders\n" not in _explain(ctx, count_query(flt)) + "\n"


@pytest.mark.sqlite  # reads SQLite's EXPLAIN QUERY PLAN
def test_the_text_filter_reads_the_term_index_in_order_without_a_temporary_sort(ctx: AppContext, planned: list[int]) -> None:
    """Each way of paging a text (see queries.py) reads indexes only, and never sorts in the database."""
    page = list_orders(ctx, OrderFilter(), limit=10)
    for flt in (f.with_(text="Lé zo") for f in FILTERS):
        for terms in (("lea",), ("lea", "leb", "lefevre")):
            search = TextSearch(("le", "zo"), terms, 3)
            for cursor in ({}, {"after": page.last}, {"before": page.last}):
                plan = _explain(ctx, list_query(flt, **cursor, search=search))
                assert "ix_order_search_terms_term_purchased (term=?" in plan, (flt, plan)
                assert "TEMP B-TREE" not in plan and "SCAN" not in plan, (flt, cursor, plan)
                assert ("MERGE (UNION ALL)" in plan) == (len(terms) > 1)
        plan = _explain(ctx, rows_by_id_query(flt, [1, 2, 3], ("zo",)))
        assert "SEARCH orders USING INTEGER PRIMARY KEY" in plan and "TEMP B-TREE" not in plan and "SCAN" not in plan
    plan = _explain(ctx, candidates_query("le"))
    assert "ix_order_search_terms_term_purchased (term>? AND term<?)" in plan and "SCAN" not in plan
    for flt in FILTERS:  # the rest of the filter is a probe of each candidate's order, never a read of its own index
        plan = _explain(ctx, candidates_query("le", flt=flt))
        assert plan.startswith("SEARCH hit USING COVERING INDEX ix_order_search_terms_term_purchased (term>? AND term<?)"), plan
        assert "SCAN" not in plan and "ix_orders_" not in plan, (flt, plan)
    with ctx.engine.connect() as conn:
        for statement, params in (
            (_COUNT[0], {"low": "le", "high": "lf", "cap": COUNT_CAP}),
            (_EXPAND[0], {"low": "le", "high": "lf", "n": 65}),
        ):
            plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.text, params))
            assert "USING COVERING INDEX ix_order_search_terms_term_purchased (term>? AND term<?)" in plan, plan
            assert "TEMP B-TREE" not in plan


def test_quick_counts_stop_at_their_bound_and_say_so(ctx: AppContext, orders: list[int]) -> None:
    """250 orders, 62 or 63 per status: bounded at 60 every status reads 60+, bounded at 100 they are exact."""
    from shelfdesk.orders.queries import describe_count

    exact = count_by_status(ctx, OrderFilter())
    assert count_by_status(ctx, OrderFilter(), at_most=100) == exact
    bounded = count_by_status(ctx, OrderFilter(status=S.New), at_most=60)  # the status filter is not counted on
    assert {s: n for s, n in bounded.items() if n} == {s: 60 for s in STATUSES}
    assert count_by_status(ctx, OrderFilter(text="zoé"), at_most=3) == {**{s: 0 for s in S}, S.New: 3, S.Shipped: 2}
    assert [describe_count(n, 60) for n in (59, 60)] == ["59", "60+"] and describe_count(1234) == "1,234"
