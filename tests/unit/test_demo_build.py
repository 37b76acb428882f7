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

# The demo is a SQLite workspace whatever SHELFDESK_DATABASE_URL says (`shelfdesk demo` sets its file).
pytestmark = pytest.mark.sqlite


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


def _channel_id(ctx, name: str) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        return session.exec(select(Channel.id).where(Channel.name == name)).one()[0]  # type: ignore[arg-type]


def _products_run(ctx, channel_id: int):  # type: ignore[no-untyped-def]
    """The demo build's real products run of ``channel_id`` (the console's scheduler may add more later)."""
    from shelfdesk.db.models import Publication
    from shelfdesk.domain import PublicationKind

    with ctx.read_session() as session:
        return session.exec(
            select(Publication).where(
                Publication.channel_id == channel_id, Publication.kind == PublicationKind.products, Publication.dry_run.is_(False)
            )
        ).one()[0]  # type: ignore[attr-defined]


def test_demo_products_feed_creates_listings_and_fails_only_the_models_back_market_lacks(tmp_path: Path, clock: FakeClock) -> None:
    from shelfdesk.db.models import PublicationItem
    from shelfdesk.demo.live import UNKNOWN_TO_BACK_MARKET
    from shelfdesk.domain import ItemOutcome

    ctx, _ = open_demo(resolve_paths(tmp_path / "demo"), clock=clock)
    run = _products_run(ctx, _channel_id(ctx, "Back Market France"))
    with ctx.read_session() as session:
        items = [row[0] for row in session.exec(select(PublicationItem).where(PublicationItem.publication_id == run.id))]
    ctx.close()
    created = [i for i in items if i.outcome is ItemOutcome.created]
    unknown = {i.sku for i in items if i.error_code == "unknown-ean"}
    assert len(created) > 500
    assert unknown and all(sku.startswith(UNKNOWN_TO_BACK_MARKET) for sku in unknown)


