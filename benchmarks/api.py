"""The HTTP API on a large workspace: a list page and an order's detail, over loopback (p50/p95).

    python benchmarks/generate.py --orders 1000000 --products 200000 --home bench-workspace
    python benchmarks/api.py [--home bench-workspace] [--requests 400]

Serves the API with one uvicorn worker on a free loopback port (the same
``start_api`` the tests use), creates a throwaway read token, and times from
an httpx client over keep-alive: the first page of 50 orders, a filtered
page (status and channel), the next page by cursor, and the detail of
orders picked at random. Budget: p50 under 50 ms and p95 under 100 ms.
Prints the figures; the token is revoked at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import func, select

from shelfdesk.api.app import ApiSettings
from shelfdesk.api.server import start_api
from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.paths import resolve_paths
from shelfdesk.services.api_tokens import add_token, revoke_token

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-workspace"
P50_BUDGET_MS, P95_BUDGET_MS = 50.0, 100.0


def measure(name: str, call: Callable[[], httpx.Response], requests: int) -> tuple[float, float]:
    for _ in range(5):  # warm the caches and the connection
        call().raise_for_status()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    ok = "ok" if p50 < P50_BUDGET_MS and p95 < P95_BUDGET_MS else "OVER BUDGET"
    print(f"{name:<34} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({requests} requests) {ok}")
    return p50, p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    if not (args.home / "shelfdesk.db").exists():
        print(f"no workspace in {args.home}: run benchmarks/generate.py first", file=sys.stderr)
        return 2
    from shelfdesk.db.models import Order

    ctx = open_context(resolve_paths(args.home), clock=SystemClock())
    with ctx.read_session() as session:
        count = session.execute(select(func.count()).select_from(Order)).scalar_one()
        top = session.execute(select(func.max(Order.id))).scalar_one()
    name = f"bench-{random.randrange(10**9)}"
    _, token = add_token(ctx, name, "read")
    rng = random.Random(5)
    print(f"{count:,} orders in {args.home}")
    failed = False
    try:
        with (
            start_api(ctx, ApiSettings(rate=1e6, burst=1_000_000)) as api,
            httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client,
        ):
            first = client.get("/v1/orders").json()
            cursor = first["next"]
            results = [
                measure("list: first page (50)", lambda: client.get("/v1/orders"), args.requests),
                measure(
                    "list: status=Shipped&channel=1",
                    lambda: client.get("/v1/orders", params={"status": "Shipped", "channel": "1"}),
                    args.requests,
                ),
                measure("list: next page by cursor", lambda: client.get("/v1/orders", params={"cursor": cursor}), args.requests),
                measure("detail: random order", lambda: client.get(f"/v1/orders/%23{rng.randint(1, top)}"), args.requests),
            ]
            failed = any(p50 >= P50_BUDGET_MS or p95 >= P95_BUDGET_MS for p50, p95 in results)
    finally:
        revoke_token(ctx, name)
        ctx.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
