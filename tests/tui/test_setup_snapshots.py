"""Snapshots of the Stores and Mappings screens at 80x24: fixed clock and data, workers finished."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.setup_data import build
from tests.tui.test_snapshots import SMALL, after

# The status bar names the database ("db shelfdesk.db"): these snapshots are of a SQLite workspace.
pytestmark = pytest.mark.sqlite


@pytest.fixture
def data(ctx: Any, tmp_path: Any) -> dict[str, int]:
    return build(ctx, tmp_path)


def test_stores_screen_80x24(snap_compare: Any, make_app: Any, data: dict[str, int]) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("1", "down"))


def test_mappings_categories_80x24(snap_compare: Any, make_app: Any, data: dict[str, int]) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("2"))


def test_mappings_columns_80x24(snap_compare: Any, make_app: Any, data: dict[str, int]) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("2", "v"))


def test_mappings_readiness_80x24(snap_compare: Any, make_app: Any, data: dict[str, int]) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("2", "v", "v", "v"))


def test_import_form_80x24(snap_compare: Any, make_app: Any, data: dict[str, int]) -> None:
    """Its one-line inputs once showed only a top border at this size: the source path was invisible."""
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("1", "down", "i"))


def test_channel_form_80x24(snap_compare: Any, make_app: Any, data: dict[str, int]) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after("1", "down", "c"))
