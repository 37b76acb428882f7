"""The merchant's working time per store: set by the CLI and the service, inherited by channels, read by every deadline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from shelfdesk.catalog.errors import SetupError
from shelfdesk.cli import main
from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.context import AppContext
from shelfdesk.services.deadlines import list_due
from shelfdesk.services.working_time import StoreWorkingTime, set_store_working_time
from tests.due_data import seed_due

UTC = timezone.utc


@pytest.fixture
def cli_clock(clock: FakeClock) -> Iterator[FakeClock]:
    old = set_default_clock(clock)
    yield clock
    set_default_clock(old)


def _held_due(ctx: AppContext) -> datetime:
    return next(d.due_at for d in list_due(ctx).items if d.reference == "BM-HELD")


def _store_id(ctx: AppContext) -> int:
    from sqlalchemy import select

    from shelfdesk.db.models import Store

    with ctx.read_session() as session:
        return int(session.execute(select(Store.id)).scalar_one())


def test_store_edit_sets_the_cutoff_its_channels_inherit_and_a_channel_still_overrides(
    ctx: AppContext, cli_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_due(ctx)
    # Monday 10:30 in Paris, bought 09:30: before the default 13:00 cut-off, it leaves today (ends 23:00 UTC).
    assert _held_due(ctx) == datetime(2026, 3, 2, 23, tzinfo=UTC)
    assert main(["store", "edit", "Refurb Paris", "--cutoff-hour", "9", "--working-days", "mon-sat", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["working_time"] == {"cutoff_hour": 9, "working_days": "mon-sat"}
    assert _held_due(ctx) == datetime(2026, 3, 3, 23, tzinfo=UTC)  # after 9:00: the next business day

    from sqlalchemy import update

    from shelfdesk.db.models import Channel

    with ctx.write_session() as session:  # the channel's own setting (kept from before stores had one) wins
        session.execute(update(Channel).where(Channel.name == "Back Market France").values(settings={"deadlines": {"cutoff_hour": 11}}))
    assert _held_due(ctx) == datetime(2026, 3, 2, 23, tzinfo=UTC)


def test_a_bad_hour_or_day_is_refused_and_changes_nothing(
    ctx: AppContext, cli_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_due(ctx)
    store_id = _store_id(ctx)
    set_store_working_time(ctx, store_id, cutoff_hour=14)
    for args in (["--cutoff-hour", "25"], ["--working-days", "fri-mon"], ["--working-days", "weekdays"], ["--cutoff-hour", "1pm"]):
        assert main(["store", "edit", "Refurb Paris", "--name", "Renamed", *args]) != 0
        err = capsys.readouterr().err
        assert "cut-off hour" in err or "day" in err
    with pytest.raises(SetupError, match="outside 0-24"):
        set_store_working_time(ctx, store_id, cutoff_hour=-1, working_days="mon-fri")
    from shelfdesk.services.stores import get_store

    store = get_store(ctx, store_id)
    assert store.name == "Refurb Paris" and store.working_time == StoreWorkingTime(14, (0, 1, 2, 3, 4))


def test_read_only_workspace_refuses_the_change(ctx: AppContext, clock: FakeClock) -> None:
    from shelfdesk.context import open_context

    seed_due(ctx)
    read_only = open_context(ctx.paths, clock=clock, read_only=True)
    try:
        with pytest.raises(PermissionError):
            set_store_working_time(read_only, _store_id(ctx), cutoff_hour=10)
    finally:
        read_only.close()
