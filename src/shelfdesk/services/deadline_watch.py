"""Escalation thresholds, and the cheap reads of the watch list the escalation keeps.

The escalation sweep (``jobs/escalation.py``) copies every deadline of
:func:`shelfdesk.services.deadlines.list_due` into ``deadline_watch`` once a
minute and fires each threshold once. Reading that table instead of
recomputing every deadline is what keeps the status bar's counts one index
range on ``due_at``, cheap enough to refresh with the alert count.

Thresholds come from ``deadline_alert_hours`` in the workspace's config.toml
(a list of hours before the deadline, default ``[4, 1]``); the widest is the
one the status bar counts "due soon" with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.deadlines import Due

log = logging.getLogger("shelfdesk.deadlines")

SETTING = "deadline_alert_hours"
DEFAULT_THRESHOLDS: tuple[timedelta, ...] = (timedelta(hours=4), timedelta(hours=1))


def parse_thresholds(value: Any) -> tuple[timedelta, ...]:
    """Hours before a deadline, widest first (``[4, 1]``, ``[24, 4, 0.5]``); ValueError names what is wrong."""
    items = value if isinstance(value, (list, tuple)) else [value]
    hours = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not 0 < item <= 24 * 30:
            raise ValueError(f"{SETTING}: {item!r} is not a number of hours between 0 and 720 (e.g. [4, 1])")
        hours.append(float(item))
    if not hours:
        raise ValueError(f"{SETTING} is empty: give at least one number of hours (e.g. [4, 1])")
    return tuple(timedelta(hours=h) for h in sorted(set(hours), reverse=True))


def thresholds(ctx: AppContext) -> tuple[timedelta, ...]:
    """The workspace's thresholds; a setting that cannot be read is logged and the defaults apply."""
    raw = ctx.settings.extra.get(SETTING)
    if raw is None:
        return DEFAULT_THRESHOLDS
    try:
        return parse_thresholds(raw)
    except ValueError as exc:
        log.warning("%s; using %s", exc, format_threshold(DEFAULT_THRESHOLDS[0]))
        return DEFAULT_THRESHOLDS


def format_threshold(limit: timedelta) -> str:
    """``4 h``, ``30 min``, ``1 h 30``."""
    minutes = int(limit.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{minutes} min" if not hours else f"{hours} h" + (f" {rest:02d}" if rest else "")


def crossed(due_at: datetime, now: datetime, limits: tuple[timedelta, ...]) -> timedelta | None:
    """The tightest threshold ``now`` has crossed before ``due_at`` (a late deadline has crossed them all)."""
    left = due_at - now
    passed = [limit for limit in limits if left <= limit]
    return min(passed) if passed else None


#: Deadlines of these targets are their order's: whatever is next on it (accept, ship, a queued action) is one deadline.
ORDER_TARGETS = frozenset({"order", "line", "action"})


def subject(due: Due) -> tuple[str, int] | None:
    """What a deadline is watched as: its order for an order, line or queued action, else its own target (an account, a case)."""
    if due.target_type in ORDER_TARGETS and due.order_id is not None:
        return ("order", due.order_id)
    return (due.target_type, due.target_id) if due.target_id is not None else None


@dataclass(frozen=True)
class DueCounts:
    """The status bar's deadline counts: late, and not late yet but due within the widest threshold.

    The bar words them itself (``AlertStatus.deadlines_text``): it stays free of the database layer.
    """

    overdue: int = 0
    soon: int = 0
    within: timedelta = DEFAULT_THRESHOLDS[0]


def due_counts(ctx: AppContext) -> DueCounts:
    """Late deadlines and those within the widest threshold, as the escalation last saw them: one query on ``due_at``."""
    from shelfdesk.db.models import DeadlineWatch as W

    now = ctx.clock.now()
    within = thresholds(ctx)[0]
    with ctx.read_session() as session:
        total, overdue = session.execute(
            select(func.count(), func.coalesce(func.sum(case((W.due_at <= now, 1), else_=0)), 0)).where(W.due_at <= now + within)
        ).one()
    return DueCounts(int(overdue), int(total) - int(overdue), within)
