"""The order harvest: every account's orders modified since its watermark, stored idempotently.

Incremental by *modification* date, never by creation date, so status changes
are never missed. For each account:

1. ``since`` is the account's watermark, moved back by the workspace's overlap
   where it is longer than the connector's own (the connector already subtracts
   its overlap); a first harvest looks back ``harvest_lookback_days`` (14 by
   default, or the account's ``settings["first_harvest_days"]``).
2. Pages are fetched and stored in transactions of up to 500 orders
   (:func:`shelfdesk.orders.store.store_remote_orders`): idempotent upserts,
   events, confirmations; then the auto-accept rule runs on those orders.
3. Stragglers are read one by one: New orders the marketplace did not allow
   any action on yet (payment checks) that the listing did not bring back.
   Back Market's listing leaves out states 0 and 8, so an order whose payment
   fails (10 → 8) would otherwise never be seen again and stay New here.
4. Only when every page is stored does the watermark move, to the instant the
   harvest *started*: an order modified while it ran is fetched again next
   time (and found unchanged), never skipped. A harvest that fails half-way
   keeps the old watermark; the pages it stored are harmless to store again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from shelfdesk.channels.errors import AuthError, ChannelError, NotFound
from shelfdesk.orders.autoaccept import auto_accept
from shelfdesk.orders.connect import ConnectorFactory, account_ref, default_factory
from shelfdesk.orders.errors import NoCredential, OrderError
from shelfdesk.orders.store import AccountScope, StoreOutcome, load_scope, store_remote_orders

if TYPE_CHECKING:
    from shelfdesk.channels.base import RemoteOrder
    from shelfdesk.context import AppContext

log = logging.getLogger("shelfdesk.orders.harvest")


@dataclass
class HarvestResult:
    """One account's harvest, for the CLI, the console and job runs."""

    account_id: int
    account: str
    since: datetime | None = None
    watermark: datetime | None = None  #: the new watermark; None when it did not move
    pages: int = 0
    fetched: int = 0
    refreshed: int = 0  #: stragglers read one by one
    stored: StoreOutcome = field(default_factory=StoreOutcome)
    auto_accepted: int = 0
    held: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, object]:
        return {
            "account_id": self.account_id,
            "account": self.account,
            "ok": self.ok,
            "error": self.error,
            "since": self.since.isoformat() if self.since else None,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "pages": self.pages,
            "fetched": self.fetched,
            "refreshed": self.refreshed,
            "created": len(self.stored.created),
            "updated": len(self.stored.updated),
            "unchanged": self.stored.unchanged,
            "stale": self.stored.stale,
            "out_of_scope": self.stored.out_of_scope,
            "events": self.stored.events,
            "confirmed_actions": self.stored.confirmed_actions,
            "auto_accepted": self.auto_accepted,
            "held": self.held,
        }


PageCallback = Callable[[HarvestResult], None]


def accounts_to_harvest(ctx: AppContext, *, store: str | None = None, channel: str | None = None) -> list[int]:
    """Accounts with an order-managing channel, narrowed to a store and/or channel (name or id; a channel in any form of ``channel_refs``)."""
    from shelfdesk.db.models import Channel, Store

    with ctx.read_session() as session:
        query = select(Channel.account_id).where(Channel.orders_enabled.is_(True), Channel.enabled.is_(True))  # type: ignore[attr-defined]
        store_row = None
        if store:
            store_row = session.execute(select(Store.id).where((Store.name == store) | (Store.id == _int_or(store)))).scalar()
            if store_row is None:
                raise OrderError(f"no store {store!r}")
            query = query.where(Channel.store_id == store_row)
        if channel:
            from shelfdesk.channel_refs import pick_channel, refs_from

            query = query.where(
                Channel.id
                == pick_channel(refs_from(session), channel, store=store_row, stores={store_row: store} if store_row else None).id
            )
        ids = sorted(set(session.execute(query).scalars()))
    if channel and not ids:
        raise OrderError(f"no order-managing channel {channel!r}" + (f" in store {store!r}" if store else ""))
    return ids


def _int_or(text: str) -> int:
    return int(text) if text.isdigit() else -1


