"""An operator's "fetch orders now", under the same leases as the scheduled harvest.

The console's ``f`` and ``shelfdesk orders sync`` used to call the harvest
directly, so a manual fetch could overlap the harvest a worker was running
for the same account. Nothing was stored twice (the upsert is idempotent),
but both read the same pages and raced to move the watermark. Here each
account's harvest runs through :class:`~shelfdesk.jobs.runner.JobRunner`
on the account's ``harvest`` schedule key: it claims that schedule's lease
(a manual trigger skips only the "once per interval" rule), is recorded as
a manual run on the Jobs screen, and when another process holds the lease
the operator is told who does instead of a second harvest starting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shelfdesk.jobs.registry import ChannelFacts
from shelfdesk.jobs.runner import MANUAL, JobCall, JobRunner, RunReport

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.orders.harvest import HarvestResult, PageCallback

HARVEST = "harvest"
RunKey = Callable[[str, JobCall], Awaitable[RunReport]]


def runner_key(runner: JobRunner) -> RunKey:
    """Run keys as manual runs of ``runner`` (a process without a scheduler: the CLI, a console without one)."""

    async def run_key(key: str, call: JobCall) -> RunReport:
        return await runner.run(key, trigger=MANUAL, call=call)

    return run_key


@dataclass(frozen=True)
class ManualHarvest:
    """One account's manual harvest: the job run's report, and the harvest's own result when it ran."""

    account_id: int
    account: str
    report: RunReport
    result: HarvestResult | None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok

    @property
    def failed(self) -> bool:
        """It ran and did not go well (a busy account, not fetched now, is not a failure)."""
        return self.report.ran and not self.ok

    @property
    def error(self) -> str | None:
        """Why this account was not harvested, or why its harvest failed; None when it went well."""
        if self.result is not None:
            return self.result.error
        if self.report.ran:  # the harvest raised: the run record keeps the traceback
            return f"{self.account}: {self.report.outcome}: {self.report.error}"
        return f"{self.account}: not fetched now: {self.report.reason}"

    def as_dict(self) -> dict[str, object]:
        if self.result is not None:
            return {**self.result.as_dict(), "run_id": self.report.run_id}
        return {"account_id": self.account_id, "account": self.account, "ok": False, "error": self.error, "skipped": self.report.reason}


def harvest_keys(ctx: AppContext, account_ids: list[int]) -> dict[int, tuple[str, str]]:
    """account id → (its harvest schedule key, account name), creating missing schedules first."""
    from shelfdesk.jobs.registry import get_job
    from shelfdesk.jobs.schedules import channel_facts, ensure_schedules, wanted_schedules

    spec = get_job(HARVEST)
    if spec is None:
        raise RuntimeError("the order harvest job is not registered")
    ensure_schedules(ctx)
    with ctx.read_session() as session:
        channels: dict[int, ChannelFacts] = {c.id: c for c in channel_facts(session)}
    keys: dict[int, tuple[str, str]] = {}
    for wanted in wanted_schedules([spec], list(channels.values())):
        channel = channels[wanted.channel_id] if wanted.channel_id is not None else None
        if channel is not None and channel.account_id in account_ids:
            keys.setdefault(channel.account_id, (wanted.key, channel.account_name))
    return keys


async def harvest_now(
    ctx: AppContext, run_key: RunKey, *, store: str | None = None, channel: str | None = None, on_page: PageCallback | None = None
) -> list[ManualHarvest]:
    """Harvest every account concerned now, one after the other, each under its schedule's lease.

    ``run_key(key, call)`` runs one schedule key with ``call`` as its job:
    :func:`runner_key` for a one-off runner (the CLI), the scheduler's
    ``run_now`` in a console whose scheduler runs (it re-aims the timer).
    """
    import asyncio

    from shelfdesk.jobs.tasks import harvest_counts
    from shelfdesk.orders.harvest import accounts_to_harvest, harvest_account

    account_ids = await asyncio.to_thread(accounts_to_harvest, ctx, store=store, channel=channel)
    keys = await asyncio.to_thread(harvest_keys, ctx, account_ids)
    done: list[ManualHarvest] = []
    for account_id in account_ids:
        if account_id not in keys:  # no channel of it takes the harvest job (disabled since)
            continue
        key, name = keys[account_id]
        results: list[HarvestResult] = []

        async def call(account_id: int = account_id, results: list[HarvestResult] = results) -> dict[str, int]:
            results.append(await harvest_account(ctx, account_id, on_page=on_page))
            return harvest_counts(results[-1])

        report = await run_key(key, call)
        done.append(ManualHarvest(account_id, name, report, results[0] if results else None))
    return done
