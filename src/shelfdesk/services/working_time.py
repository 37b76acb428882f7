"""The merchant's working time per store: the cut-off hour and working days every deadline is computed with.

A store's ``settings["deadlines"]`` holds them; its channels inherit them
(:meth:`shelfdesk.deadlines.WorkingTime.for_channel`), and a channel's own
``settings["deadlines"]`` still overrides them key by key. The Stores screen's
edit form and ``shelfdesk store edit --cutoff-hour/--working-days`` both save
through :func:`set_store_working_time`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.errors import SetupError
from shelfdesk.deadlines import DEFAULT_CUTOFF_HOUR, DEFAULT_WORKING_DAYS, check_cutoff_hour, format_working_days, parse_working_days

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


@dataclass(frozen=True)
class StoreWorkingTime:
    """A store's cut-off hour and working days (the defaults where it has none)."""

    cutoff_hour: int = DEFAULT_CUTOFF_HOUR
    working_days: tuple[int, ...] = tuple(sorted(DEFAULT_WORKING_DAYS))

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> StoreWorkingTime:
        from shelfdesk.deadlines import WorkingTime

        working = WorkingTime.for_channel(None, None, settings)
        return cls(working.cutoff_hour, tuple(sorted(working.working_days)))

    @property
    def days_text(self) -> str:
        return format_working_days(self.working_days)

    def as_json(self) -> dict[str, Any]:
        return {"cutoff_hour": self.cutoff_hour, "working_days": self.days_text}


def set_store_working_time(
    ctx: AppContext, store_id: int, *, cutoff_hour: int | str | None = None, working_days: str | list[int] | None = None
) -> StoreWorkingTime:
    """Save a store's cut-off hour and/or working days (None leaves one as it is); a bad value changes nothing."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Store

    ctx.require_write()
    try:
        hour = None if cutoff_hour is None else check_cutoff_hour(cutoff_hour)
        days = None if working_days is None else _days(working_days)
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    with ctx.write_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise SetupError(f"no store with id {store_id}")
        before = StoreWorkingTime.from_settings(store.settings)
        block = dict((store.settings or {}).get("deadlines") or {})
        if hour is not None:
            block["cutoff_hour"] = hour
        if days is not None:
            block["working_days"] = days
        store.settings = {**(store.settings or {}), "deadlines": block}  # a new dict: JSON changes are tracked shallowly
        store.updated_at = ctx.clock.now()
        after = StoreWorkingTime.from_settings(store.settings)
        if after != before:
            record_audit(session, ctx, "store.working_time", "store", store_id, {"from": before.as_json(), "to": after.as_json()})
    return after


def _days(value: str | list[int]) -> list[int]:
    if isinstance(value, str):
        return parse_working_days(value)
    days = sorted({int(d) for d in value})
    if not days or any(not 0 <= d <= 6 for d in days):
        raise ValueError("working days are 0 (Monday) to 6 (Sunday), at least one")
    return days