async def harvest_account(
    ctx: AppContext, account_id: int, *, factory: ConnectorFactory | None = None, on_page: PageCallback | None = None
) -> HarvestResult:
    """Harvest one account; connector failures end in ``result.error`` with the watermark untouched."""
    from shelfdesk.db.models import MarketplaceAccount

    ctx.require_write()
    with ctx.read_session() as session:
        row = session.get(MarketplaceAccount, account_id)
        if row is None:
            raise OrderError(f"marketplace account {account_id} does not exist")
        scope = load_scope(session, account_id)
        account = replace(account_ref(row), market=scope.market)
        watermark = row.orders_watermark
        lookback_days = int((row.settings or {}).get("first_harvest_days") or ctx.settings.harvest_lookback_days)
    result = HarvestResult(account_id, account.name)
    started = ctx.clock.now()
    factory = factory or default_factory(ctx)
    try:
        connector = factory(account)
    except NoCredential as exc:
        result.error = str(exc)
        return result
    if watermark is None:
        result.since = started - timedelta(days=lookback_days)
    else:
        caps_overlap = connector.capabilities().sync_overlap
        extra = timedelta(minutes=ctx.settings.harvest_overlap_minutes) - caps_overlap
        result.since = watermark - max(extra, timedelta(0))
    try:
        async with connector:
            buffer: list[RemoteOrder] = []
            async for page in connector.iter_orders(result.since):
                result.pages += 1
                result.fetched += len(page)
                buffer.extend(page)
                if len(buffer) >= STORE_BATCH:  # one transaction per ~500 orders, not per 50-order page
                    await asyncio.to_thread(_store_page, ctx, scope, buffer, result)
                    buffer = []
                if on_page is not None:
                    on_page(result)
            if buffer:
                await asyncio.to_thread(_store_page, ctx, scope, buffer, result)
            stragglers = await asyncio.to_thread(_stragglers, ctx, account_id, started, set(result.stored.ids))
            for remote_id in stragglers:
                try:
                    remote = await connector.get_order(remote_id)
                except NotFound:
                    continue
                result.refreshed += 1
                await asyncio.to_thread(_store_page, ctx, scope, [remote], result, touch=True)
    except AuthError as exc:
        result.error = f"{account.name}: {exc}"
        await asyncio.to_thread(_set_token_state, ctx, account_id, exc.message)
        return result
    except (ChannelError, OSError) as exc:
        result.error = f"{account.name}: {exc}"
        log.warning("harvest of %s stopped: %s (watermark kept)", account.name, exc)
        return result
    await asyncio.to_thread(_move_watermark, ctx, account_id, started)
    result.watermark = started
    return result


def _store_page(ctx: AppContext, scope: AccountScope, page: Sequence[RemoteOrder], result: HarvestResult, *, touch: bool = False) -> None:
    from shelfdesk.db.models import Order

    now = ctx.clock.now()
    with ctx.write_session() as session:
        stored = store_remote_orders(session, scope, page, now)
        if touch and stored.ids:  # read even if unchanged: let the next stragglers have their turn
            session.execute(update(Order).where(Order.id.in_(list(stored.ids.values()))).values(harvested_at=now))  # type: ignore[union-attr]
        decided = auto_accept(session, scope, [*stored.created, *stored.updated], now)
    result.stored.add(stored)
    result.auto_accepted += len(decided.accepted)
    result.held += len(decided.held)


#: Orders stored per transaction: pages are buffered up to this size (a stored batch is kept
#: even if a later page fails; the watermark still waits for the whole harvest).
STORE_BATCH = 500
#: Stragglers read per harvest at most, and how long one must have gone unseen first.
STRAGGLERS_PER_HARVEST = 50
STRAGGLER_AGE = timedelta(minutes=10)


def _stragglers(ctx: AppContext, account_id: int, started: datetime, seen: set[str]) -> list[str]:
    """New orders with no action allowed yet (payment checks) that this harvest did not see."""
    from shelfdesk.db.models import Order
    from shelfdesk.domain import NormalizedStatus

    with ctx.read_session() as session:
        rows = (
            session.execute(
                select(Order.marketplace_order_id)
                .where(
                    Order.account_id == account_id,
                    Order.status == NormalizedStatus.New,
                    Order.allowed_actions == "",
                    Order.harvested_at <= started - STRAGGLER_AGE,
                )
                .order_by(Order.harvested_at)
                .limit(STRAGGLERS_PER_HARVEST + len(seen))
            )
            .scalars()
            .all()
        )
    return [r for r in rows if r not in seen][:STRAGGLERS_PER_HARVEST]


def _move_watermark(ctx: AppContext, account_id: int, when: datetime) -> None:
    from shelfdesk.db.models import MarketplaceAccount

    with ctx.write_session() as session:
        session.execute(
            update(MarketplaceAccount)
            .where(MarketplaceAccount.id == account_id)
            .values(orders_watermark=when, token_error=None, token_checked_at=when, updated_at=when)
        )


def _set_token_state(ctx: AppContext, account_id: int, error: str | None) -> None:
    from shelfdesk.db.models import MarketplaceAccount

    with ctx.write_session() as session:
        session.execute(
            update(MarketplaceAccount)
            .where(MarketplaceAccount.id == account_id)
            .values(token_error=error, token_checked_at=ctx.clock.now())
        )


async def harvest(
    ctx: AppContext,
    *,
    store: str | None = None,
    channel: str | None = None,
    factory: ConnectorFactory | None = None,
    on_page: PageCallback | None = None,
) -> list[HarvestResult]:
    """Harvest every account concerned, one after the other (each has its own rate limits)."""
    results = []
    for account_id in accounts_to_harvest(ctx, store=store, channel=channel):
        results.append(await harvest_account(ctx, account_id, factory=factory, on_page=on_page))
    return results


def harvest_sync(ctx: AppContext, **kwargs: object) -> list[HarvestResult]:
    """Synchronous entry point (CLI, demo)."""
    return asyncio.run(harvest(ctx, **kwargs))  # type: ignore[arg-type]
