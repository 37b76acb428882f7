"""Fill a throwaway workspace with a large, realistic data set for benchmarks.

    python benchmarks/generate.py --orders 1000000 --products 200000 [--home bench-workspace]

Products cycle through the demo catalog's families with numbered variants;
orders spread over two years across both marketplaces and every status.
Rows go in through Core executemany in batches, never as ORM objects (which
cost about 40 µs each to build: five times slower for a bulk load).
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.demo.build import fill_demo, prepare_folder
from shelfdesk.demo.catalog import demo_catalog
from shelfdesk.domain import NormalizedStatus
from shelfdesk.orders.terms import fill_search_terms
from shelfdesk.paths import resolve_paths

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-workspace"
BATCH = 5_000
STATUSES = [
    (NormalizedStatus.Shipped, "9", 55),
    (NormalizedStatus.Closed, "9", 15),
    (NormalizedStatus.New, "1", 8),
    (NormalizedStatus.InProgress, "3", 10),
    (NormalizedStatus.Canceled, "8", 10),
    (NormalizedStatus.Undefined, "42", 1),
    (NormalizedStatus.NotProvided, None, 1),
]


def _insert(conn, table, rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    if rows:
        conn.execute(table.insert(), rows)


def add_products(ctx, store_id: int, count: int) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import Product

    catalog, now = demo_catalog(), ctx.clock.now()
    existing = {p.sku for p in catalog}
    batch: list[dict] = []
    with ctx.engine.begin() as conn:
        for i in range(count):
            base = catalog[i % len(catalog)]
            sku = f"{base.sku}-V{i // len(catalog):04d}"
            if sku in existing:
                continue
            batch.append(
                dict(
                    store_id=store_id,
                    sku=sku,
                    ean=None,
                    title=f"{base.title} #{i}",
                    brand=base.brand,
                    category_path=base.category_path,
                    price=base.price,
                    stock=i % 17,
                    stock_imported_at=now,
                    attributes=base.attributes,
                    first_seen_at=now,
                    last_seen_at=now,
                    gone=False,
                    updated_at=now,
                )
            )
            if len(batch) >= BATCH:
                _insert(conn, Product.__table__, batch)
                batch = []
        _insert(conn, Product.__table__, batch)


def add_orders(ctx, count: int, seed: int = 3) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, Order, OrderLine

    rng, now = random.Random(seed), ctx.clock.now()
    with ctx.engine.begin() as conn:
        channels = conn.execute(
            select(Channel.id, Channel.account_id, Channel.store_id, Channel.marketplace, Channel.market, Channel.country)
        ).all()
        start_id = (conn.execute(select(Order.id).order_by(Order.id.desc()).limit(1)).scalar() or 0) + 1
        statuses, weights = list(zip(*[(s[:2], s[2]) for s in STATUSES]))
        orders: list[dict] = []
        lines: list[dict] = []
        for n in range(count):
            order_id = start_id + n
            channel = channels[n % len(channels)]
            status, raw = rng.choices(statuses, weights)[0]
            purchased = now - timedelta(minutes=rng.randint(1, 2 * 365 * 24 * 60))
            price = Decimal(rng.randint(1500, 120000)) / 100
            orders.append(
                dict(
                    id=order_id,
                    account_id=channel.account_id,
                    channel_id=channel.id,
                    store_id=channel.store_id,
                    marketplace=channel.marketplace,
                    marketplace_order_id=f"B{order_id:09d}",
                    market=channel.market,
                    country=channel.country,
                    marketplace_status=raw,
                    status=status,
                    purchased_at=purchased,
                    modified_at=purchased + timedelta(hours=6),
                    harvested_at=now,
                    updated_at=now,
                    total=price,
                    shipping_price=Decimal("0.00"),
                    currency="EUR",
                    buyer_name=f"Buyer {order_id}",
                    buyer_email=f"buyer{order_id}@example.org",
                    payload={"order_id": order_id, "state": raw},
                )
            )
            lines.append(
                dict(
                    order_id=order_id,
                    marketplace_line_id=f"{order_id}-1",
                    sku=f"SKU-{n % 200000}",
                    title="Benchmark item",
                    quantity=1,
                    unit_price=price,
                    marketplace_status=raw,
                    status=status,
                    options={},
                )
            )
            if len(orders) >= BATCH:
                _insert(conn, Order.__table__, orders)
                _insert(conn, OrderLine.__table__, lines)
                orders, lines = [], []
        _insert(conn, Order.__table__, orders)
        _insert(conn, OrderLine.__table__, lines)
        # Orders written here, not by the harvest: their search terms too (what the text filter reads).
        fill_search_terms(conn, after_id=start_id - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=20_000)
    args = parser.parse_args()
    if args.home.exists():
        if not (args.home / ".shelfdesk-demo").exists():
            raise SystemExit(f"{args.home} exists and is not a generated workspace; refusing to overwrite it")
        shutil.rmtree(args.home)
    prepare_folder(args.home, reset=True)
    ctx = open_context(resolve_paths(args.home, f"sqlite:///{args.home / 'shelfdesk.db'}"), clock=SystemClock())
    started = time.perf_counter()
    fill_demo(ctx)
    from sqlalchemy import select

    from shelfdesk.db.models import Store

    with ctx.read_session() as session:
        store_id = session.exec(select(Store.id).where(Store.country == "FR")).one()[0]  # type: ignore[call-overload]
    add_products(ctx, store_id, max(0, args.products - 2000))
    t_products = time.perf_counter()
    add_orders(ctx, args.orders)
    t_orders = time.perf_counter()
    with ctx.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    ctx.close()
    size = (args.home / "shelfdesk.db").stat().st_size / 1e6
    print(
        f"workspace {args.home}: {args.products:,} products in {t_products - started:.1f} s, "
        f"{args.orders:,} orders in {t_orders - t_products:.1f} s, database {size:,.0f} MB"
    )


if __name__ == "__main__":
    main()
