"""Bulk ship against the sandbox at its real rate limit: total time within 1.15x the floor, nothing lost or doubled.

    python benchmarks/bulk_ship.py [--orders 5000] [--concurrency 8] [--timeline]

The Back Market sandbox runs as its own process (``shelfdesk sandbox``) on
loopback, with the real clock and its real limit (200 requests per 10 s, then
a 10-second block); the connector sends up to that limit, counting each request
until a window after its answer. N accepted orders are harvested first (not
timed), then the job is timed: the CSV file is previewed and queued (one batch), and the outbox sender
ships every order. The floor is the number of API calls the job made (reads
included, counted in the sandbox's own request log) divided by the allowed
rate (20 requests per second). Lost = orders not shipped at the sandbox;
duplicated = orders the sandbox shipped more than once (its effects).

Measured on a 2-core machine: 5,000 orders, 10,000 calls, floor 500.0 s, total
500.8 s (ratio 1.002); 1,000 orders, 2,000 calls, floor 100.0 s, total 94.3 s
(0.943: a sliding window lets the first 200 calls go at once); none lost or
doubled, no 429. The sender spends about 40 ms of database work per order
(claim and record, one writer at a time), so it could ship about 25 orders a
second; the limit allows 10.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.domain import Marketplace
from shelfdesk.orders.bulk import apply_bulk_ship
from shelfdesk.orders.harvest import harvest
from shelfdesk.orders.outbox import OutboxSender
from shelfdesk.paths import resolve_paths
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN

ALLOWED_PER_SECOND = 200 / 10.0
SKUS = ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC", "GA52-128-BLK-EXC", "IPH13-128-MID-GOOD"]


@contextlib.contextmanager
def sandbox_process(state: Path):  # type: ignore[no-untyped-def]
    """``shelfdesk sandbox`` in its own process (the marketplace is not in ours); yields Back Market's URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "shelfdesk", "sandbox", "--port", str(port), "--state", str(state), "--orders-per-hour", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/_sandbox", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def setup(home: Path, url: str):  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    ctx = open_context(resolve_paths(home), clock=SystemClock())
    now = ctx.clock.now()
    ref = ctx.secrets.set("bench-bm", DEFAULT_TOKEN)
    with ctx.write_session() as session:
        store = Store(name="Bench", country="FR", currency="EUR", created_at=now, updated_at=now)
        account = MarketplaceAccount(
            marketplace=Marketplace.backmarket,
            name="BM bench",
            credential_ref=ref,
            base_url=url,
            company="Bench",
            contact_email="ops@bench.test",
            created_at=now,
            updated_at=now,
        )
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
                created_at=now,
                updated_at=now,
            )
        )
    return ctx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeline", action="store_true", help="print requests per 5 s as the sandbox saw them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sandbox_process(Path(tmp) / "sandbox") as url:
        admin = httpx.Client(base_url=url, timeout=600)
        per_sku = -(-args.orders // len(SKUS))
        created = admin.post("/_sandbox/orders", json={"skus": SKUS, "fate": "accepted", "count": per_sku}).json()["orders"]
        orders = [str(o["order_id"]) for o in created][: args.orders]
        ctx = setup(Path(tmp) / "ws", url)
        results = asyncio.run(harvest(ctx))
        assert all(r.ok for r in results), [r.error for r in results]
        csv_file = Path(tmp) / "parcels.csv"
        csv_file.write_text("order_id,carrier,tracking_number\n" + "".join(f"{o},Colissimo,6A{o}\n" for o in orders))
        print(f"{len(orders):,} accepted orders harvested; shipping them from {csv_file.name} …", flush=True)
        time.sleep(10.5)  # let the harvest's requests leave the sandbox's 10-second window
        before = len(admin.get("/_sandbox/requests").json()["entries"])

        started = time.perf_counter()
        plan, queued = apply_bulk_ship(ctx, csv_file, batch_key="bench")
        queued_at = time.perf_counter()

        async def send() -> int:
            async with OutboxSender(ctx, concurrency=args.concurrency) as sender:
                report = await sender.run_until_idle(batch_key="bench", max_wait=120)
            return len(report.outcomes)

        sent = asyncio.run(send())
        elapsed = time.perf_counter() - started
        log = admin.get("/_sandbox/requests").json()["entries"][before:]
        state = admin.get("/_sandbox/state").json()
        ctx.close()
    calls = len(log)
    if args.timeline and log:
        first = log[0]["t"]
        buckets = Counter(int((e["t"] - first) // 5) for e in log)
        print("requests per 5 s:", " ".join(str(buckets[b]) for b in range(max(buckets) + 1)))
    throttled = sum(1 for e in log if e["status"] == 429)
    ships = Counter(str(e["order_id"]) for e in state["effects"] if e.get("kind") == "order_action" and e.get("new_state") == 3)
    lost = [o for o in orders if ships[o] == 0]
    duplicated = [o for o, n in ships.items() if n > 1]
    floor = calls / ALLOWED_PER_SECOND
    minimal_floor = 2 * len(orders) / ALLOWED_PER_SECOND
    ratio = elapsed / floor
    print(
        f"{len(orders):,} orders: queued in {queued_at - started:.1f} s ({len(plan.valid):,} valid rows), "
        f"{sent:,} actions sent, {calls:,} API calls ({throttled} answered 429)"
    )
    print(
        f"total {elapsed:.1f} s; floor {floor:.1f} s (calls / 20 per s; 2 calls per order would be {minimal_floor:.1f} s); "
        f"ratio {ratio:.3f} (budget 1.15); lost {len(lost)}, duplicated {len(duplicated)}"
    )
    return 0 if ratio <= 1.15 and not lost and not duplicated else 1


if __name__ == "__main__":
    sys.exit(main())
