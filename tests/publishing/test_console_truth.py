"""Publications tell the truth: a group re-published successfully in a later run reads as
resolved on the first run's errors, and r on it says why instead of sending again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.pilot import screen_text, settle
from tests.publishing.conftest import Shop
from tests.publishing.test_console import cell, failing_run  # noqa: F401 (fixture)
from tests.tui.conftest import _plain_terminal, make_app  # noqa: F401 (fixtures)

SIZE = (80, 24)


async def test_a_group_published_later_reads_resolved_and_r_says_why(
    shop: Shop,
    failing_run: int,  # noqa: F811
    make_app: Callable[..., Any],
) -> None:  # noqa: F811
    from shelfdesk.tui.screens.publications.error_groups import PublicationErrorsScreen

    shop.map_column(shop.bm_channel, "grade", constant="GOOD")
    await asyncio.to_thread(shop.publish, shop.bm_channel, "products", only_skus=["NEW-NOGRADE-0", "NEW-NOGRADE-1", "NEW-NOGRADE-2"])
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3", "down", "e")  # the first run's errors (the later run is on top)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PublicationErrorsScreen) and screen.publication_id == failing_run
        assert (cell(app, 0, "count"), cell(app, 0, "cause")) == ("3 ✓", "Grade: missing")
        assert "Resolved: all 3 were published" in str(screen.query_one("#errors-fix").render())
        assert screen.check_action("republish_group", ()) is None  # greyed in the footer
        batches = len(shop.batches())
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is screen and len(shop.batches()) == batches  # nothing asked, nothing sent
        assert any(n.message.startswith("Resolved: all 3") for n in app._notifications)
        assert cell(app, 1, "count") == "1"  # the unknown EAN is still to fix


def three_batches(shop: Shop) -> None:
    """30 products to create, sent in batches of 10."""
    from tests.publishing.conftest import bm_mappings, sandbox_ean

    bm_mappings(shop)
    shop.set_channel(shop.bm_channel, settings={"batch_lines": 10})
    for n in range(30):
        shop.add_product(f"RUN-{n:02d}", ean=sandbox_ean(n % 16), grade="GOOD", price="100.00", stock=1)


async def test_a_run_started_here_is_listed_while_it_runs(shop: Shop, make_app: Callable[..., Any]) -> None:  # noqa: F811
    """The list showed the run only once it had ended."""
    import threading

    from shelfdesk.tui.screens.publications.run_list import PublicationsScreen
    from shelfdesk.tui.widgets.data_window import DataWindow

    three_batches(shop)
    posted, release = threading.Event(), threading.Event()

    def checkpoint(name: str) -> None:
        if name == "task-recorded" and not posted.is_set():
            posted.set()
            release.wait(10)  # hold the run after its first batch

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PublicationsScreen)
        screen.publish_options = {"checkpoint": checkpoint}
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("down", "enter")
        assert await asyncio.to_thread(posted.wait, 10)
        table = screen.query_one(DataWindow)
        for _ in range(100):  # the list reloads in a worker while the run is held
            if table.row_count:
                break
            await pilot.pause(0.05)
        listed = table.row_count
        release.set()
        await settle(pilot)
    assert listed == 1


async def test_a_failed_runs_error_is_shown_before_its_counters(
    shop: Shop,
    failing_run: int,  # noqa: F811
    make_app: Callable[..., Any],
) -> None:  # noqa: F811
    """At 80 columns the counters took two lines and the error, third, was cut off: a failed run said nothing."""
    from shelfdesk.db.models import Publication

    with shop.ctx.write_session() as session:
        run = session.get(Publication, failing_run)
        run.error = "cannot reach backmarket at http://127.0.0.1:9/ws/listings: All connection attempts failed"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert "cannot reach backmarket at http://127.0.0.1:9/ws/listings" in screen_text(app)  # on screen, not cut


async def test_a_run_the_cli_started_shows_its_stage_not_running_0_0(shop: Shop, make_app: Callable[..., Any]) -> None:  # noqa: F811
    """A run started by another process (the CLI, the scheduler) read "running 0 0" until it ended."""
    import threading
    from datetime import timedelta

    from shelfdesk.publishing.triage import list_publications

    three_batches(shop)
    posted, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def checkpoint(name: str) -> None:
        if name == "task-recorded":
            seen.append(1)
            if len(seen) == 2:  # hold the run after its second batch
                posted.set()
                release.wait(10)

    elsewhere = threading.Thread(target=shop.publish, args=(shop.bm_channel, "products"), kwargs={"checkpoint": checkpoint})
    elsewhere.start()
    try:
        assert await asyncio.to_thread(posted.wait, 10)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("3")
            await settle(pilot)
            assert cell(app, 0, "state") == "sending" and cell(app, 0, "sent") == "10"
            assert "Sending 10 of 30, 0 s so far" in screen_text(app)  # the stage reported after the first batch
    finally:
        release.set()
        await asyncio.to_thread(elsewhere.join, 30)
    [row] = list_publications(shop.ctx, limit=1)
    assert row.stage_text(row.started_at) is None  # finished: no stage
    waiting = row.__class__(
        **{
            **row.__dict__,
            "finished_at": None,
            "summary": {"stage": {"phase": "waiting", "done": 10, "total": 30, "since": row.started_at.isoformat()}},
        }
    )
    assert (
        waiting.stage_text(row.started_at + timedelta(minutes=3)) == "waiting for the marketplace to process 30, 3 min so far (10 answered)"
    )
