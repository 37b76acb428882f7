"""Snapshots of the Jobs screen, a job's runs, a run's error and the alert list at 80x24.

Fixed everything: the FakeClock at FIXED_NOW, the jobs registered by the test
(not whatever services are installed), the runs of ``tests/tui/jobs_data.py``,
the ``shelfdesk-dark`` theme, and every worker finished before the picture.
Review ``snapshot_report.html`` before running with ``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.jobs.conftest import jobs  # noqa: F401  (fixture)
from tests.tui.jobs_data import Calls, register_jobs, seed

# The status bar names the database ("db shelfdesk.db"): these snapshots are of a SQLite workspace.
pytestmark = pytest.mark.sqlite

SMALL = (80, 24)


@pytest.fixture
def seeded(ctx: Any, jobs: Any) -> None:
    register_jobs(jobs, Calls())
    seed(ctx)


def after(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Go to Jobs, press ``keys`` (each followed by finished workers), then repaint."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        for key in ("5", *keys):
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    "keys",
    [(), ("enter",), ("enter", "enter"), ("exclamation_mark",)],
    ids=["jobs", "runs", "run-error", "alerts"],
)
def test_jobs_screens_80x24(snap_compare: Any, make_app: Any, seeded: None, keys: tuple[str, ...]) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after(*keys))
