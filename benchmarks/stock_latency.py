"""How long a sale on one marketplace takes to reach the other as quantity 0, and a feed change to reach it.

    python benchmarks/stock_latency.py [--harvest 10] [--skus 50] [--window 60] [--refresh 30] [--changes 10]

Everything runs as it would in production, each in its own process: both
sandboxes (``shelfdesk sandbox``) and a worker (``shelfdesk worker``) with
the default schedules, except the order harvest, set to ``--harvest`` seconds
to keep the run short. The script fills a throwaway workspace: one store,
Back Market France and Leboncoin France activated, ``--skus`` phones with one
unit left listed on both, plus ``--changes`` SKUs whose stock comes from the
store's catalog feed, served by this script over loopback HTTP.

1. Sales: the last unit of each phone is sold on the Leboncoin sandbox (its
   admin API) at a random moment within ``--window`` seconds; the time until
   Back Market received quantity 0 for it is read from the Back Market
   sandbox's own request log. Budget: p95 ≤ one harvest interval + 10 s, and
   no unit oversold (no quantity above 0 sent after a sale, every listing at
   0 at the end).
2. Feed: the catalog's refresh interval is set to ``--refresh`` seconds; the
   stock of ``--changes`` SKUs changes at the feed's URL at random moments;
   the time until Back Market received the new quantity is read the same way.
   Budget: p95 ≤ the refresh interval + 10 s.

Prints p50 and p95 of each as a multiple of the interval plus a constant.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-stock"
MARK = ".shelfdesk-bench"
TOKEN = "bench-token-0123456789"


def free_port() -> int:
    """Two consecutive free ports (Back Market's, then Leboncoin's); returns the first."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        try:
            with socket.socket() as b:
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise SystemExit("no two consecutive free ports")


class Feed:
    """The merchant's catalog at a URL (ETag changes with every version)."""

    def __init__(self, rows: dict[str, tuple[str, int]]) -> None:
        self.rows = dict(rows)
        self.version = 1
        self.lock = threading.Lock()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with feed.lock:
                    body, etag = feed.body(), f'"v{feed.version}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/catalog.csv"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def body(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["sku", "title", "category", "price", "stock"])
        for sku, (price, stock) in sorted(self.rows.items()):
            writer.writerow([sku, f"Phone {sku}", "Phones > Smartphones", price, stock])
        return out.getvalue().encode()

    def set(self, sku: str, stock: int) -> None:
        with self.lock:
            self.rows[sku] = (self.rows[sku][0], stock)
            self.version += 1


