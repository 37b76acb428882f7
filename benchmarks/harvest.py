"""Local harvest throughput: marketplace orders stored per second (budget: at least 20,000 / s).

    python benchmarks/harvest.py [--orders 50000] [--page 500] [--runs 3]

Builds Back Market-shaped orders in memory (with lines, addresses and raw
payloads like the connector's), then times the very function the harvest
uses, :func:`shelfdesk.orders.store.store_remote_orders`, one transaction per
page, into a fresh workspace: first as new orders (inserts, "created"
events), then the same orders again modified (updates with status and
address events). Network time is not part of it: this is the local side.

``--floor`` also records every SQL statement the timed part sent (the
engine's own events) and replays them, with the same parameters and
transactions, on a fresh copy of the schema through the plain ``sqlite3``
module: what the database alone needs for the same work, with no Python of
ours at all. It is the ceiling any Python-side speed-up can approach.

Wall time is what the budget is about; CPU time (``time.process_time``) is
printed beside it because a shared machine's other load slows the wall clock
and hardly the CPU time: a wall figure far under the CPU one means the
machine was busy, not the code.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from shelfdesk.channels.base import RemoteOrder, RemoteOrderLine
from shelfdesk.clock import FakeClock
from shelfdesk.context import open_context
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus
from shelfdesk.orders.store import load_scope, store_remote_orders
from shelfdesk.paths import resolve_paths

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def make_orders(count: int, *, modified: datetime, state: str, status: NormalizedStatus) -> list[RemoteOrder]:
    orders = []
    for n in range(count):
        oid = str(40_000_000 + n)
        address = {
            "first_name": "Camille",
            "last_name": f"Martin{n % 97}",
            "street": f"{n % 120} rue Pasteur",
            "street2": "",
            "postal_code": "75011",
            "city": "Paris",
            "country": "FR",
            "phone": "+33600000000",
            "email": f"buyer{n}@example.org",
            "company": "",
        }
        lines = [
            RemoteOrderLine(
                f"{60_000_000 + 2 * n + k}",
                f"IPH13-128-{k}",
                1,
                Decimal("629.00"),
                "EUR",
                state,
                status,
                title="iPhone 13 128 Go - Minuit",
                raw={"id": 60_000_000 + 2 * n + k, "state": state},
            )
            for k in range(1 + (n % 5 == 0))
        ]
        raw = {
            "order_id": int(oid),
            "state": state,
            "orderlines": [l.raw for l in lines],
            "shipping_address": address,
            "billing_address": address,
            "price": "629.00",
            "currency": "EUR",
            "country_code": "FR",
            "date_creation": modified.isoformat(),
            "payment_method": "CARD",
        }
        orders.append(
            RemoteOrder(
                Marketplace.backmarket,
                oid,
                state,
                status,
                NOW - timedelta(minutes=n),
                modified,
                "EUR",
                Decimal("629.00") * len(lines),
                lines,
                country="FR",
                customer_name="Camille Martin",
                shipping_address=address if status is not NormalizedStatus.New else {},
                allowed_actions=(ActionKind.accept, ActionKind.cancel),
                raw=raw,
            )
        )
    return orders


def run_once(count: int, page: int, home: Path, journal: list[Any] | None = None) -> list[tuple[float, float]]:
    """Orders per second (wall, CPU) for the new orders, then for the same orders changed.

    ``journal``, when given, receives every statement the timed part sends
    (see :func:`replay`), with a ``None`` between the two phases.
    """
    ctx = open_context(resolve_paths(home), clock=FakeClock(NOW))
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    with ctx.write_session() as session:
        store = Store(name="S", country="FR", currency="EUR", created_at=NOW, updated_at=NOW)
        account = MarketplaceAccount(marketplace=Marketplace.backmarket, name="BM", created_at=NOW, updated_at=NOW)
        session.add_all([store, account])
        session.flush()
        session.add(
            Channel(
                store_id=store.id,
                account_id=account.id,
                marketplace=Marketplace.backmarket,
                market="fr-fr",
                country="FR",
                name="BM FR",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()
        scope = load_scope(session, account.id)
    timings = []
    for modified, state, status in ((NOW, "1", NormalizedStatus.New), (NOW + timedelta(hours=1), "3", NormalizedStatus.InProgress)):
        orders = make_orders(count, modified=modified, state=state, status=status)
        if journal is not None:
            stop = _record(ctx.engine, journal)
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, count, page):
            with ctx.write_session() as session:
                store_remote_orders(session, scope, orders[start : start + page], NOW)
        timings.append((count / (time.perf_counter() - started), count / (time.process_time() - cpu)))
        if journal is not None:
            stop()
            journal.append(None)
    ctx.close()
    return timings


def _record(engine: Any, journal: list[Any]) -> Any:
    """Append each statement sent through ``engine`` to ``journal`` (and "COMMIT" for commits); returns the stop function."""
    from sqlalchemy import event

    def statement(_conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, many: bool) -> None:
        journal.append((sql, list(parameters) if many else parameters, many))

    def commit(_conn: Any) -> None:
        journal.append(("COMMIT", (), False))

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)

    def stop() -> None:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)

    return stop


def replay(journal: list[Any], count: int, home: Path) -> list[float]:
    """Orders per second of each phase when ``journal``'s statements run alone on a fresh copy of the schema.

    The copy is the database of the recorded run as it stood before the timed
    part: same migrations, same store, account and channel rows (made by
    :func:`run_once` with ``count=0``). Connection settings are the engine's
    (WAL, synchronous=NORMAL, foreign keys on); each SELECT's rows are fetched.
    """
    import sqlite3

    run_once(0, 1, home)
    db = sqlite3.connect(resolve_paths(home).database_file, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        db.execute(f"PRAGMA {pragma}")
    rates, started = [], time.perf_counter()
    for entry in journal:
        if entry is None:
            rates.append(count / (time.perf_counter() - started))
            started = time.perf_counter()
            continue
        sql, parameters, many = entry
        cursor = db.executemany(sql, parameters) if many else db.execute(sql, parameters)
        if sql.lstrip().upper().startswith("SELECT"):
            cursor.fetchall()
    db.close()
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--page", type=int, default=500, help="orders per transaction (the harvest stores up to 500)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floor", action="store_true", help="also replay the recorded SQL alone (the database's own ceiling)")
    args = parser.parse_args()
    runs, floors = [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            journal: list[Any] | None = [] if args.floor else None
            runs.append(run_once(args.orders, args.page, Path(tmp) / f"ws{run}", journal))
            if journal is not None:
                floors.append(replay(journal, args.orders, Path(tmp) / f"replay{run}"))
    (ins, ins_cpu), (upd, upd_cpu) = [
        (statistics.median(r[phase][0] for r in runs), statistics.median(r[phase][1] for r in runs)) for phase in (0, 1)
    ]
    print(
        f"harvest store, {args.orders:,} orders, {args.page} per transaction, median of {args.runs}:\n"
        f"  new      {ins:8,.0f} orders/s wall   {ins_cpu:8,.0f} orders/s CPU\n"
        f"  changed  {upd:8,.0f} orders/s wall   {upd_cpu:8,.0f} orders/s CPU   (budget 20,000/s wall)"
    )
    if floors:
        new_floor, changed_floor = (statistics.median(f[phase] for f in floors) for phase in (0, 1))
        print(
            f"the same SQL replayed alone (sqlite3 module, no shelfdesk code), median of {args.runs}:\n"
            f"  new      {new_floor:8,.0f} orders/s wall\n  changed  {changed_floor:8,.0f} orders/s wall"
        )
    return 0 if min(ins, upd) >= 20_000 else 1


if __name__ == "__main__":
    sys.exit(main())
