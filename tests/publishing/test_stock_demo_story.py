"""The stock loop's "done when" on the demo: the last unit of a phone sold on Leboncoin, and Back Market shows 0;
an edit of the demo's catalog file reaching Back Market at the store's next refresh.

The demo lists its excellent phones on both marketplaces. The jobs run as the
console's scheduler runs them (the job runner, under leases): the Leboncoin
harvest (every minute) stores the order, the stock pusher (every 5 s) sends
Back Market 0 through its real-time endpoint. Nothing else is touched. What
Back Market received is read from its sandbox's own request log.
"""

from __future__ import annotations

import asyncio
import csv
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from shelfdesk.clock import FakeClock
from shelfdesk.demo.build import demo_tokens, open_demo
from shelfdesk.demo.catalog_setup import LEBONCOIN_PHONE_GRADE
from shelfdesk.demo.speed import start_demo_sandboxes
from shelfdesk.jobs.registry import get_job
from shelfdesk.jobs.runner import JobRunner
from shelfdesk.jobs.schedules import ensure_schedules
from shelfdesk.paths import resolve_paths
from shelfdesk.publishing.pusher import PUSHER
from shelfdesk.services.stock import StockLine, pusher_status, set_stock


def _channel(ctx, name: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        channel = session.execute(select(Channel).where(Channel.name == name)).scalars().one()
        return channel.id, channel.store_id, channel.account_id


def test_the_last_phone_sold_on_leboncoin_shows_0_on_back_market_within_a_minute(tmp_path: Path, clock: FakeClock) -> None:
    ctx, _ = open_demo(resolve_paths(tmp_path / "demo"), clock=clock)
    bm, store_id, _ = _channel(ctx, "Back Market France")
    lbc, _, _ = _channel(ctx, "Leboncoin France")
    ensure_schedules(ctx)
    runner = JobRunner(ctx, role="test")

    def run(job: str, channel: int) -> dict:  # type: ignore[type-arg]
        report = asyncio.run(runner.run(f"{job}:{channel}"))
        assert report.ran and str(report.outcome) != "failed", report
        return dict(report.counts or {})

    try:
        with start_demo_sandboxes(ctx, demo_tokens()) as running:
            listed = {l["sku"]: l for l in running.backmarket.state["listings"].values()}
            ads = {a["sku"] for a in running.leboncoin.state["ads"].values()}
            phone = sorted(sku for sku in ads & set(listed) if sku.endswith(f"-{LEBONCOIN_PHONE_GRADE}"))[0]
            set_stock(ctx, store_id, [StockLine(phone, 1)])  # one unit left, offered on both
            clock.advance(timedelta(seconds=5))
            run("stock", bm)
            run("stock", lbc)
            assert running.backmarket.state["listings"][listed[phone]["id"]]["quantity"] == 1
            seen = len(running.backmarket.log.entries)

            running.leboncoin.create_orders({"skus": [phone], "fate": "paid"})  # sold on Leboncoin
            clock.advance(timedelta(seconds=get_job("harvest").interval))
            run("harvest", lbc)
            clock.advance(timedelta(seconds=get_job("stock").interval))
            run("stock", bm)

            listing = running.backmarket.state["listings"][listed[phone]["id"]]
            assert listing["quantity"] == 0
            posts = [e for e in running.backmarket.log.entries[seen:] if e["method"] == "POST"]
            assert [(e["path"], e["body"]) for e in posts] == [(f"/ws/listings/{listing['id']}", {"quantity": 0})]
            assert get_job("harvest").interval + get_job("stock").interval <= 60 + 5

            # The merchant edits the demo's catalog file: the refresh picks it up when due, the pusher sends it.
            asyncio.run(runner.run("feeds"))  # the first look at the file: read as it is
            other = sorted(sku for sku in listed if sku != phone and sku.startswith("IP13-"))[0]
            feed_file = ctx.paths.home / "catalog-fr.csv"
            with feed_file.open(encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh, delimiter=";"))
            row = next(r for r in rows if r["sku"] == other)
            row["stock"] = str(int(row["stock"]) + 4)
            before = running.backmarket.state["listings"][listed[other]["id"]]["quantity"]
            with feed_file.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
                writer.writeheader()
                writer.writerows(rows)
            clock.advance(timedelta(minutes=15))  # the catalog's refresh interval
            report = asyncio.run(runner.run("feeds"))
            assert report.ran and report.counts.get("catalog_applied") == 1, report  # Madrid's file is unchanged
            from shelfdesk.services.stock import stock_view

            expected = stock_view(ctx, store_id, other).channels[0].publishable
            assert running.backmarket.state["listings"][listed[other]["id"]]["quantity"] == expected != before
    finally:
        status = pusher_status(ctx)
        ctx.close()
    assert "last push" in status.line(bm) and status.waiting <= 1  # Publications shows the push
    from shelfdesk.db.models import Publication

    ctx, _ = open_demo(resolve_paths(tmp_path / "demo"), clock=clock)
    with ctx.read_session() as session:
        push = (
            session.execute(
                select(Publication).where(Publication.channel_id == bm, Publication.started_by == PUSHER).order_by(Publication.id.desc())
            )
            .scalars()
            .first()
        )
        assert push is not None and push.sent == 1 and push.succeeded == 1
    ctx.close()
