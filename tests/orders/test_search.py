"""The text filter: word prefixes of the order id, buyer name and e-mail, read from order_search_terms.

Every way a page can be read (a branch per term merged, a rare word's rows
read whole, the orders' list index probed) must give exactly the orders a
plain Python reading of the rule gives, in the list's order, page after page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select

from shelfdesk.context import AppContext
from shelfdesk.db import migrate
from shelfdesk.db.models import Order
from shelfdesk.db.models.orders import OrderSearchTerm
from shelfdesk.domain import NormalizedStatus
from shelfdesk.orders import queries
from shelfdesk.orders.queries import OrderFilter, count_by_status, iter_order_ids, list_orders, plan_text_search
from shelfdesk.orders.store import AccountScope, store_remote_orders
from shelfdesk.orders.terms import normalize, order_terms, prefix_bounds, query_words

from .conftest import ADDRESS, remote

S = NormalizedStatus
FIRST = ["Camille", "Léa", "Jean-Pierre", "Zoé", "Marc", "Martine", "Hugo"]
LAST = ["Martin", "Petit", "Dupont", "Marchand", "Lefèvre"]


def test_terms_of_an_order_and_of_a_query() -> None:
    assert order_terms("40123456", "Camille Martin", "camille.martin87@Gmail.com") == {
        "40123456",
        "camille",
        "martin",
        "camille.martin87@gmail.com",
        "martin87",
    }
    assert order_terms("O-77", "Jean-Pierre Lefèvre", None) == {"o-77", "jean-pierre", "jean", "pierre", "lefevre"}
    assert order_terms("1", None, "  ") == {"1"}
    assert normalize("Zoé STRASSE Straße") == "zoe strasse strasse"
    assert query_words("  Mar  MARTIN zoé ") == ("martin", "zoe")  # "mar" starts "martin": dropped
    assert query_words("   ") == ()
    assert prefix_bounds("mar") == ("mar", "mas")
    assert prefix_bounds("a\U0010ffff") == ("a\U0010ffff", "b")
    assert prefix_bounds("\ud7ff") == ("\ud7ff", "\ue000")  # surrogates are skipped


def _people(n: int) -> tuple[str, str]:
    name = f"{FIRST[n % len(FIRST)]} {LAST[(n // 3) % len(LAST)]}"
    return name, f"{normalize(name).replace(' ', '.')}{n}@example.org"


@pytest.fixture
def orders(ctx: AppContext, scope: AccountScope) -> dict[int, tuple[str, str, str, S]]:
    """300 orders: ids 4000000-4000299, names and e-mails from a few words, statuses rotating."""
    remotes = []
    for n in range(300):
        name, email = _people(n)
        status = [S.New, S.InProgress, S.Shipped][n % 3]
        address = {**ADDRESS, "email": email} if status is not S.New else None
        remotes.append(remote(ctx, str(4_000_000 + n), bought=-((n * 7) % 300), status=status, raw=str(n % 3), buyer=name, address=address))
    with ctx.write_session() as session:
        store_remote_orders(session, scope, remotes, ctx.clock.now())
    with ctx.read_session() as session:
        rows = session.execute(select(Order.id, Order.marketplace_order_id, Order.buyer_name, Order.buyer_email, Order.status))
        return {r[0]: (r[1], r[2], r[3] or "", r[4]) for r in rows}


def _expected(ctx: AppContext, orders: dict[int, tuple[str, str, str, S]], flt: OrderFilter) -> list[int]:
    """The rule read plainly: every typed word starts a term of the order; then the list's order."""
    words = query_words(flt.text)
    with ctx.read_session() as session:
        order = session.execute(select(Order.id, Order.purchased_at).order_by(Order.purchased_at.desc(), Order.id.desc()))
    matching = []
    for order_id, purchased_at in order:
        remote_id, name, email, status = orders[order_id]
        terms = order_terms(remote_id, name, email)
        if (
            all(any(t.startswith(w) for t in terms) for w in words)
            and flt.status in (None, status)
            and (flt.purchased_after is None or purchased_at >= flt.purchased_after)
        ):
            matching.append(order_id)
    return matching


def _paged(ctx: AppContext, flt: OrderFilter, limit: int = 7) -> list[int]:
    """Every page forward, then back again from the last one: the same pages."""
    page = list_orders(ctx, flt, limit=limit)
    pages = [[r.id for r in page.rows]]
    while page.has_next:
        page = list_orders(ctx, flt, after=page.last, limit=limit)
        pages.append([r.id for r in page.rows])
    back = []
    while page.has_prev:
        page = list_orders(ctx, flt, before=page.first, limit=limit)
        back.append([r.id for r in page.rows])
    assert back == pages[-2::-1], flt
    return [i for p in pages for i in p]


