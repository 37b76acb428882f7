"""Pilot tests: an operator on the Jobs screen and the alert list, keys only, at 80x24."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Input

from shelfdesk.context import AppContext
from shelfdesk.domain import JobOutcome
from shelfdesk.jobs.runs import list_runs
from shelfdesk.jobs.schedules import get_schedule
from shelfdesk.tui.screens.jobs.alerts import AlertsScreen
from shelfdesk.tui.screens.jobs.job_run_detail import JobRunScreen
from shelfdesk.tui.screens.jobs.job_runs import JobRunsScreen
from shelfdesk.tui.screens.jobs.job_list import JobsScreen
from shelfdesk.tui.screens.jobs.schedule_dialog import ScheduleDialog
from tests.jobs.conftest import jobs  # noqa: F401  (fixture)
from tests.tui.jobs_data import REMOTE_WORKER, Calls, register_jobs, seed
from tests.pilot import settle, settle_until

SIZE = (80, 24)


def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text (what an operator reads)."""
    console = Console(width=SIZE[0], height=SIZE[1], file=io.StringIO(), record=True, color_system=None, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


@pytest.fixture
def calls(jobs: Any) -> Calls:
    found = Calls()
    register_jobs(jobs, found)
    return found


@pytest.fixture
def ids(ctx: AppContext, calls: Calls) -> dict[str, int]:
    return seed(ctx)


async def open_jobs(pilot: Any) -> JobsScreen:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def test_jobs_screen_shows_schedule_last_next_lease_and_failures(make_app: Any, ids: dict[str, int]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_jobs(pilot)
        bm, spain, lbc = ids["BM France"], ids["BM Spain"], ids["LBC France"]
        # The channel column reads the short codes of Orders and Publications; the line below names it in full.
        assert screen.cells(f"harvest:{bm}") == ["harvest", "BM FR", "1m", "09:29 FAILED", "due", "-", "3"]
        assert screen.cells(f"harvest:{lbc}") == ["harvest", "LBC FR", "1m", "09:29 ok", "09:30", "-", "0"]
        assert screen.cells("outbox") == ["outbox", "workspace", "5s", "09:29 idle", "due", "-", "0"]
        assert screen.cells(f"offers:{bm}") == ["offers", "BM FR", "5m", "09:29 running", "09:34", "worker 4242@srv2", "0"]
        assert screen.cells(f"products:{spain}")[4] == "paused"
        text = screen_text(app)
        assert "Jobs · 9 · 1 failing · 1 paused" in text
        # The highlighted (first) job's story under the table.
        assert "Order harvest · BM France · every 1m · harvest:1" in text
        assert "last run 2026-03-02 09:29:00 FAILED in 0.4s: AuthError: Back Market answered" in text
        assert "3 failure(s) in a row; last success 2026-03-02 08:50:00" in text
        await pilot.press("down", "down", "down")
        assert screen.table.current_key == f"offers:{bm}"
        assert "running in worker 4242@srv2 (lease until" in screen_text(app)
        assert REMOTE_WORKER.startswith("srv2:4242")

        await pilot.press("slash", *"spain", "enter")  # / filters the jobs
        await pilot.pause()
        assert screen.table.keys() == [f"offers:{spain}", f"products:{spain}"]
        assert "Jobs · 2 of 9" in screen_text(app) and "filter: spain" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert len(screen.table.keys()) == 9


async def test_run_now_pause_resume_and_edit_schedule(make_app: Any, ctx: AppContext, ids: dict[str, int], calls: Calls) -> None:
    lbc = ids["LBC France"]
    key = f"harvest:{lbc}"
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_jobs(pilot)
        screen.table.move_to(key)
        await pilot.press("r")  # run now: not due for 30 s, an operator runs it anyway
        await settle(pilot)
        assert calls.keys == [("harvest", lbc)]
        assert [r.trigger for r in list_runs(ctx, key)][:1] == ["manual"]
        from shelfdesk.jobs.schedules import get_schedule

        name = get_schedule(ctx, key).name  # named as the Jobs screen names it, not by its key
        assert any(n.message == f"{name} succeeded: orders_new 2" for n in app._notifications), name

        await pilot.press("p")
        await settle(pilot)
        assert get_schedule(ctx, key).paused and screen.cells(key)[4] == "paused"
        await pilot.press("p")
        await settle(pilot)
        assert not get_schedule(ctx, key).paused

        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ScheduleDialog)
        field = dialog.query_one(Input)
        assert field.value == "1m"
        field.value = "every day"
        await pilot.press("enter")
        assert app.screen is dialog and "not an interval" in screen_text(app)  # refused, the dialog stays
        field.value = "2m"
        await pilot.press("enter")
        await settle(pilot)
        schedule = get_schedule(ctx, key)
        assert (schedule.interval, schedule.version) == (120, 4)  # pause, resume, edit: three versions more
        assert await settle_until(pilot, lambda: screen.cells(key)[2] == "2m")  # the reload follows the edit's message

        await pilot.press("e", "escape")  # Esc changes nothing
        await settle(pilot)
        assert get_schedule(ctx, key).version == 4

        await pilot.press("colon", *"pauseall", "enter")
        assert await settle_until(pilot, lambda: all(row.schedule.paused for row in screen.rows.values()))
        await pilot.press("colon", *"resumeall", "enter")
        assert await settle_until(pilot, lambda: not any(row.schedule.paused for row in screen.rows.values()))


async def test_enter_drills_into_runs_and_a_runs_error(make_app: Any, ids: dict[str, int]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_jobs(pilot)
        await pilot.press("enter")  # the failing harvest is highlighted first
        await settle(pilot)
        runs = app.screen
        assert isinstance(runs, JobRunsScreen) and runs.key == f"harvest:{ids['BM France']}"
        text = screen_text(app)
        assert "Runs of harvest on BM France · 4 runs · 3 failed" in text
        assert "2026-03-02 09:29:00  schedule  FAILED" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, JobRunScreen)
        text = screen_text(app)
        assert "AuthError: Back Market answered 401: token rejected" in text
        assert 'File "harvest.py", line 140, in harvest_account' in text
        await pilot.press("escape")
        assert app.screen is runs
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)


