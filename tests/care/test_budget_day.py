"""The Care harvest keeps to the daily budgets over a simulated day (fake clock, the sandbox counting too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select

from shelfdesk.care import budget
from shelfdesk.care.harvest import harvest_account_care
from shelfdesk.care.jobs import harvest_care_job
from shelfdesk.db.models import CareBudget, CareCursor
from tests.care.conftest import open_case, shipped_order
from tests.orders.conftest import Desk, run_async


def test_poll_interval_spreads_what_is_left_until_midnight() -> None:
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    quiet = budget.poll_interval(noon, used_list=10, used_detail=0, list_per_poll=2, detail_per_poll=0)
    assert quiet.interval == budget.DEFAULT_INTERVAL and "polling" in quiet.note
    tight = budget.poll_interval(noon, used_list=3400, used_detail=0, list_per_poll=2, detail_per_poll=0)
    assert tight.interval == 12 * 3600 // 100 and "slowed to fit the list budget" in tight.note
    spent = budget.poll_interval(noon, used_list=3599, used_detail=0, list_per_poll=2, detail_per_poll=0)
    assert spent.interval == 12 * 3600 and "spent until midnight" in spent.note
    details = budget.poll_interval(noon, used_list=0, used_detail=35_000, list_per_poll=2, detail_per_poll=100)
    assert details.interval > budget.DEFAULT_INTERVAL and "detail budget" in details.note


def test_a_simulated_day_never_exceeds_the_list_budget_and_polls_until_midnight(desk: Desk) -> None:
    start = desk.clock.now()
    day = budget.day_of(start)
    order = shipped_order(desk)
    open_case(desk, order["order_id"])
    with desk.ctx.write_session() as session:  # most of the day's list budget already spent (by another process)
        session.add(CareBudget(account_id=desk.bm_account, day=day, endpoint="list", calls=3400))
    midnight = budget.day_ends(start)
    polls: list[datetime] = []
    while desk.clock.now() < midnight + timedelta(hours=1):
        result = run_async(harvest_account_care(desk.ctx, desk.bm_account, factory=desk.factory))
        assert result.error is None
        if result.listed:
            polls.append(desk.clock.now())
        desk.clock.advance(60)
    with desk.ctx.read_session() as session:
        used = session.execute(select(CareBudget.calls).where(CareBudget.day == day, CareBudget.endpoint == "list")).scalar_one()
        after = session.execute(select(CareBudget.calls).where(CareBudget.day != day, CareBudget.endpoint == "list")).scalar_one()
    assert used <= budget.limit_for("list", harvest=True)
    today = [p for p in polls if p < midnight]
    assert today[-1] >= midnight - timedelta(hours=2)  # spread over the day, not spent by the afternoon
    assert all(b - a >= timedelta(minutes=5) for a, b in pairwise(today))
    assert after >= 2 and [p for p in polls if p >= midnight]  # a new day: polling at the default pace again
    statuses = {e["status"] for e in desk.requests("backmarket") if e["path"].startswith("/ws/sav")}
    assert 429 not in statuses  # the sandbox, counting on its own, never had to throttle


def test_the_job_says_how_often_it_polls(desk: Desk) -> None:
    order = shipped_order(desk)
    open_case(desk, order["order_id"])
    counts = run_async(harvest_care_job(desk.ctx, desk.bm_channel))
    assert counts["cases_new"] == 1 and counts["next_poll_s"] == budget.DEFAULT_INTERVAL
    assert counts["list_calls_today"] == 2 and counts["list_budget_day"] == 3600
    assert run_async(harvest_care_job(desk.ctx, desk.bm_channel)) == {}  # not due yet: an idle run
    with desk.ctx.read_session() as session:
        note = session.get(CareCursor, desk.bm_account).note
    assert note.startswith("list 2/3600 today") and "next in 5 min" in note
