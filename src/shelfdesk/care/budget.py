"""The Care API's daily budgets, counted in the database, and the poll interval they allow.

Back Market allows, per seller and per day, 4,000 list calls, 40,000 detail
calls, 1,000 problem declarations, 500 item transfers and 500 refunds. A
process's memory is not enough to hold them (the worker, the console and the
CLI share an account; a restart forgets), so every Care call first takes a
unit here, in its own short transaction: :func:`take` refuses once the day's
count reaches the limit less the reserve, and the call is not made.

Days are UTC days [I: the published limits do not say which day].

The harvest keeps :data:`RESERVE` of the list and detail budgets for the
operator (a case opened by hand, a refresh), and spaces its polls so that the
day's remaining budget, at the calls a poll has been costing, lasts until
midnight: :func:`poll_interval`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlmodel import col

from shelfdesk.channels.backmarket_care import CARE_DAILY_LIMITS

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

    from shelfdesk.context import AppContext

#: Share of the list and detail budgets the harvest leaves for operators' own reads.
RESERVE = 0.10
#: The shortest interval between two polls of one account (seconds).
MIN_INTERVAL = 60
#: The interval a new account starts with, before any poll measured its cost.
DEFAULT_INTERVAL = 300


class BudgetExhausted(Exception):
    """The day's budget of a Care endpoint has no room for this call; nothing was sent."""

    def __init__(self, endpoint: str, used: int, limit: int, resets_at: datetime) -> None:
        self.endpoint, self.used, self.limit, self.resets_at = endpoint, used, limit, resets_at
        super().__init__(f"the day's {endpoint} budget is spent ({used} of {limit} calls); it resets at {resets_at:%Y-%m-%d %H:%M} UTC")


def day_of(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def day_ends(now: datetime) -> datetime:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start + timedelta(days=1)


def limit_for(endpoint: str, *, harvest: bool = False) -> int:
    """The day's limit of ``endpoint``; the harvest's share leaves :data:`RESERVE` to operators."""
    limit = CARE_DAILY_LIMITS[endpoint]
    return int(limit * (1 - RESERVE)) if harvest else limit


def used(ctx: AppContext, account_id: int, endpoint: str, now: datetime | None = None) -> int:
    from shelfdesk.db.models import CareBudget

    now = now or ctx.clock.now()
    with ctx.read_session() as session:
        value = session.execute(
            select(col(CareBudget.calls)).where(
                col(CareBudget.account_id) == account_id, col(CareBudget.day) == day_of(now), col(CareBudget.endpoint) == endpoint
            )
        ).scalar()
    return int(value or 0)


def take(ctx: AppContext, account_id: int, endpoint: str, *, harvest: bool = False, calls: int = 1) -> int:
    """Count ``calls`` calls of ``endpoint`` for today before they are made; BudgetExhausted when no room.

    The check and the increment are one conditional UPDATE, so two processes
    cannot both take the last unit. Returns the day's count after this call.
    """
    from shelfdesk.db.models import CareBudget
    from shelfdesk.db.upsert import upsert_rows

    now = ctx.clock.now()
    day = day_of(now)
    limit = limit_for(endpoint, harvest=harvest)
    with ctx.write_session() as session:
        upsert_rows(
            session,
            CareBudget,
            [{"account_id": account_id, "day": day, "endpoint": endpoint, "calls": 0}],
            ["account_id", "day", "endpoint"],
            [],
        )
        key = (col(CareBudget.account_id) == account_id, col(CareBudget.day) == day, col(CareBudget.endpoint) == endpoint)
        # An UPDATE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement.
        won = cast(
            "CursorResult[Any]",
            session.execute(
                update(CareBudget).where(*key, col(CareBudget.calls) + calls <= limit).values(calls=col(CareBudget.calls) + calls)
            ),
        ).rowcount
        count = int(session.execute(select(col(CareBudget.calls)).where(*key)).scalar_one())
    if not won:
        raise BudgetExhausted(endpoint, count, limit, day_ends(now))
    return count


@dataclass(frozen=True)
class PollPlan:
    """When the next poll may start, and the line that explains it."""

    interval: int
    note: str


def poll_interval(
    now: datetime,
    *,
    used_list: int,
    used_detail: int,
    list_per_poll: float,
    detail_per_poll: float,
    base: int = DEFAULT_INTERVAL,
) -> PollPlan:
    """The interval that lets today's remaining harvest budgets last until midnight (UTC).

    ``*_per_poll`` is what a poll has been costing (at least the two list
    calls every poll makes). The interval is never below ``base``; once a
    budget is spent, the next poll waits for the next day.
    """
    left_seconds = max(1.0, (day_ends(now) - now).total_seconds())
    interval = float(max(MIN_INTERVAL, base))
    why = "polling"
    for endpoint, spent, per_poll in (("list", used_list, max(2.0, list_per_poll)), ("detail", used_detail, max(0.0, detail_per_poll))):
        room = limit_for(endpoint, harvest=True) - spent
        if per_poll <= 0:
            continue
        polls = math.floor(room / per_poll)
        if polls < 1:
            interval, why = left_seconds, f"{endpoint} budget spent until midnight UTC"
            break
        needed = left_seconds / polls
        if needed > interval:
            interval, why = needed, f"slowed to fit the {endpoint} budget"
    seconds = math.ceil(interval)
    limit = limit_for("list", harvest=True)
    note = f"list {used_list}/{limit} today, detail {used_detail}/{limit_for('detail', harvest=True)}; {why}, next in {_words(seconds)}"
    return PollPlan(seconds, note)


def _words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
