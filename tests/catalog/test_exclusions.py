"""Exclusion rules: AND within a group, OR across groups; SQL counts and Python checks agree."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, insert, not_, select

from shelfdesk.catalog import exclusions as ex
from shelfdesk.catalog.errors import CatalogError
from shelfdesk.catalog.fields import ProductValues, product_columns, to_values
from shelfdesk.db.models import Product
from shelfdesk.domain import ExclusionOperator as Op


def product(**values) -> ProductValues:  # type: ignore[no-untyped-def]
    base = {
        "id": 1,
        "sku": "A",
        "ean": None,
        "title": None,
        "brand": None,
        "category_path": None,
        "price": None,
        "stock": 0,
        "attributes": {},
    }
    base.update(values)
    return ProductValues(**base)


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        (("brand", Op.equals, "apple"), {"brand": " Apple "}, True),
        (("brand", Op.equals, "apple"), {"brand": None}, False),
        (("brand", Op.not_equals, "apple"), {"brand": None}, True),
        (("title", Op.contains, "IPHONE"), {"title": "Apple iPhone 13"}, True),
        (("title", Op.contains, "x"), {"title": None}, False),
        (("price", Op.greater_than, "100"), {"price": Decimal("100.01")}, True),
        (("price", Op.greater_than, "100"), {"price": None}, False),
        (("price", Op.less_than, "12.345"), {"price": Decimal("12.34")}, True),
        (("stock", Op.less_than, "1"), {"stock": 0}, True),
        (("stock", Op.equals, "3"), {"stock": 3}, True),
        (("grade", Op.empty, None), {"attributes": {"grade": "  "}}, True),
        (("grade", Op.not_empty, None), {"attributes": {}}, False),
        (("grade", Op.matches, "^(FAIR|STALLONE)$"), {"attributes": {"grade": "FAIR"}}, True),
        (("weight", Op.greater_than, "2,5"), {"attributes": {"weight": "3"}}, True),
        (("weight", Op.greater_than, "2"), {"attributes": {"weight": "n/a"}}, False),
    ],
)
def test_rule_semantics(rule, values, expected) -> None:  # type: ignore[no-untyped-def]
    assert ex.rule_matches(ex.check_rule(*rule), product(**values)) is expected


def test_and_within_a_group_or_across_groups() -> None:
    rules = [
        ex.Rule("brand", Op.equals, "Apple", 0),
        ex.Rule("stock", Op.less_than, "1", 0),
        ex.Rule("category", Op.contains, "Fashion", 1),
        ex.Rule("sku", Op.equals, "X", 2, enabled=False),
    ]
    assert ex.is_excluded(rules, product(brand="Apple", stock=0))
    assert not ex.is_excluded(rules, product(brand="Apple", stock=2))  # only half of group 0
    assert ex.is_excluded(rules, product(category_path="Fashion > Men"))
    assert not ex.is_excluded(rules, product(sku="X"))  # disabled rules exclude nothing


def test_bad_rules_are_refused_with_a_reason() -> None:
    with pytest.raises(CatalogError, match="needs a number"):
        ex.check_rule("price", "greater_than", "cheap")
    with pytest.raises(CatalogError, match="regular expression"):
        ex.check_rule("title", "matches", "(")
    with pytest.raises(CatalogError, match="is a number"):
        ex.check_rule("price", "contains", "9")
    with pytest.raises(CatalogError, match="unknown operator"):
        ex.check_rule("title", "like", "x")


def test_live_count_and_manual_exclusions(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.services.accounts import create_account
    from shelfdesk.services.channels import create_channel

    import_catalog(ctx, store_id, str(write("f.csv", "sku,brand,stock\nA,Apple,0\nB,Apple,2\nC,Dell,0\nD,HP,4\n")))
    account = create_account(ctx, "backmarket", "BM", token="t0k3n-abcdef")
    channel = create_channel(ctx, store_id, account.id, "FR").id
    assert ex.count_excluded(ctx, channel) == ex.ExclusionCount(0, 4)
    ex.add_rule(ctx, channel, "stock", "less_than", "1")
    rule = ex.add_rule(ctx, channel, "brand", "equals", "apple", group_no=0)
    assert ex.count_excluded(ctx, channel).excluded == 1  # A only: Apple AND no stock
    ex.exclude_product(ctx, channel, "D")
    assert ex.count_excluded(ctx, channel).excluded == 2
    unsaved = [*ex.channel_rules(ctx, channel), ex.Rule("brand", Op.equals, "Dell", 9)]
    assert ex.count_excluded(ctx, channel, unsaved).excluded == 3  # what the editor shows before saving
    ex.set_rule_enabled(ctx, rule.id, False)
    assert ex.count_excluded(ctx, channel).excluded == 3  # group 0 is now "stock < 1": A and C, plus D
    assert ex.include_product(ctx, channel, "D") and ex.count_excluded(ctx, channel).excluded == 2


# ---------------------------------------------------------------- SQL and Python agree

_word = st.sampled_from(
    ["", " ", "apple", "Apple ", "APPLE", "dell", "é", "É", "a%b", "a_b", "12", "12,5", "-3", "12.50", "n/a", "Fashion > Men", "x\\y"]
)
_price = st.one_of(st.none(), st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False))
_product = st.fixed_dictionaries(
    {
        "sku": st.text("ABC", min_size=1, max_size=3),
        "title": st.one_of(st.none(), _word),
        "brand": st.one_of(st.none(), _word),
        "category_path": st.one_of(st.none(), _word),
        "price": _price,
        "stock": st.integers(0, 20),
        "attributes": st.dictionaries(st.sampled_from(["grade", "weight"]), _word, max_size=2),
    }
)
_operator = st.sampled_from(list(Op))
_field = st.sampled_from(["sku", "title", "brand", "category", "price", "stock", "grade", "weight"])
_rule_value = st.one_of(_word, st.sampled_from(["0", "5", "100", "12.345", "^a", "(?i)apple", "[0-9]+"]))


def _rules(draw_rules):  # type: ignore[no-untyped-def]
    out = []
    for field, op, value, group, enabled in draw_rules:
        try:
            rule = ex.check_rule(field, op, value)
        except CatalogError:
            continue
        out.append(ex.Rule(rule.field, rule.operator, rule.value, group, enabled))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    products=st.lists(_product, min_size=1, max_size=8),
    raw_rules=st.lists(st.tuples(_field, _operator, _rule_value, st.integers(0, 2), st.booleans()), max_size=5),
)
def test_sql_and_python_agree(ctx, store_id, products, raw_rules) -> None:  # type: ignore[no-untyped-def]
    rules = _rules(raw_rules)
    now = ctx.clock.now()
    with ctx.write_session() as session:
        session.execute(delete(Product).where(Product.store_id == store_id))
        seen = set()
        rows = []
        for p in products:
            if p["sku"] in seen:
                continue
            seen.add(p["sku"])
            rows.append({**p, "store_id": store_id, "first_seen_at": now, "last_seen_at": now, "updated_at": now, "gone": False})
        session.execute(insert(Product.__table__), rows)
    with ctx.read_session() as session:
        stored = [to_values(r) for r in session.execute(select(*product_columns()).where(Product.store_id == store_id))]
        condition = ex.exclusion_sql(rules)
        by_sql = set()
        if condition is not None:
            by_sql = set(session.execute(select(Product.sku).where(Product.store_id == store_id, condition)).scalars())
            kept = set(session.execute(select(Product.sku).where(Product.store_id == store_id, not_(condition))).scalars())
            assert by_sql | kept == {p.sku for p in stored}  # NOT(condition) is never NULL: nothing falls through
    by_python = {p.sku for p in stored if ex.is_excluded(rules, p)}
    assert by_sql == by_python, [r.describe() for r in rules]


GRID_VALUES = ["", "apple", "APPLE", "é", "É", "a%b", "12", "12,5", "-3", "12.345", "n/a", "^a", "(?i)apple", "0"]
GRID_PRODUCTS = [
    {
        "sku": "P1",
        "brand": "Apple",
        "title": "apple iPhone",
        "category_path": "Fashion > Men",
        "price": Decimal("12.35"),
        "stock": 0,
        "attributes": {"grade": "é", "weight": "12,5"},
    },
    {
        "sku": "P2",
        "brand": "É",
        "title": None,
        "category_path": None,
        "price": None,
        "stock": 12,
        "attributes": {"grade": "  ", "weight": "n/a"},
    },
    {
        "sku": "P3",
        "brand": " apple ",
        "title": "a%b",
        "category_path": "x",
        "price": Decimal("0.00"),
        "stock": 3,
        "attributes": {"weight": "-3"},
    },
    {
        "sku": "P4",
        "brand": "a_b",
        "title": "APPLE",
        "category_path": "12",
        "price": Decimal("12.34"),
        "stock": 1,
        "attributes": {"grade": "É", "weight": "12.5"},
    },
]


def test_sql_and_python_agree_on_every_single_rule(ctx, store_id) -> None:  # type: ignore[no-untyped-def]
    """Every field × operator × value on products built to hit case, numbers and empties: same answer."""
    now = ctx.clock.now()
    with ctx.write_session() as session:
        session.execute(
            insert(Product.__table__),
            [
                {**p, "ean": None, "store_id": store_id, "first_seen_at": now, "last_seen_at": now, "updated_at": now, "gone": False}
                for p in GRID_PRODUCTS
            ],
        )
    with ctx.read_session() as session:
        stored = [to_values(r) for r in session.execute(select(*product_columns()).where(Product.store_id == store_id))]
        checked = 0
        for field in ("sku", "title", "brand", "category", "price", "stock", "grade", "weight", "missing"):
            for op in Op:
                for value in GRID_VALUES:
                    try:
                        rule = ex.check_rule(field, op, value)
                    except CatalogError:
                        continue
                    sql = set(session.execute(select(Product.sku).where(Product.store_id == store_id, ex.rule_sql(rule))).scalars())
                    assert sql == {p.sku for p in stored if ex.rule_matches(rule, p)}, rule.describe()
                    checked += 1
    assert checked > 400


@pytest.mark.parametrize(("field", "column"), [("title", "products.title"), ("grade", "products.attributes ->> ")])
def test_text_rules_lower_ascii_letters_only_on_postgresql_too(field: str, column: str) -> None:
    """PostgreSQL's lower() turns "É" into "é" (SQLite's and the Python side's do not): under "C" it does not.

    Without it, on PostgreSQL ``title contains 'Écran'`` excluded nothing and ``contains 'écran'`` excluded "Écran …".
    """
    from sqlalchemy.dialects import postgresql, sqlite

    for op in (Op.contains, Op.equals, Op.not_equals):
        condition = ex.rule_sql(ex.check_rule(field, op, "Écran"))
        pg = str(condition.compile(dialect=postgresql.dialect()))
        assert pg.count("lower((") == 1 and pg.count(') COLLATE "C")') == 1 and column in pg, pg
        lite = str(condition.compile(dialect=sqlite.dialect()))
        assert "lower(" in lite and "COLLATE" not in lite, lite
