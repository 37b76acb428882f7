"""The Care harvest: each Back Market account's cases changed since its watermarks, within the daily budgets.

Per account, when its poll is due (see :mod:`shelfdesk.care.budget`):

1. List the folders modified since the modification watermark, then those
   with messages since the message watermark (both moved back by
   :data:`OVERLAP`: the filters have minute precision). Every list page takes
   a unit of the day's list budget first.
2. Read in full (``GET /ws/sav/{id}``, a detail unit each) every folder that
   is new here, changed since it was last read, or has an action of ours
   waiting to show; store the others' summaries.
3. Confirm the Care actions the stored state now shows.
4. Only when every page is stored do the watermarks move, to the instant the
   harvest started; a harvest stopped by an error or a spent budget keeps them.
5. Space the next poll so that the rest of the day's budget lasts until
   midnight, and keep the line that says so for the Jobs screen.

The first harvest of an account looks back :data:`LOOKBACK`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from shelfdesk.care import budget
from shelfdesk.care.store import StoredCases, store_case
from shelfdesk.channels.errors import AuthError, ChannelError
from shelfdesk.orders.errors import NoCredential
from shelfdesk.services.care import CareHarvestResult

if TYPE_CHECKING:
    from shelfdesk.channels.care import RemoteCareCase
    from shelfdesk.context import AppContext
    from shelfdesk.orders.connect import ConnectorFactory

log = logging.getLogger("shelfdesk.care.harvest")

OVERLAP = timedelta(minutes=2)
LOOKBACK = timedelta(days=30)


def care_accounts(ctx: AppContext, account_id: int | None = None) -> list[int]:
    """Back Market accounts with an enabled order-managing channel (or the one asked for)."""
    from shelfdesk.db.models import Channel, MarketplaceAccount
    from shelfdesk.domain import Marketplace

    with ctx.read_session() as session:
        query = (
            select(col(MarketplaceAccount.id))
            .join(Channel, col(Channel.account_id) == col(MarketplaceAccount.id))
            .where(
                col(MarketplaceAccount.marketplace) == Marketplace.backmarket,
                col(Channel.enabled).is_(True),
                col(Channel.orders_enabled).is_(True),
            )
        )
        if account_id is not None:
            query = query.where(col(MarketplaceAccount.id) == account_id)
        return sorted(set(session.execute(query).scalars()))


def _cursor(ctx: AppContext, account_id: int) -> dict[str, Any]:
    from shelfdesk.db.models import CareCursor

    with ctx.read_session() as session:
        row = session.get(CareCursor, account_id)
        if row is None:
            return {"modified": None, "message": None, "next": None, "interval": budget.DEFAULT_INTERVAL}
        return {
            "modified": row.modified_watermark,
            "message": row.message_watermark,
            "next": row.next_poll_at,
            "interval": row.interval_seconds,
        }


def _save_cursor(ctx: AppContext, account_id: int, *, moved_to: datetime | None, next_at: datetime, interval: int, note: str) -> None:
    from shelfdesk.db.models import CareCursor

    now = ctx.clock.now()
    with ctx.write_session() as session:
        row = session.get(CareCursor, account_id)
        if row is None:
            row = CareCursor(account_id=account_id, updated_at=now)
            session.add(row)
        if moved_to is not None:
            row.modified_watermark = row.message_watermark = moved_to
            row.last_poll_at = moved_to
        row.next_poll_at, row.interval_seconds, row.note, row.updated_at = next_at, interval, note, now


def _needs_detail(ctx: AppContext, account_id: int, summaries: dict[str, RemoteCareCase]) -> tuple[list[str], list[str]]:
    """(to read in full, to store as summaries): new cases, and cases changed since last read, are read in full."""
    from shelfdesk.db.models import CareCase

    with ctx.read_session() as session:
        stored = {
            r[0]: r[1:]
            for r in session.execute(
                select(col(CareCase.case_ref), col(CareCase.modified_at), col(CareCase.last_message_at), col(CareCase.detailed_at)).where(
                    col(CareCase.account_id) == account_id,
                    col(CareCase.case_ref).in_(list(summaries)),
                )
            )
        }
    full: list[str] = []
    light: list[str] = []
    for ref, summary in summaries.items():
        known = stored.get(ref)
        if known is None or known[2] is None:
            full.append(ref)
            continue
        modified, last_message, _ = known
        newer = any(
            new is not None and (old is None or new > old)
            for new, old in ((summary.modified_at, modified), (summary.last_message_at, last_message))
        )
        missing_dates = summary.modified_at is None and summary.last_message_at is None
        (full if newer or missing_dates else light).append(ref)
    return full, light


def awaited_cases(ctx: AppContext, account_id: int) -> list[str]:
    """Cases of this account with a Care action of ours sent and not yet visible (read them each poll)."""
    from shelfdesk.db.models import CareCase, OrderAction
    from shelfdesk.domain import ActionState

    with ctx.read_session() as session:
        refs = {
            str((payload or {}).get("case_ref"))
            for (payload,) in session.execute(
                select(col(OrderAction.payload)).where(
                    col(OrderAction.kind).in_(("care_reply", "care_problem", "care_transfer")),
                    col(OrderAction.state) == ActionState.synchronizing,
                )
            )
        }
        return sorted(
            session.execute(
                select(col(CareCase.case_ref)).where(col(CareCase.account_id) == account_id, col(CareCase.case_ref).in_(sorted(refs)))
            ).scalars()
        )


def _store(ctx: AppContext, account_id: int, remotes: list[RemoteCareCase], out: StoredCases) -> int:
    from shelfdesk.care.outbox import confirm_case_actions

    now = ctx.clock.now()
    confirmed = 0
    with ctx.write_session() as session:
        for remote in remotes:
            case_id = store_case(session, account_id, "backmarket", remote, now, out)
            confirmed += confirm_case_actions(session, case_id, now)
    return confirmed


async def harvest_account_care(
    ctx: AppContext, account_id: int, *, factory: ConnectorFactory | None = None, force: bool = False
) -> CareHarvestResult:
    """One account's Care harvest; errors end in ``result.error`` with the watermarks untouched."""
    from shelfdesk.db.models import MarketplaceAccount
    from shelfdesk.orders.connect import account_ref, default_factory

    ctx.require_write()
    with ctx.read_session() as session:
        row = session.get(MarketplaceAccount, account_id)
        if row is None:
            raise LookupError(f"marketplace account {account_id} does not exist")
        account = account_ref(row)
    result = CareHarvestResult(account_id, account.name)
    cursor = await asyncio.to_thread(_cursor, ctx, account_id)
    started = ctx.clock.now()
    if not force and cursor["next"] is not None and started < cursor["next"]:
        result.skipped_for_budget = True
        result.next_interval = int((cursor["next"] - started).total_seconds())
        return result
    try:
        connector = (factory or default_factory(ctx))(account)
    except NoCredential as exc:
        result.error = str(exc)
        return result
    if not hasattr(connector, "iter_care_cases"):
        await connector.aclose()
        return result
    since_mod = cursor["modified"] - OVERLAP if cursor["modified"] else started - LOOKBACK
    since_msg = cursor["message"] - OVERLAP if cursor["message"] else started - LOOKBACK
    out = StoredCases()

    async def take(endpoint: str) -> None:
        await asyncio.to_thread(budget.take, ctx, account_id, endpoint, harvest=True)
        if endpoint == "list":
            result.listed += 1
        else:
            result.detailed += 1

    moved = False
    try:
        async with connector:
            summaries: dict[str, RemoteCareCase] = {}
            for filters in ({"modified_since": since_mod}, {"message_since": since_msg}):
                async for page in connector.iter_care_cases(**filters, before_page=lambda: take("list")):
                    for summary in page:
                        summaries[summary.remote_id] = summary
            full, light = await asyncio.to_thread(_needs_detail, ctx, account_id, summaries)
            for ref in await asyncio.to_thread(awaited_cases, ctx, account_id):
                if ref not in full:
                    full.append(ref)
            if light:
                result.confirmed_actions += await asyncio.to_thread(_store, ctx, account_id, [summaries[r] for r in light], out)
            for ref in full:
                await take("detail")
                remote = await connector.get_care_case(ref)  # type: ignore[attr-defined]  # a Back Market connector: checked above with hasattr(iter_care_cases)
                result.confirmed_actions += await asyncio.to_thread(_store, ctx, account_id, [remote], out)
        moved = True
    except budget.BudgetExhausted as exc:
        result.error = None
        result.skipped_for_budget = True
        note = f"{exc}; watermarks kept"
        await asyncio.to_thread(_save_cursor, ctx, account_id, moved_to=None, next_at=exc.resets_at, interval=cursor["interval"], note=note)
        result.budget_note, result.next_interval = note, int((exc.resets_at - ctx.clock.now()).total_seconds())
    except AuthError as exc:
        result.error = f"{account.name}: {exc}"
    except (ChannelError, OSError) as exc:
        result.error = f"{account.name}: {exc}"
        log.warning("Care harvest of %s stopped: %s (watermarks kept)", account.name, exc)
    result.cases_new, result.cases_updated, result.messages_new = len(out.created), len(set(out.updated)), out.messages_new
    if moved or result.error:
        now = ctx.clock.now()
        # Recomputed from the default each poll (never ratcheted up): a quiet day polls at the default again.
        result.list_calls_today = await asyncio.to_thread(budget.used, ctx, account_id, "list")
        result.list_budget = budget.limit_for("list", harvest=True)
        plan = budget.poll_interval(
            now,
            used_list=result.list_calls_today,
            used_detail=await asyncio.to_thread(budget.used, ctx, account_id, "detail"),
            list_per_poll=result.listed,
            detail_per_poll=result.detailed,
            base=budget.DEFAULT_INTERVAL,
        )
        await asyncio.to_thread(
            _save_cursor,
            ctx,
            account_id,
            moved_to=started if moved else None,
            next_at=now + timedelta(seconds=plan.interval),
            interval=plan.interval,
            note=plan.note,
        )
        result.next_interval, result.budget_note = plan.interval, plan.note
    return result


async def harvest_care(
    ctx: AppContext, *, account_id: int | None = None, force: bool = False, factory: ConnectorFactory | None = None
) -> list[CareHarvestResult]:
    return [await harvest_account_care(ctx, a, factory=factory, force=force) for a in care_accounts(ctx, account_id)]


def harvest_care_sync(ctx: AppContext, *, account_id: int | None = None, force: bool = False) -> list[CareHarvestResult]:
    """Synchronous entry point (CLI)."""
    return asyncio.run(harvest_care(ctx, account_id=account_id, force=force))


def result_counts(result: CareHarvestResult) -> dict[str, int]:
    """A harvest's counters for the Jobs screen (the budget line is in the counts' words)."""
    return {
        k: v
        for k, v in {
            "cases_new": result.cases_new,
            "cases_updated": result.cases_updated,
            "messages_new": result.messages_new,
            "actions_confirmed": result.confirmed_actions,
            "list_calls": result.listed,
            "detail_calls": result.detailed,
            "next_poll_s": result.next_interval or 0,
            "list_calls_today": result.list_calls_today,
            "list_budget_day": result.list_budget,
        }.items()
        if v or k in ("next_poll_s", "list_calls_today", "list_budget_day")
    }
