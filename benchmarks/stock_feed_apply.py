"""How long a 20,000-row stock feed takes to apply (read, compare, write what changed, mark it for the pusher).

    python benchmarks/stock_feed_apply.py [--rows 20000] [--changed 0.05] [--runs 3] [--home bench-stock-feed]

Fills a throwaway workspace: one store with ``--rows`` products, two
activated channels (so every changed SKU is marked for both). Each run applies a
stock file of every SKU in which ``--changed`` of
the quantities moved, through the same service as ``shelfdesk stock import``
and a store's stock feed (``services.stock.set_stock_text``), and prints its
time. Budget: well under a second.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from decimal import Decimal
from pathlib import Path

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-stock-feed"
MARK = ".shelfdesk-bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from shelfdesk.clock import SystemClock
    from shelfdesk.context import open_context
    from shelfdesk.db.models import Channel, MarketplaceAccount, Product, Store
    from shelfdesk.domain import Marketplace
    from shelfdesk.paths import resolve_paths
    from shelfdesk.services.stock import set_stock_text

    home: Path = args.home
    if home.exists():
        if not (home / MARK).exists():
            raise SystemExit(f"{home} exists and is not a benchmark workspace; refusing to overwrite it")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARK).write_text("throwaway workspace of benchmarks/stock_feed_apply.py\n")
    ctx = open_context(resolve_paths(home, f"sqlite:///{home / 'shelfdesk.db'}"), clock=SystemClock())
    now = ctx.clock.now()
    with ctx.write_session() as session:
        store = Store(name="Bench store", country="FR", currency="EUR", created_at=now, updated_at=now)
        accounts = [
            MarketplaceAccount(marketplace=m, name=f"Bench {m}", created_at=now, updated_at=now)
            for m in (Marketplace.backmarket, Marketplace.leboncoin)
        ]
        session.add_all([store, *accounts])
        session.flush()
        for account, market in zip(accounts, ("fr-fr", "FR"), strict=True):
            session.add(
                Channel(
                    store_id=store.id,
                    account_id=account.id,
                    marketplace=account.marketplace,
                    market=market,
                    country="FR",
                    name=f"{account.marketplace} France",
                    activated_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
        store_id = int(store.id)  # type: ignore[arg-type]
    stock = {f"BENCH-{i:06d}": i % 17 for i in range(args.rows)}
    with ctx.engine.begin() as conn:
        conn.execute(
            Product.__table__.insert(),
            [
                dict(
                    store_id=store_id,
                    sku=sku,
                    title=sku,
                    price=Decimal("100.00"),
                    stock=qty,
                    stock_imported_at=now,
                    attributes={},
                    first_seen_at=now,
                    last_seen_at=now,
                    gone=False,
                    updated_at=now,
                )
                for sku, qty in stock.items()
            ],
        )
    rng = random.Random(3)
    times = []
    for run in range(args.runs):
        for sku in rng.sample(sorted(stock), int(args.rows * args.changed)):
            stock[sku] = (stock[sku] + 1 + run) % 20
        text = "sku,quantity\n" + "".join(f"{sku},{qty}\n" for sku, qty in stock.items())
        started = time.perf_counter()
        result = set_stock_text(ctx, store_id, text, source="stock feed")
        times.append(time.perf_counter() - started)
        print(f"run {run + 1}: {args.rows:,} rows, {result.changed:,} changed, {result.marked:,} marks: {times[-1] * 1000:.0f} ms")
    print(f"median {statistics.median(times) * 1000:.0f} ms for {args.rows:,} rows (budget: well under a second)")
    ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
