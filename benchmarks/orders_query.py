"""Orders screen queries on a large workspace: filtered first page and next page (budget: median < 50 ms).

    python benchmarks/generate.py --orders 1000000 --products 200000 --home bench-workspace
    python benchmarks/orders_query.py [--home bench-workspace] [--runs 21]

Times :func:`shelfdesk.orders.queries.list_orders` exactly as the console
calls it (a 100-row page with its lines and sync state), for filters an
operator uses, then the next page by keyset. Counts per status (run in a
worker when the filter changes, then cached) and a text search are printed
for information. Every list query's plan is checked: an index, no temporary
B-tree.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite

from shelfdesk.clock import SystemClock
from shelfdesk.context import AppContext, open_context
from shelfdesk.domain import NormalizedStatus
from shelfdesk.orders.queries import OrderFilter, count_by_status, list_orders, list_query, lookups
from shelfdesk.paths import resolve_paths

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-workspace"
BUDGET_MS = 50.0


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the page cache and the statement cache once
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def plan(ctx: AppContext, flt: OrderFilter) -> str:
    sql = str(list_query(flt).compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with ctx.engine.connect() as conn:
        return " | ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    if not (args.home / "shelfdesk.db").exists():
        print(f"no workspace in {args.home}: run benchmarks/generate.py --orders 1000000 first", file=sys.stderr)
        return 2
    ctx = open_context(resolve_paths(args.home, f"sqlite:///{args.home / 'shelfdesk.db'}"), clock=SystemClock())
    from shelfdesk.db.models import Order

    with ctx.read_session() as session:
        total = session.execute(select(func.count()).select_from(Order)).scalar() or 0
        newest = session.execute(select(func.max(Order.purchased_at))).scalar()
    names = lookups(ctx)
    channel = next(iter(names.channels))
    store = next(iter(names.stores))
    filters = {
        "status New, channel": OrderFilter(status=NormalizedStatus.New, channel_id=channel),
        "status InProgress, store, last 90 days": OrderFilter(status=NormalizedStatus.InProgress, store_id=store,
                                                              purchased_after=newest - timedelta(days=90)),  # fmt: skip
        "status Shipped, purchased in one year": OrderFilter(status=NormalizedStatus.Shipped, purchased_after=newest - timedelta(days=500),
                                                             purchased_before=newest - timedelta(days=135)),  # fmt: skip
        "channel only": OrderFilter(channel_id=channel),
        "no filter": OrderFilter(),
    }
    print(f"{total:,} orders in {args.home}; median of {args.runs} runs, 100-row pages")
    worst = 0.0
    for label, flt in filters.items():
        first = list_orders(ctx, flt, names=names)
        first_ms = median_ms(lambda: list_orders(ctx, flt, names=names), args.runs)
        next_ms = median_ms(lambda: list_orders(ctx, flt, after=first.last, names=names), args.runs)
        steps = plan(ctx, flt)
        ok = "TEMP B-TREE" not in steps and "INDEX" in steps
        worst = max(worst, first_ms, next_ms)
        print(f"  {label:<40} first page {first_ms:6.2f} ms   next page {next_ms:6.2f} ms   plan {'ok' if ok else 'BAD: ' + steps}")
        if not ok:
            worst = float("inf")
    search = OrderFilter(text="Buyer 99999")
    print(f"  {'text search (buyer), first page':<40} {median_ms(lambda: list_orders(ctx, search, names=names), 5):6.2f} ms (information)")
    for label in ("status New, channel", "no filter"):
        flt = filters[label]
        print(f"  {'counts per status: ' + label:<40} {median_ms(lambda: count_by_status(ctx, flt), 5):6.2f} ms (information; cached while paging)")
    ctx.close()
    print(f"worst filtered page median: {worst:.2f} ms (budget {BUDGET_MS:.0f} ms)")
    return 0 if worst < BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