async def test_alert_list_opens_from_anywhere_and_enter_goes_to_the_job_row(make_app: Any, ids: dict[str, int], monkeypatch: Any) -> None:
    from shelfdesk.jobs import alerts

    webhook = alerts.Alert("webhook_paused", alerts.Severity.warning, "webhook erp: paused after 10 failures", "webhook", 3)
    monkeypatch.setattr(alerts, "RULES", [*alerts.RULES, lambda session, now: [webhook]])
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.current_mode == "orders"
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        text = screen_text(app)
        assert "Alerts · 2 · 1 critical" in text
        assert "CRITICAL  job harvest on BM France failed 3 times in a row" in text
        assert "answered 401: token rejected" in text  # the whole message under the table
        assert "Enter: Jobs, job harvest:1" in text
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert app.current_mode == "jobs" and isinstance(screen, JobsScreen)
        assert screen.table.current_key == f"harvest:{ids['BM France']}"
        await pilot.press("exclamation_mark")  # from Jobs this time
        await settle(pilot)
        await pilot.press("escape")  # Esc leaves the list where it was opened
        assert app.screen is screen

        await pilot.press("exclamation_mark")
        await settle(pilot)
        await pilot.press("down")  # no screen shows webhooks: Enter says so instead of pretending
        assert "Enter: no screen shows it yet" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert any("No screen shows webhook 3 yet" in n.message for n in app._notifications)


async def test_read_only_greys_out_job_changes(make_app: Any, read_only_ctx: AppContext, ids: dict[str, int]) -> None:
    app = make_app(read_only_ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_jobs(pilot)
        for action in ("run_now", "toggle_pause", "edit_schedule", "pause_all", "resume_all"):
            assert screen.check_action(action, ()) is None, action
        assert screen.check_action("open_history", ()) is True
        assert app.jobs_scheduler is None


async def test_the_console_runs_due_jobs_itself_after_its_first_frame(make_app: Any, ctx: AppContext, calls: Calls) -> None:
    calls.started = asyncio.Event()
    app = make_app(embedded_jobs=True)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(calls.started.wait(), 20)  # a guard against a hang, not a wait for time
        assert app.jobs_scheduler is not None and app.jobs_scheduler.started
        for _ in range(200):  # let the run's record land (event-loop turns, not time)
            if list_runs(ctx, "outbox"):
                break
            await pilot.pause()
        assert list_runs(ctx, "outbox")[0].outcome in (JobOutcome.running, JobOutcome.skipped)
    # Closing the console stopped its scheduler, recorded the run and released the lease.
    assert app.jobs_scheduler is None
    assert list_runs(ctx, "outbox")[0].outcome is JobOutcome.skipped
    from shelfdesk.jobs.leases import read_leases

    with ctx.read_session() as session:
        assert all(lease.holder is None for lease in read_leases(session).values())