def test_demo_leboncoin_is_live_and_fails_one_fixable_group_then_a_stock_change_is_one_quantity_line(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Leboncoin France is set up through the services (green, activated) and published; its products run
    refuses, by shelfdesk's own validation, exactly the products whose condition the value map forgets.
    In the demo's console sandboxes, fixing the map and re-publishing the group sends those products only,
    and a stock change re-imported from the feed file goes out as one quantity line; each run is answered
    in seconds."""
    import csv

    from shelfdesk.catalog.column_mapping import channel_rules, set_mapping
    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.db.models import Channel, Product
    from shelfdesk.demo.build import demo_tokens
    from shelfdesk.demo.catalog_setup import FORGOTTEN_CONDITION
    from shelfdesk.demo.speed import start_demo_sandboxes
    from shelfdesk.domain import PublicationState
    from shelfdesk.publishing.engine import publish_sync
    from shelfdesk.publishing.triage import error_clusters, failed_skus
    from shelfdesk.sandbox.server import start_sandboxes

    ctx, _ = open_demo(resolve_paths(tmp_path / "demo"), clock=clock)
    lbc = _channel_id(ctx, "Leboncoin France")
    with ctx.read_session() as session:
        channel = session.get(Channel, lbc)
        assert channel.activated_at is not None and channel.categories_ok and channel.columns_ok and channel.api_ok
        forgotten = {
            p.sku
            for (p,) in session.exec(select(Product).where(Product.store_id == channel.store_id))
            if p.attributes.get("condition") == FORGOTTEN_CONDITION
        }
    run = _products_run(ctx, lbc)
    assert (run.state, run.invalid, run.failed) == (PublicationState.partial, len(forgotten), 0) and run.succeeded > 900
    [group] = error_clusters(ctx, run.id)
    assert (group.key, group.count, group.invalid) == ("attribute-invalid:condition", len(forgotten), len(forgotten))
    assert group.cause == f"Condition {FORGOTTEN_CONDITION!r} is not an accepted value (used, refurbished, new)"
    assert set(failed_skus(ctx, run.id, group.key)) == forgotten

    rule = channel_rules(ctx, lbc)["condition"]  # the operator's fix: the forgotten word → used
    set_mapping(ctx, lbc, "condition", column=rule.column, value_map={**rule.value_map, FORGOTTEN_CONDITION: "used"})
    with start_demo_sandboxes(ctx, demo_tokens()) as running:  # as `shelfdesk demo` starts them for the console
        feeds = set(running.leboncoin.state["feeds"])
        started = clock.monotonic()
        retry = publish_sync(ctx, lbc, "products", "update", only_skus=failed_skus(ctx, run.id, group.key), started_by="test")
        waited = clock.monotonic() - started  # the FakeClock advances by what the run slept
        [feed] = [f for key, f in running.leboncoin.state["feeds"].items() if key not in feeds]
        assert {item["sku"] for item in feed["items"]} == forgotten and waited < 10
        assert (retry.state, retry.counters["sent"], retry.counters["succeeded"]) == (
            PublicationState.succeeded,
            len(forgotten),
            len(forgotten),
        )

        feed_file = ctx.paths.home / "catalog-fr.csv"  # the merchant's feed: one jacket's stock changes
        with feed_file.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        row = next(r for r in rows if r["category"] == "Fashion > Men > Jackets" and int(r["stock"]) > 2)
        row["stock"] = str(int(row["stock"]) - 2)
        with feed_file.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
            writer.writeheader()
            writer.writerows(rows)
        assert import_catalog(ctx, channel.store_id).ok
        seen = len(running.leboncoin.log.entries)
        started = clock.monotonic()
        offers = publish_sync(ctx, lbc, "offers", "update", started_by="test")
        waited = clock.monotonic() - started
        writes = [e for e in running.leboncoin.log.entries[seen:] if e["method"] in ("POST", "PATCH") and e["path"] != "/oauth/token"]
    ctx.close()
    assert [(e["path"], e["body"]["items"]) for e in writes] == [
        ("/api/v1/feeds/offers", [{"sku": row["sku"], "quantity": int(row["stock"])}])
    ]
    assert offers.counters["sent"] == offers.counters["succeeded"] == 1 and waited < 10
    with start_sandboxes(tmp_path / "elsewhere", clock=clock) as elsewhere:  # the realistic default stays
        assert elsewhere.backmarket.task_seconds == elsewhere.leboncoin.feed_seconds == 120.0


def test_the_demos_due_list_has_orders_to_ship_sales_to_confirm_and_a_token_that_expires_this_month(
    tmp_path: Path, clock: FakeClock
) -> None:
    from datetime import timedelta

    from shelfdesk.deadlines import DueKind
    from shelfdesk.demo.build import demo_tokens
    from shelfdesk.demo.live import TOKEN_DAYS_LEFT, sandbox_folder
    from shelfdesk.domain import Marketplace
    from shelfdesk.sandbox.leboncoin import LeboncoinSandbox
    from shelfdesk.services.deadlines import list_due

    ctx, _ = open_demo(resolve_paths(tmp_path / "demo"), clock=clock)
    due = list_due(ctx)
    kinds = {d.kind for d in due.items}
    assert {DueKind.ship, DueKind.confirm_availability, DueKind.renew_token} <= kinds
    [token] = [d for d in due.items if d.kind is DueKind.renew_token]
    assert token.reference == "Leboncoin Pro"
    assert abs(token.due_at - (clock.now() + timedelta(days=TOKEN_DAYS_LEFT))) < timedelta(minutes=5)  # the build's clock moved on
    # The sandbox issued the same token for as long: the daily token check finds the same expiry.
    sandbox = LeboncoinSandbox(sandbox_folder(ctx) / "leboncoin", clock=clock, refresh_token=None, orders_per_hour=0)
    record = sandbox.state["refresh_tokens"][demo_tokens()[Marketplace.leboncoin]]
    assert record["expires_at"][:10] == f"{token.due_at:%Y-%m-%d}"
    ctx.close()