TEXTS = [
    "mart",
    "MARTIN",
    "martine",
    "zoé",
    "zoe petit",
    "jean",
    "pierre",
    "jean-p",
    "4000",
    "40001",
    "4000123",
    "lea.martin",
    "camille.dupont9",
    "@example",
    "artin",
    "99999",
    "hugo lef",
    "m",
    "dup mar",
]


@pytest.mark.parametrize(
    "mode, limits", [("merge", (64, 5000, 30_000)), ("few", (3, 5000, 30_000)), ("few", (3, 5, 30_000)), ("scan", (3, 20, 20))]
)
def test_every_way_of_paging_finds_what_the_rule_says(
    ctx: AppContext, scope: AccountScope, orders: dict, mode: str, limits: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small limits push the same texts through the other ways of paging."""
    monkeypatch.setattr(queries, "MAX_MERGED_TERMS", limits[0])
    monkeypatch.setattr(queries, "COUNT_CAP", limits[1])
    monkeypatch.setattr(queries, "RANGE_CAP", limits[2])
    modes = set()
    for text in TEXTS:
        recent = ctx.clock.now() - timedelta(minutes=150)
        for flt in (
            OrderFilter(text=text),
            OrderFilter(text=text, status=S.InProgress),
            OrderFilter(text=text, purchased_after=recent, channel_id=scope.channels[0].id),
        ):
            expected = _expected(ctx, orders, flt)
            assert _paged(ctx, flt) == expected, (text, flt.status)
            assert [i for batch in iter_order_ids(ctx, flt, batch=4) for i in batch] == expected
            counts = count_by_status(ctx, flt)
            assert sum(counts.values()) == len(_expected(ctx, orders, flt.with_(status=None)))
            assert counts[S.InProgress] == len(_expected(ctx, orders, flt.with_(status=S.InProgress)))
            with ctx.read_session() as session:
                modes.add(plan_text_search(session, flt.text).mode)  # type: ignore[union-attr]
    assert len(_expected(ctx, orders, OrderFilter(text="mart"))) > 20  # the texts really page
    assert _expected(ctx, orders, OrderFilter(text="artin")) == []  # inside a word: no
    assert mode in modes


def test_terms_follow_the_buyer_and_silence_keeps_them(ctx: AppContext, scope: AccountScope) -> None:
    def terms() -> set[str]:
        with ctx.read_session() as session:
            return set(session.execute(select(OrderSearchTerm.term)).scalars())

    def store(*remotes) -> None:  # type: ignore[no-untyped-def]
        with ctx.write_session() as session:
            store_remote_orders(session, scope, remotes, ctx.clock.now())

    store(remote(ctx, "A1", buyer="Zoé Petit"))
    assert terms() == {"a1", "zoe", "petit"}
    store(remote(ctx, "A1", minutes=1, raw="3", status=S.InProgress, buyer="Zoé Petit", address=ADDRESS))
    assert terms() == {"a1", "zoe", "petit", "lea@example.org"}  # the e-mail came with the address
    store(remote(ctx, "A1", minutes=2, raw="3", status=S.InProgress, buyer=""))  # silent about the buyer
    assert terms() == {"a1", "zoe", "petit", "lea@example.org"}
    store(remote(ctx, "A1", minutes=3, raw="9", status=S.Shipped, buyer="Zoé Durand"))
    assert terms() == {"a1", "zoe", "durand", "lea@example.org"}
    assert [r.buyer_name for r in list_orders(ctx, OrderFilter(text="dura")).rows] == ["Zoé Durand"]
    assert list_orders(ctx, OrderFilter(text="petit")).rows == []
    with ctx.read_session() as session:
        stored = session.execute(select(Order.purchased_at)).scalar_one()
        assert set(session.execute(select(OrderSearchTerm.purchased_at)).scalars()) == {stored}


def test_migration_0006_fills_the_terms_of_existing_orders(ctx: AppContext, scope: AccountScope) -> None:
    with ctx.write_session() as session:
        store_remote_orders(session, scope, [remote(ctx, "B7", buyer="Hugo Marchand"), remote(ctx, "B8", buyer="Léa")], ctx.clock.now())
    config = migrate.alembic_config()
    with ctx.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
        command.upgrade(config, "0006")
    with ctx.read_session() as session:
        rows = set(
            session.execute(select(OrderSearchTerm.term, Order.marketplace_order_id).join(Order, Order.id == OrderSearchTerm.order_id))
        )
    assert rows == {("b7", "B7"), ("hugo", "B7"), ("marchand", "B7"), ("b8", "B8"), ("lea", "B8")}
    with ctx.engine.begin() as conn:  # the list reads tables of later revisions (refunds); the terms go on as 0006 wrote them
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert [r.marketplace_order_id for r in list_orders(ctx, OrderFilter(text="march")).rows] == ["B7"]
