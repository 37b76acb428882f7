"""Column types: money stays exact, enums stay valid, datetimes stay aware."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session

from shelfdesk.db.models import CategoryMapping, Channel, MarketplaceAccount, Product, Store
from shelfdesk.db.types import Money, Percent
from shelfdesk.domain import Marketplace, NormalizedStatus
from tests.db.factories import NOW, add_account, add_channel, add_store


def _product(store: Store, sku: str, price: object) -> Product:
    return Product(store_id=store.id, sku=sku, price=price, first_seen_at=NOW, last_seen_at=NOW, updated_at=NOW)


def test_money_round_trips_decimals_exactly_and_sums_in_cents(engine: Engine) -> None:
    prices = ["0.10", "0.20", "19.99", "1234567.89", "-5.00", "0"]
    with Session(engine) as session:
        store = add_store(session)
        for i, price in enumerate(prices):
            session.add(_product(store, f"SKU-{i}", Decimal(price)))
        session.commit()
        stored = session.exec(text("SELECT price FROM products ORDER BY sku")).scalars().all()
        assert stored == [10, 20, 1999, 123456789, -500, 0]  # integers, never floats
        session.expire_all()
        got = [p.price for p in session.exec(select(Product).order_by(Product.sku)).scalars()]
        assert got == [Decimal(p) for p in prices]
        assert all(isinstance(p, Decimal) for p in got)
        assert str(got[0]) == "0.10" and str(got[-1]) == "0.00"
        total = session.execute(select(func.sum(Product.price))).scalar_one()
        assert total == Decimal("1234583.18") and isinstance(total, Decimal)
        cheap = session.execute(select(Product.sku).where(Product.price < Decimal("0.15"))).scalars().all()
        assert sorted(cheap) == ["SKU-0", "SKU-4", "SKU-5"]


@pytest.mark.parametrize("bad", [0.1, 19.99, True, Decimal("1.005"), Decimal("NaN"), "abc", "0.001"])
def test_money_refuses_floats_and_sub_cent_values(engine: Engine, bad: object) -> None:
    with Session(engine) as session:
        store = add_store(session)
        session.add(_product(store, "SKU", bad))
        with pytest.raises(StatementError) as info:
            session.flush()
        assert isinstance(info.value.orig, ValueError)


def test_money_accepts_ints_and_decimal_strings() -> None:
    money = Money()
    assert money.to_units(3) == 300
    assert money.to_units("12.5") == 1250
    assert money.to_units(Decimal("1.500")) == 150  # trailing zeros are not sub-cent
    assert money.from_units(1250) == Decimal("12.50")
    assert Percent().to_units(Decimal("12.5")) == 125000
    with pytest.raises(ValueError, match="float"):
        money.to_units(1.0)
    with pytest.raises(ValueError, match="decimal places"):
        money.to_units(Decimal("0.125"))


def test_enum_columns_store_values_and_refuse_strangers(engine: Engine) -> None:
    with Session(engine) as session:
        account = add_account(session)
        add_channel(session, add_store(session), account, "fr-fr")
        session.commit()
        session.expire_all()
        got = session.exec(select(MarketplaceAccount)).scalars().one()
        assert got.marketplace is Marketplace.backmarket
        assert session.exec(text("SELECT marketplace FROM channels")).scalar_one() == "backmarket"
        got.marketplace = "amazon"
        with pytest.raises(StatementError, match="not a valid Marketplace"):
            session.flush()


def test_credential_ref_must_be_a_reference_never_a_token(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as session:
        session.add(
            MarketplaceAccount(
                marketplace="backmarket",
                name="BM",
                credential_ref="eyJhbGciOi.token",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_naive_datetimes_are_refused_and_aware_ones_come_back_utc(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Store(name="Naive", country="FR", currency="EUR", created_at=datetime(2026, 1, 1), updated_at=NOW))
        with pytest.raises(StatementError, match="timezone"):
            session.flush()
        session.rollback()
        paris = timezone(timedelta(hours=1))
        session.add(Store(name="Aware", country="FR", currency="EUR", created_at=NOW.astimezone(paris), updated_at=NOW))
        session.commit()
        session.expire_all()
        store = session.exec(select(Store)).scalars().one()
        assert store.created_at == NOW and store.created_at.utcoffset() == timedelta(0)


def test_json_columns_track_in_place_changes_and_percent_keeps_rates(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        store = add_store(session)
        store.column_roles["sku"] = "Reference"  # a new object, edited in place after its flush
        channel = add_channel(session, store, add_account(session, "LBC", Marketplace.leboncoin), "FR")
        session.add(
            CategoryMapping(
                channel_id=channel.id,
                merchant_category="Phones",
                channel_category_id="17",
                commission=Decimal("12.5"),
                updated_at=NOW,
            )
        )
        session.commit()
        channel.settings["secure_payment"] = True  # edited after commit, saved by the next one
        session.commit()
        session.expire_all()
        assert session.get(Store, store.id).column_roles == {"sku": "Reference"}
        assert session.get(Channel, channel.id).settings == {"secure_payment": True}
        mapping = session.exec(select(CategoryMapping)).scalars().one()
        assert mapping.commission == Decimal("12.5000")
        assert NormalizedStatus.InProgress == "InProgress"


def test_nullable_json_stores_sql_null(engine: Engine) -> None:
    from shelfdesk.db.models import Order

    with Session(engine) as session:
        account = add_account(session)
        session.add(
            Order(
                account_id=account.id,
                marketplace="backmarket",
                marketplace_order_id="1",
                purchased_at=NOW,
                harvested_at=NOW,
                updated_at=NOW,
                shipping_address=None,
            )
        )
        session.commit()
        is_null, payload = session.exec(text("SELECT shipping_address IS NULL, payload FROM orders")).one()
        assert is_null  # 1 on SQLite, True on PostgreSQL
        assert payload in ("{}", {})  # SQLite hands back the JSON text, psycopg decodes it
