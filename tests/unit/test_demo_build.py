"""The demo workspace: created in its own folder, filled, reopened, reset safely."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shelfdesk.clock import FakeClock
from shelfdesk.demo.build import DEMO_TOKENS, DemoError, open_demo
from shelfdesk.domain import NormalizedStatus
from shelfdesk.paths import resolve_paths


def _count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.read_session() as session:
        return session.exec(select(func.count()).select_from(model)).one()[0]


def test_demo_is_filled_once_then_reopened(tmp_path: Path, clock: FakeClock) -> None:
    from shelfdesk.db.models import Channel, Order, Product, Store

    paths = resolve_paths(tmp_path / "demo")
    ctx, summary = open_demo(paths, clock=clock)
    assert summary.created and summary.stores == 2 and summary.products > 2000
    assert _count(ctx, Store) == 2 and _count(ctx, Channel) == 3
    assert _count(ctx, Product) == summary.products
    with ctx.read_session() as session:
        statuses = {row[0] for row in session.exec(select(Order.status).distinct())}
    # Harvested from the demo's sandboxes: every status a real account shows (the sandboxes send
    # no unknown or missing states, so Undefined and NotProvided do not occur).
    S = NormalizedStatus
    assert {S.New, S.InProgress, S.Canceled, S.Shipped, S.Closed} <= statuses
    ctx.close()

    again, summary = open_demo(paths, clock=clock)
    assert not summary.created and _count(again, Order) > 200
    again.close()


def test_demo_tokens_live_only_in_the_owner_only_secrets_file(tmp_path: Path, clock: FakeClock) -> None:
    paths = resolve_paths(tmp_path / "demo")
    ctx, _ = open_demo(paths, clock=clock)
    ctx.close()
    assert stat.S_IMODE(os.stat(paths.secrets).st_mode) == 0o600
    database = paths.database_file.read_bytes()  # type: ignore[union-attr]
    wal = paths.home / "shelfdesk.db-wal"
    if wal.exists():
        database += wal.read_bytes()
    logs = b"".join(p.read_bytes() for p in paths.log_dir.glob("*"))
    for token in DEMO_TOKENS.values():
        assert token.encode() not in database
        assert token.encode() not in logs
        assert token in paths.secrets.read_text()


def test_reset_recreates_but_never_touches_a_foreign_folder(tmp_path: Path, clock: FakeClock) -> None:
    paths = resolve_paths(tmp_path / "demo")
    ctx, _ = open_demo(paths, clock=clock)
    ctx.close()
    (paths.home / "operator-note.txt").write_text("gone after reset")
    ctx, summary = open_demo(paths, reset=True, clock=clock)
    ctx.close()
    assert summary.created and not (paths.home / "operator-note.txt").exists()

    real = tmp_path / "real"
    real.mkdir()
    (real / "shelfdesk.db").write_text("precious")
    with pytest.raises(DemoError, match="not a shelfdesk demo"):
        open_demo(resolve_paths(real), reset=True, clock=clock)
    assert (real / "shelfdesk.db").read_text() == "precious"


def test_demo_products_feed_creates_listings_and_fails_only_the_models_back_market_lacks(tmp_path: Path, clock: FakeClock) -> None:
    from shelfdesk.db.models import Publication, PublicationItem
    from shelfdesk.demo.live import UNKNOWN_TO_BACK_MARKET
    from shelfdesk.domain import ItemOutcome, PublicationKind

    ctx, _ = open_demo(resolve_paths(tmp_path / "demo"), clock=clock)
    with ctx.read_session() as session:
        run = session.exec(select(Publication).where(Publication.kind == PublicationKind.products,
                                                     Publication.dry_run.is_(False))).one()[0]  # type: ignore[attr-defined]  # fmt: skip
        items = [row[0] for row in session.exec(select(PublicationItem).where(PublicationItem.publication_id == run.id))]
    ctx.close()
    created = [i for i in items if i.outcome is ItemOutcome.created]
    unknown = {i.sku for i in items if i.error_code == "unknown-ean"}
    assert len(created) > 500
    assert unknown and all(sku.startswith(UNKNOWN_TO_BACK_MARKET) for sku in unknown)


def test_a_publish_started_in_the_demo_console_is_answered_in_seconds(tmp_path: Path, clock: FakeClock) -> None:
    from shelfdesk.db.models import Channel
    from shelfdesk.demo.build import demo_tokens
    from shelfdesk.demo.speed import start_demo_sandboxes
    from shelfdesk.publishing.engine import publish_sync
    from shelfdesk.sandbox.server import start_sandboxes

    ctx, _ = open_demo(resolve_paths(tmp_path / "demo"), clock=clock)
    with ctx.read_session() as session:
        lbc = session.exec(select(Channel).where(Channel.name == "Leboncoin France")).one()[0]  # type: ignore[arg-type]
    with start_demo_sandboxes(ctx, demo_tokens()):  # as `shelfdesk demo` starts them for the console
        started = clock.monotonic()
        result = publish_sync(ctx, lbc.id, "offers", "update", started_by="test")
        waited = clock.monotonic() - started  # the FakeClock advances by what the run slept
    ctx.close()
    assert result.counters.get("sent", 0) > 0 and waited < 10
    with start_sandboxes(tmp_path / "elsewhere", clock=clock) as running:  # the realistic default stays
        assert running.backmarket.task_seconds == running.leboncoin.feed_seconds == 120.0
