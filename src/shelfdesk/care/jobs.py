"""The ``care`` job: each Back Market account's after-sales cases, polled within the Care API's daily budgets.

The schedule looks every minute; the harvest itself decides whether the
account's poll is due (its interval adapts to what is left of the day's
budgets, see :mod:`shelfdesk.care.budget`). A look that is not due records an
idle run; a poll records its counts, including ``next_poll_s``, the interval
the budget allows now, which the Jobs screen shows with the run.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from shelfdesk.jobs.registry import DEFAULT_INTERVALS, JobScope, JobSpec, register

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


class CareHarvestFailed(RuntimeError):
    """The harvest stopped on an error (kept in the run record)."""


async def harvest_care_job(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    from shelfdesk.care.harvest import harvest_account_care, result_counts
    from shelfdesk.care.refunds import settle_refunds
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise CareHarvestFailed(f"channel {channel_id} no longer exists")
        account_id = channel.account_id
    result = await harvest_account_care(ctx, account_id)
    await asyncio.to_thread(settle_refunds, ctx)
    if result.error:
        raise CareHarvestFailed(result.error)
    if result.skipped_for_budget and not result.listed:
        return {}
    return result_counts(result)


register(
    JobSpec(
        name="care",
        title="Care harvest",
        run=harvest_care_job,
        scope=JobScope.account,
        interval=DEFAULT_INTERVALS["care"],
        applies=lambda ch: ch.enabled and ch.orders_enabled and ch.marketplace == "backmarket",
        description="After-sales cases changed since the last poll; the poll interval adapts so a day's calls stay within the Care budgets",
    )
)
