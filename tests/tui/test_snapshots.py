"""Snapshots of the console shell at 80x24 and 120x40.

Fixed everything: the migrated empty workspace of the ``ctx`` fixture (folder
``ws``, so the status bar reads ``workspace ws``), the FakeClock at FIXED_NOW,
the ``shelfdesk-dark`` theme, no cursor blink (our inputs turn it off),
animations off, and every worker finished before the picture is taken.
Review ``snapshot_report.html`` before running with ``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from textual.pilot import Pilot

# The status bar names the database ("db shelfdesk.db"): these snapshots are of a SQLite workspace.
pytestmark = pytest.mark.sqlite

SMALL = (80, 24)
LARGE = (120, 40)


def after(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Press ``keys``, then wait for background work (the alert count) and a repaint."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        if keys:
            await pilot.press(*keys)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    "keys",
    [(), ("1",), ("2",), ("3",), ("5",)],
    ids=["orders", "stores", "mappings", "publications", "jobs"],
)
def test_main_screens_80x24(snap_compare: Any, make_app: Any, keys: Sequence[str]) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after(*keys))


@pytest.mark.parametrize("keys", [(), ("1",)], ids=["orders", "stores"])
def test_main_screens_120x40(snap_compare: Any, make_app: Any, keys: Sequence[str]) -> None:
    assert snap_compare(make_app(), terminal_size=LARGE, run_before=after(*keys))


def test_help_80x24(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("question_mark"))


def test_command_line_completion_80x24(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("colon", "t", "h", "tab", "a", "n", "tab"))


def test_read_only_status_80x24(snap_compare: Any, make_app: Any, read_only_ctx: Any) -> None:
    assert snap_compare(make_app(read_only_ctx), terminal_size=SMALL, run_before=after())


def test_ansi_theme_80x24(snap_compare: Any, make_app: Any) -> None:
    """The default over SSH: the terminal's own palette."""
    assert snap_compare(make_app(theme="ansi-dark"), terminal_size=SMALL, run_before=after())


def test_bulk_ship_preview_with_refused_rows_80x24(snap_compare: Any, make_app: Any, tmp_path: Any, monkeypatch: Any) -> None:
    """The refused rows, each with its line and why, and "Save refused" to write them beside the file."""
    monkeypatch.chdir(tmp_path)  # a relative path: the picture does not depend on the test's folder
    (tmp_path / "parcels.csv").write_text("order_id,carrier,tracking_number\n40000999,UPS,1Z1\n,UPS,1Z2\n")
    typed = ["p", "a", "r", "c", "e", "l", "s", "full_stop", "c", "s", "v"]
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("B", *typed, "enter"))
