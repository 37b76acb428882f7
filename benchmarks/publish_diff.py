"""Build and diff an offers feed for a 200,000-product catalog against the previous publication.

    python benchmarks/publish_diff.py [--products 200000] [--runs 3] [--home bench-publish]

Fills a throwaway workspace (Core executemany, never ORM objects): one store,
a Back Market channel, ``--products`` catalog products, and the channel's
listing state as the previous successful publication left it. Then the
catalog moves as it does between two runs: 2 % of the products change stock,
0.5 % change price, 0.2 % are flagged gone, and the marketplace lists 100
SKUs the catalog never had. Each measured run is a fresh process that plans
the update-mode offers feed exactly as a real run does after reading the
listings (stock policy with open orders, exclusions, mappings, priorities,
quota), so the figure includes imports, queries and the diff.

Budget: under 3 s and under 400 MB peak memory on a 2-core machine. Prints
the median time and the worst peak RSS of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-publish"
MARK = ".shelfdesk-bench"
BATCH = 5_000


def build(home: Path, products: int, seed: int = 11) -> int:
    """Create the workspace; returns the channel id."""
    from shelfdesk.clock import SystemClock
    from shelfdesk.context import open_context
    from shelfdesk.db.models import Channel, ChannelListing, ExclusionRule, MarketplaceAccount, Product, Store
    from shelfdesk.domain import ExclusionOperator, Marketplace
    from shelfdesk.paths import resolve_paths

    if home.exists():
        if not (home / MARK).exists():
            raise SystemExit(f"{home} exists and is not a benchmark workspace; refusing to overwrite it")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARK).write_text("throwaway workspace of benchmarks/publish_diff.py\n")
    ctx = open_context(resolve_paths(home, f"sqlite:///{home / 'shelfdesk.db'}"), clock=SystemClock())
    now = ctx.clock.now()
    rng = random.Random(seed)
    with ctx.write_session() as session:
        store = Store(name="Bench store", country="FR", currency="EUR", created_at=now, updated_at=now)
        account = MarketplaceAccount(marketplace=Marketplace.backmarket, name="Bench BM", created_at=now, updated_at=now)
        session.add_all([store, account])
        session.flush()
        channel = Channel(
            store_id=store.id,
            account_id=account.id,
            marketplace=Marketplace.backmarket,
            market="fr-fr",
            country="FR",
            name="Back Market France",
            created_at=now,
            updated_at=now,
        )
        session.add(channel)
        session.flush()
        session.add(
            ExclusionRule(
                channel_id=channel.id, field="category", operator=ExclusionOperator.equals, value="Bench > Excluded", updated_at=now
            )
        )
        store_id, channel_id = int(store.id), int(channel.id)  # type: ignore[arg-type]
    prices = [Decimal(f"{rng.randint(500, 150000) / 100:.2f}") for _ in range(997)]
    with ctx.engine.begin() as conn:
        rows, listings = [], []
        for i in range(products):
            sku = f"BENCH-{i:07d}"
            price, stock = prices[i % len(prices)], i % 23
            category = "Bench > Excluded" if i % 500 == 0 else "Bench > Phones"
            rows.append(
                dict(
                    store_id=store_id,
                    sku=sku,
                    ean=None,
                    title=f"Product {i}",
                    brand="Bench",
                    category_path=category,
                    price=price,
                    stock=stock,
                    stock_imported_at=now,
                    attributes={"grade": "GOOD"},
                    first_seen_at=now,
                    last_seen_at=now,
                    gone=False,
                    updated_at=now,
                )
            )
            published_stock = 0 if category == "Bench > Excluded" else stock
            listings.append(
                dict(
                    channel_id=channel_id,
                    sku=sku,
                    sku_key=sku.casefold(),
                    remote_id=f"L{i}",
                    remote_price=price,
                    remote_quantity=published_stock,
                    published_price=price,
                    published_quantity=published_stock,
                    published_at=now,
                    last_outcome="updated",
                    updated_at=now,
                )
            )
            if len(rows) >= BATCH:
                conn.execute(Product.__table__.insert(), rows)
                conn.execute(ChannelListing.__table__.insert(), listings)
                rows, listings = [], []
        for n in range(100):  # SKUs the marketplace lists that the catalog never had
            listings.append(
                dict(
                    channel_id=channel_id,
                    sku=f"ORPHAN-{n}",
                    sku_key=f"orphan-{n}",
                    remote_id=f"O{n}",
                    remote_price=Decimal("10.00"),
                    remote_quantity=1,
                    published_price=None,
                    published_quantity=None,
                    published_at=None,
                    last_outcome=None,
                    updated_at=now,
                )
            )
        if rows:
            conn.execute(Product.__table__.insert(), rows)
        conn.execute(ChannelListing.__table__.insert(), listings)
        t = Product.__table__
        ids = list(range(1, products + 1))
        changes = (("stock", 0.02), ("price", 0.005), ("gone", 0.002))
        for column, share in changes:
            picked = rng.sample(ids, int(products * share))
            for start in range(0, len(picked), 900):
                chunk = picked[start : start + 900]
                if column == "stock":
                    conn.execute(t.update().where(t.c.id.in_(chunk)).values(stock=t.c.stock + 3))
                elif column == "price":
                    conn.execute(t.update().where(t.c.id.in_(chunk)).values(price=t.c.price + 100))
                else:
                    conn.execute(t.update().where(t.c.id.in_(chunk)).values(gone=True))
        conn.exec_driver_sql("ANALYZE")
    ctx.close()
    return channel_id


def measure(home: Path, channel_id: int) -> dict[str, object]:
    """One plan of the update-mode offers feed, in this (fresh) process."""
    started = time.perf_counter()
    from shelfdesk.clock import SystemClock
    from shelfdesk.context import open_context
    from shelfdesk.domain import PublicationKind, PublicationMode
    from shelfdesk.paths import resolve_paths
    from shelfdesk.publishing.channel import load_channel
    from shelfdesk.publishing.plan import build_plan
    from shelfdesk.publishing.quota import run_quota

    ctx = open_context(resolve_paths(home, f"sqlite:///{home / 'shelfdesk.db'}"), clock=SystemClock(), read_only=True)
    imported = time.perf_counter()
    cpu = time.process_time()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    channel = load_channel(ctx, channel_id)
    plan = build_plan(ctx, channel, PublicationKind.offers, PublicationMode.update, quota=run_quota(ctx, channel))
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ctx.close()
    return {
        "plan_seconds": done - imported,
        "cpu_seconds": cpu,
        "process_seconds": done - started,
        "peak_mb": peak / 1024,
        "plan_mb": (peak - rss_before) / 1024,
        "built": plan.built,
        "send": len(plan.to_send),
        "queued": len(plan.queued),
        "skipped": sum(plan.skipped.values()),
        "excluded": plan.excluded,
        "priorities": plan.rank_counts(plan.to_send + plan.queued),
        "actions": plan.action_counts(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure", type=int, metavar="CHANNEL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.home, args.measure)))
        return
    t0 = time.perf_counter()
    channel_id = build(args.home, args.products)
    print(f"workspace {args.home}: {args.products:,} products and their published state in {time.perf_counter() - t0:.1f} s")
    results = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--home", str(args.home), "--measure", str(channel_id)], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    last = results[-1]
    plan = statistics.median(r["plan_seconds"] for r in results)
    process = statistics.median(r["process_seconds"] for r in results)
    cpu = statistics.median(r["cpu_seconds"] for r in results)
    peak = max(r["peak_mb"] for r in results)
    print(
        f"plan: built {last['built']:,}, excluded {last['excluded']:,}, to send {last['send']:,} "
        f"(quota), queued {last['queued']:,}, skipped {last['skipped']:,}"
    )
    print(f"      by priority {last['priorities']}, actions sent now {last['actions']}")
    print(
        f"build + diff: median {plan:.2f} s over {len(results)} fresh processes (with imports and opening the workspace: {process:.2f} s)"
    )
    print(
        f"CPU time of build + diff: median {cpu:.2f} s (wall time grows when other work shares the cores; "
        f"load average now {os.getloadavg()[0]:.1f})"
    )
    print(f"peak memory: {peak:.0f} MB RSS for the whole process (budget: 3 s, 400 MB)")
    sys.exit(0 if plan < 3.0 and peak < 400 else 1)


if __name__ == "__main__":
    main()