def build(home: Path, bm_url: str, lbc_url: str, feed: Feed, harvest: int) -> dict[str, int]:
    """The workspace, its first catalog import and first offers runs (listings learnt); returns ids."""
    from shelfdesk.catalog.feeds import CATALOG, set_feed
    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.clock import SystemClock
    from shelfdesk.context import open_context
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store
    from shelfdesk.domain import Marketplace
    from shelfdesk.jobs.schedules import ensure_schedules, set_interval
    from shelfdesk.paths import resolve_paths
    from shelfdesk.publishing.engine import publish_sync

    ctx = open_context(resolve_paths(home, f"sqlite:///{home / 'shelfdesk.db'}"), clock=SystemClock())
    now = ctx.clock.now()
    bm_ref, lbc_ref = ctx.secrets.set("bench-bm", TOKEN), ctx.secrets.set("bench-lbc", TOKEN)
    with ctx.write_session() as session:
        store = Store(
            name="Bench store", country="FR", currency="EUR", catalog_source=feed.url, catalog_format="csv", created_at=now, updated_at=now
        )
        bm = MarketplaceAccount(
            marketplace=Marketplace.backmarket,
            name="Bench BM",
            credential_ref=bm_ref,
            base_url=bm_url,
            company="Bench",
            contact_email="ops@bench.example",
            created_at=now,
            updated_at=now,
        )
        lbc = MarketplaceAccount(
            marketplace=Marketplace.leboncoin, name="Bench LBC", credential_ref=lbc_ref, base_url=lbc_url, created_at=now, updated_at=now
        )
        session.add_all([store, bm, lbc])
        session.flush()
        bm_ch = Channel(
            store_id=store.id,
            account_id=bm.id,
            marketplace=Marketplace.backmarket,
            market="fr-fr",
            country="FR",
            name="Back Market France",
            activated_at=now,
            created_at=now,
            updated_at=now,
        )
        lbc_ch = Channel(
            store_id=store.id,
            account_id=lbc.id,
            marketplace=Marketplace.leboncoin,
            market="FR",
            country="FR",
            name="Leboncoin France",
            activated_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add_all([bm_ch, lbc_ch])
        session.flush()
        ids = {"store": int(store.id), "bm": int(bm_ch.id), "lbc": int(lbc_ch.id)}  # type: ignore[arg-type]
    result = import_catalog(ctx, ids["store"])
    assert result.ok, result.error
    for channel in (ids["bm"], ids["lbc"]):
        publish_sync(ctx, channel, "offers", "update", started_by="bench")
    from sqlalchemy import delete

    from shelfdesk.db.models import StockDirty

    with ctx.write_session() as session:  # the first import's marks are already published by those runs
        session.execute(delete(StockDirty))
    set_feed(ctx, ids["store"], CATALOG, enabled=False)  # phase 1 measures the orders path alone
    ensure_schedules(ctx)
    for channel in (ids["bm"], ids["lbc"]):
        set_interval(ctx, f"harvest:{channel}", harvest)
    ctx.close()
    return ids


def seed_sandboxes(state: Path, listings: dict[str, tuple[str, int]]) -> None:
    from shelfdesk.clock import SystemClock
    from shelfdesk.sandbox.backmarket import BackMarketSandbox
    from shelfdesk.sandbox.leboncoin import LeboncoinSandbox

    clock = SystemClock()
    bm = BackMarketSandbox(state / "backmarket", clock=clock, token=TOKEN, orders_per_hour=0, history_orders=0)
    lbc = LeboncoinSandbox(state / "leboncoin", clock=clock, refresh_token=TOKEN, orders_per_hour=0)
    for sku, (price, quantity) in listings.items():
        bm.ensure_listing(sku, Decimal(price), quantity=quantity, title=f"Phone {sku}")
        lbc.ensure_listing(
            sku,
            Decimal(price),
            quantity=quantity,
            title=f"Phone {sku}",
            condition="refurbished",
            category="multimedia.phones.smartphones",
            attributes={"brand": "Bench", "model": sku, "storage": "128 GB"},
        )
    for sandbox in (bm, lbc):
        sandbox.save_snapshot()


def arrivals(bm: httpx.Client, skus: set[str]) -> list[tuple[float, str, int]]:
    """(sandbox time, SKU, quantity) of every quantity Back Market received for ``skus``, real-time or batch."""
    state = bm.get("/_sandbox/state").json()
    by_id: dict[str, str] = {}
    for listing in state["listings"].values():
        by_id[str(listing["id"])] = by_id[str(listing["listing_id"])] = listing["sku"]
    out = []
    for entry in bm.get("/_sandbox/requests", params={"method": "POST"}).json()["entries"]:
        body = entry.get("body")
        if not isinstance(body, dict) or entry["status"] >= 300:
            continue
        if entry["path"].startswith("/ws/listings/") and "quantity" in body:
            sku = by_id.get(entry["path"].rsplit("/", 1)[-1])
            if sku in skus:
                out.append((entry["t"], sku, int(body["quantity"])))
        elif entry["path"] == "/ws/listings" and "catalog" in body:
            for row in csv.DictReader(io.StringIO(body["catalog"]), delimiter=body.get("delimiter", ",")):
                if row.get("sku") in skus and row.get("quantity") not in (None, ""):
                    out.append((entry["t"], row["sku"], int(row["quantity"])))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def describe(name: str, latencies: list[float], interval: float, budget: float) -> bool:
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    ok = p95 <= budget
    print(
        f"{name}: n={len(latencies)}  p50 {p50:.1f} s = {p50 / interval:.2f} × {interval:.0f} s"
        f"  p95 {p95:.1f} s = 1 × {interval:.0f} s {p95 - interval:+.1f} s  max {max(latencies):.1f} s"
        f"  (budget p95 ≤ {budget:.0f} s: {'met' if ok else 'MISSED'})"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--harvest", type=int, default=10, help="order harvest interval, seconds (default 10)")
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--window", type=float, default=60.0, help="the sales happen within this many seconds")
    parser.add_argument("--refresh", type=int, default=30, help="catalog refresh interval, seconds (default 30)")
    parser.add_argument("--changes", type=int, default=10, help="feed changes measured")
    args = parser.parse_args()
    home: Path = args.home
    if home.exists():
        if not (home / MARK).exists():
            raise SystemExit(f"{home} exists and is not a benchmark workspace; refusing to overwrite it")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARK).write_text("throwaway workspace of benchmarks/stock_latency.py\n")
    rng = random.Random(5)
    sold = [f"BENCH-SOLD-{i:03d}" for i in range(args.skus)]
    fed = [f"BENCH-FEED-{i:03d}" for i in range(args.changes)]
    rows = {sku: (f"{rng.randint(100, 900)}.00", 1) for sku in sold} | {sku: (f"{rng.randint(100, 900)}.00", 5) for sku in fed}
    state = home / "sandbox"
    seed_sandboxes(state, rows)
    port = free_port()
    env = {**os.environ, "SHELFDESK_HOME": str(home)}
    logs = (home / "sandbox.log").open("w"), (home / "worker.log").open("w")
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shelfdesk",
            "sandbox",
            "--state",
            str(state),
            "--port",
            str(port),
            "--token",
            TOKEN,
            "--orders-per-hour",
            "0",
            "--task-seconds",
            "5",
        ],
        stdout=logs[0],
        stderr=subprocess.STDOUT,
        env=env,
    )
    worker = None
    feed = Feed(rows)
    bm = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    lbc = httpx.Client(base_url=f"http://127.0.0.1:{port + 1}", timeout=30)
    try:
        for _ in range(200):
            try:
                bm.get("/_sandbox")
                lbc.get("/_sandbox")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        ids = build(home, str(bm.base_url).rstrip("/"), str(lbc.base_url).rstrip("/"), feed, args.harvest)
        worker = subprocess.Popen([sys.executable, "-m", "shelfdesk", "worker"], stdout=logs[1], stderr=subprocess.STDOUT, env=env)
        time.sleep(3)  # the worker starts its scheduler

        # 1. Sales on Leboncoin, quantity 0 on Back Market.
        moments = sorted(rng.uniform(0, args.window) for _ in sold)
        start = time.time()
        sale_at: dict[str, float] = {}
        for sku, moment in zip(rng.sample(sold, len(sold)), moments, strict=True):
            time.sleep(max(0.0, start + moment - time.time()))
            response = lbc.post("/_sandbox/orders", json={"skus": [sku], "fate": "paid", "quantity": 1})
            response.raise_for_status()
            sale_at[sku] = time.time()
            feed.set(sku, 0)  # the merchant's ERP counts the sale too (read in phase 2)
        deadline = time.time() + args.harvest + 60
        while time.time() < deadline:
            zeros = {sku for _, sku, q in arrivals(bm, set(sold)) if q == 0}
            if zeros >= set(sold):
                break
            time.sleep(1)
        received = arrivals(bm, set(sold))
        latencies, oversold = [], 0
        for sku in sold:
            after = [(t, q) for t, s, q in received if s == sku and t >= sale_at[sku] - 0.5]
            zero = [t for t, q in after if q == 0]
            if not zero:
                print(f"  {sku}: quantity 0 never arrived")
                oversold += 1
                continue
            latencies.append(zero[0] - sale_at[sku])
            oversold += sum(1 for t, q in after if q > 0 and t > zero[0])
        final = {l["sku"]: l["quantity"] for l in bm.get("/_sandbox/state").json()["listings"].values()}
        oversold += sum(1 for sku in sold if final.get(sku, 0) > 0)
        ok = describe(f"sale on Leboncoin → Back Market 0 (harvest every {args.harvest} s)", latencies, args.harvest, args.harvest + 10)
        print(f"oversold units: {oversold}")
        ok = ok and oversold == 0

        # 2. Feed changes at the catalog's URL → Back Market.
        from shelfdesk.catalog.feeds import CATALOG, set_feed
        from shelfdesk.context import open_context
        from shelfdesk.paths import resolve_paths

        ctx = open_context(resolve_paths(home, f"sqlite:///{home / 'shelfdesk.db'}"))
        set_feed(ctx, ids["store"], CATALOG, every=args.refresh, enabled=True)
        ctx.close()
        time.sleep(args.refresh + 15)  # the first refresh reads the feed as it is (the sales already counted)
        change_at: dict[str, float] = {}
        moments = sorted(rng.uniform(0, 2 * args.refresh) for _ in fed)
        start = time.time()
        for sku, moment in zip(fed, moments, strict=True):
            time.sleep(max(0.0, start + moment - time.time()))
            feed.set(sku, 2)
            change_at[sku] = time.time()
        deadline = time.time() + args.refresh + 60
        while time.time() < deadline:
            if {sku for _, sku, q in arrivals(bm, set(fed)) if q == 2} >= set(fed):
                break
            time.sleep(1)
        feed_latencies = []
        for sku in fed:
            got = [t for t, s, q in arrivals(bm, set(fed)) if s == sku and q == 2 and t >= change_at[sku] - 0.5]
            if got:
                feed_latencies.append(got[0] - change_at[sku])
            else:
                print(f"  {sku}: the new quantity never arrived")
        if feed_latencies:
            ok = (
                describe(
                    f"feed change at its URL → Back Market (refresh every {args.refresh} s)",
                    feed_latencies,
                    args.refresh,
                    args.refresh + 10,
                )
                and ok
            )
        print(
            json.dumps(
                {
                    "sales": {
                        "p50": percentile(latencies, 50) if latencies else None,
                        "p95": percentile(latencies, 95) if latencies else None,
                        "oversold": oversold,
                    },
                    "feed": {
                        "p50": percentile(feed_latencies, 50) if feed_latencies else None,
                        "p95": percentile(feed_latencies, 95) if feed_latencies else None,
                    },
                }
            )
        )
        return 0 if ok and len(feed_latencies) == len(fed) else 1
    finally:
        for process in (worker, sandbox):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
        feed.httpd.shutdown()
        bm.close()
        lbc.close()
        for log in logs:
            log.close()


if __name__ == "__main__":
    sys.exit(main())
