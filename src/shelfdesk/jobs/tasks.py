"""The jobs shelfdesk runs on a schedule, registered with :mod:`shelfdesk.jobs.registry`.

Each function here is a thin adapter from ``(ctx, channel_id)`` to a
service's public entry point, returning that service's counts. The work
itself lives in the services (orders, publishing, …); a failure there raises
here so the run is recorded as failed with its error and traceback.

Services that own their job function register it in their own module and add
that module to :data:`shelfdesk.jobs.registry.JOB_MODULES` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shelfdesk.jobs.registry import DEFAULT_INTERVALS, JobScope, JobSpec, register

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


async def prune_old_rows(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """Retention: delete job runs, publication items and order history past their age."""
    from shelfdesk.jobs.retention import prune

    return await prune(ctx)


register(JobSpec(
    name="retention", title="Retention", run=prune_old_rows, scope=JobScope.workspace,
    interval=DEFAULT_INTERVALS["retention"],
    description="Prunes old job runs, publication items and order history (workspace settings retention_*)",
))  # fmt: skip
