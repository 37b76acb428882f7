"""Snapshots of the Publications screens at 80x24: fixed clock, fixed sandbox seed, fixed actor,
every worker finished before the picture. Review snapshot_report.html before --snapshot-update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.publishing.test_console import failing_run  # noqa: F401 (fixture)
from tests.tui.conftest import _plain_terminal, make_app  # noqa: F401 (fixtures)

# The status bar names the database ("db shelfdesk.db"): these snapshots are of a SQLite workspace.
pytestmark = pytest.mark.sqlite

SIZE = (80, 24)


def after(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        for key in ("3", *keys):
            await pilot.app.workers.wait_for_complete()
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    "keys",
    [(), ("e",), ("e", "enter"), ("d", "enter")],
    ids=["history", "errors", "group", "plan"],
)
def test_publications_80x24(snap_compare: Any, make_app: Any, failing_run: int, keys: tuple[str, ...]) -> None:  # noqa: F811
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=after(*keys))
