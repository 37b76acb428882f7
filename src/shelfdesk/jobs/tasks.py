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
    from shelfdesk.orders.harvest import HarvestResult


class JobFailed(RuntimeError):
    """The service reported a failure without raising (e.g. a harvest that stopped on a 401)."""


def _numbers(values: dict[str, object], names: dict[str, str]) -> dict[str, int]:
    """Pick the numeric counters ``names`` (service name → count name) out of a service's report."""
    return {count: int(values[name]) for name, count in names.items() if isinstance(values.get(name), int)}


# ---------------------------------------------------------------- orders (issue 6)


async def harvest_orders(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """Order harvest of the channel's marketplace account (one schedule per account).

    A harvest that stops on an error (token rejected, marketplace down) keeps
    its watermark and fails the run: the error is in the run record and, for a
    rejected token, on the account (token alert).
    """
    from shelfdesk.db.models import Channel
    from shelfdesk.orders.harvest import harvest_account

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise JobFailed(f"channel {channel_id} no longer exists")
        account_id = channel.account_id
    result = await harvest_account(ctx, account_id)
    if result.stored.created or result.stored.updated:
        # Orders change what every channel of their stores may sell: push it now, not at the pusher's next run.
        import asyncio

        from shelfdesk.publishing.pusher import push_waiting

        await asyncio.to_thread(push_waiting, ctx)
    return harvest_counts(result)


def harvest_counts(result: HarvestResult) -> dict[str, int]:
    """A harvest's counters for its run record; a harvest that stopped on an error fails the run."""
    if result.error:
        raise JobFailed(result.error)
    return _numbers(
        result.as_dict(),
        {
            "fetched": "orders_fetched",
            "created": "orders_new",
            "updated": "orders_updated",
            "refreshed": "orders_reread",
            "events": "events",
            "confirmed_actions": "actions_confirmed",
            "auto_accepted": "auto_accepted",
            "held": "auto_accept_held",
        },
    )


async def send_outbox(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """One sweep of the outbox: recover stale claims, send every action due now.

    Back-offs are not waited for here: the next sweep, a few seconds later,
    picks up what became due. Returns {} (nothing to do) when nothing was due.
    """
    from shelfdesk.orders.outbox import OutboxSender, outcome_counts

    async with OutboxSender(ctx) as sender:
        report = await sender.run_once()
    counts = {f"actions_{state}": count for state, count in outcome_counts(report).items()}
    if report.recovered:
        counts["claims_recovered"] = report.recovered
    return counts


register(
    JobSpec(
        name="harvest",
        title="Order harvest",
        run=harvest_orders,
        scope=JobScope.account,
        interval=DEFAULT_INTERVALS["harvest"],
        applies=lambda ch: ch.enabled and ch.orders_enabled,
        description="Orders modified since the account's watermark, stored idempotently (one per account)",
    )
)
register(
    JobSpec(
        name="outbox",
        title="Outbox sender",
        run=send_outbox,
        scope=JobScope.workspace,
        interval=DEFAULT_INTERVALS["outbox"],
        description="Sends queued order actions (accept, ship, cancel …) exactly once, with retries",
    )
)


# ---------------------------------------------------------------- accounts (issue 3)


async def check_tokens(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """Ask every account's marketplace whether its token still works, and when it expires.

    The answers land on the accounts (``token_error``, ``token_expires_at``), where
    the token alerts read them: a rejected token or one expiring within 30 days
    (Leboncoin refresh tokens last 365 days and are renewed by hand). A rejected
    token is a finding, not a job failure; the run fails only when no
    marketplace could be reached at all.
    """
    from sqlalchemy import select

    from shelfdesk.db.models import MarketplaceAccount
    from shelfdesk.services.accounts import check_connection

    with ctx.read_session() as session:
        accounts = (
            session.execute(
                select(MarketplaceAccount.id).where(MarketplaceAccount.credential_ref.is_not(None)).order_by(MarketplaceAccount.id)
            )
            .scalars()
            .all()
        )
    counts = {"accounts_checked": 0, "tokens_valid": 0, "tokens_rejected": 0, "unreachable": 0}
    unreachable = []
    for account_id in accounts:
        result = await check_connection(ctx, account_id)
        counts["accounts_checked"] += 1
        if result.ok:
            counts["tokens_valid"] += 1
            continue
        with ctx.read_session() as session:
            account = session.get(MarketplaceAccount, account_id)
            network = bool(account and (account.settings or {}).get("connection_error"))
            name = account.name if account else str(account_id)
        if network:
            counts["unreachable"] += 1
            unreachable.append(f"{name}: {result.message}")
        else:
            counts["tokens_rejected"] += 1
    if unreachable and counts["unreachable"] == counts["accounts_checked"]:
        raise JobFailed("no marketplace could be reached: " + "; ".join(unreachable))
    return counts if accounts else {}


register(
    JobSpec(
        name="tokens",
        title="Token check",
        run=check_tokens,
        scope=JobScope.workspace,
        interval=DEFAULT_INTERVALS["tokens"],
        description="Checks every account's token with its marketplace: rejections and expiry dates feed the token alerts",
    )
)


# ---------------------------------------------------------------- workspace housekeeping


async def prune_old_rows(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """Retention: delete job runs, publication items and order history past their age."""
    from shelfdesk.jobs.retention import prune

    return await prune(ctx)


register(
    JobSpec(
        name="retention",
        title="Retention",
        run=prune_old_rows,
        scope=JobScope.workspace,
        interval=DEFAULT_INTERVALS["retention"],
        description="Prunes old job runs, publication items and order history (workspace settings retention_*)",
    )
)
