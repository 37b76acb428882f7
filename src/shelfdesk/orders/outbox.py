"""The outbox sender: sends queued order actions to the marketplaces, exactly once.

How "exactly once" holds (an idempotent journal of actions):

* **Claim.** A sender takes an action with a conditional UPDATE (``… WHERE id =
  :id AND state = 'pending'``); only one process can win it, on SQLite as on
  PostgreSQL. The claimed row is ``sending``: its outcome is unknown until the
  sender records it.
* **Answer, then commit.** The marketplace's answer is stored (order, lines,
  events) and the action moved to ``confirmed`` (the marketplace's state shows
  it) or ``synchronizing`` (accepted, not visible yet) in one transaction.
* **Crash.** A claim whose holder died (its process is gone, or the claim is
  older than ``claim_timeout``) goes back to ``pending``. Every attempt after
  the first reads the order from the marketplace *before* sending: if the
  action is already visible it is confirmed without being sent again. So an
  answer lost between the marketplace and our commit never becomes a second
  shipment.
* **Failures.** Transient errors (timeouts, 5xx, 429, connection refused) are
  retried with exponential back-off and jitter; a refusal keeps the
  marketplace's own message and the action becomes ``failed``, visible in the
  order and in the failed-actions list until an operator retries or dismisses it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from shelfdesk.channels.errors import (
    AuthError,
    ChannelError,
    RateLimited,
    RemoteRejected,
    TransientError,
    UnknownOutcome,
    UnsupportedOperation,
    WafBlocked,
)
from shelfdesk.claims import backoff, claim_abandoned, holder_name
from shelfdesk.domain import ActionKind, ActionState, EventSource
from shelfdesk.orders.connect import AccountRef, ConnectorFactory, account_ref, default_factory
from shelfdesk.orders.errors import NoCredential
from shelfdesk.orders.store import AccountScope, action_visible, load_scope, mark_confirmed, store_remote_orders

if TYPE_CHECKING:
    from shelfdesk.channels.base import Connector, RemoteOrder
    from shelfdesk.context import AppContext

log = logging.getLogger("shelfdesk.orders.outbox")

MAX_ATTEMPTS = 8
BASE_DELAY = 30.0
MAX_DELAY = 3600.0
CLAIM_TIMEOUT = 300.0
#: How often a sender waiting for another sender's in-flight actions looks again. Much
#: shorter than CLAIM_TIMEOUT: sleeping the whole timeout at once would, on a shared
#: clock, make the other sender's live claims look stale and send them a second time.
IN_FLIGHT_POLL = 2.0


@dataclass(frozen=True)
class ClaimedAction:
    id: int
    order_id: int
    account_id: int
    marketplace_order_id: str
    kind: ActionKind
    payload: dict[str, Any]
    attempts: int
    actor: str | None
    market: str | None = None  #: the order's market: what the connector speaks for


@dataclass(frozen=True)
class ActionOutcome:
    """What happened to one action in this run."""

    action_id: int
    marketplace_order_id: str
    kind: ActionKind
    state: ActionState
    message: str = ""
    sent: bool = False  #: a write reached the marketplace in this attempt


@dataclass
class SendReport:
    outcomes: list[ActionOutcome] = field(default_factory=list)
    recovered: int = 0

    def count(self, state: ActionState) -> int:
        return sum(1 for o in self.outcomes if o.state is state)

    @property
    def failed(self) -> list[ActionOutcome]:
        return [o for o in self.outcomes if o.state is ActionState.failed]


#: Called after the marketplace answered and before the local commit (tests inject crashes here).
AfterRemote = Callable[[ClaimedAction, "RemoteOrder"], None]
Progress = Callable[[ActionOutcome], None]


class OutboxSender:
    """Claims and sends due actions; one instance per process (or per console screen)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        factory: ConnectorFactory | None = None,
        holder: str | None = None,
        concurrency: int = 8,
        max_attempts: int = MAX_ATTEMPTS,
        claim_timeout: float = CLAIM_TIMEOUT,
        after_remote: AfterRemote | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.factory = factory or default_factory(ctx)
        self.holder = holder or holder_name("outbox")
        self.concurrency = max(1, concurrency)
        self.max_attempts = max_attempts
        self.claim_timeout = claim_timeout
        self.after_remote = after_remote
        self.rng = rng or random.Random()
        self._connectors: dict[tuple[int, str | None], Connector] = {}
        # One writer at a time inside this process: SQLite's busy handler sleeps in growing steps
        # when threads of one process fight for the write lock, which would pace sending below the
        # marketplace's rate. Other processes are kept apart by the conditional UPDATEs themselves.
        self._write_lock = threading.Lock()
        self._scopes: dict[int, AccountScope] = {}
        self._accounts: dict[int, AccountRef] = {}

    async def aclose(self) -> None:
        for connector in self._connectors.values():
            await connector.aclose()
        self._connectors.clear()

    async def __aenter__(self) -> OutboxSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ running

    async def run_until_idle(
        self,
        *,
        batch_key: str | None = None,
        action_ids: set[int] | None = None,
        progress: Progress | None = None,
        stop: asyncio.Event | None = None,
        max_wait: float | None = None,
    ) -> SendReport:
        """Send every due action (of a batch, or a set of ids), waiting out back-offs on the clock.

        Returns when nothing of the scope is pending or sending, when ``stop``
        is set, or when the next retry is further away than ``max_wait`` seconds.
        """
        report = SendReport()
        report.recovered = await asyncio.to_thread(self.recover_stale)
        while not (stop and stop.is_set()):
            claimed_any = await self._drain(report, batch_key, action_ids, progress, stop)
            if claimed_any:
                continue
            wait, in_flight_elsewhere = await asyncio.to_thread(self._next_due_in, batch_key, action_ids)
            if wait is None or (max_wait is not None and wait > max_wait):
                break
            if wait > 0:
                # Another sender's work finishes long before its claim goes stale: look again soon
                # rather than sleeping until the claim could be taken over.
                await self.ctx.clock.sleep(min(wait, IN_FLIGHT_POLL) if in_flight_elsewhere else wait)
            report.recovered += await asyncio.to_thread(self.recover_stale)
        return report

    async def run_once(self, *, batch_key: str | None = None, progress: Progress | None = None) -> SendReport:
        """Recover stale claims and send what is due now, without waiting for back-offs."""
        report = SendReport()
        report.recovered = await asyncio.to_thread(self.recover_stale)
        await self._drain(report, batch_key, None, progress, None)
        return report

    async def _drain(
        self, report: SendReport, batch_key: str | None, action_ids: set[int] | None, progress: Progress | None, stop: asyncio.Event | None
    ) -> bool:
        claimed_any = False

        async def worker() -> None:
            nonlocal claimed_any
            while not (stop and stop.is_set()):
                claimed = await asyncio.to_thread(self.claim_next, batch_key, action_ids)
                if claimed is None:
                    return
                claimed_any = True
                outcome = await self.process(claimed)
                report.outcomes.append(outcome)
                if progress is not None:
                    progress(outcome)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return claimed_any

    # ------------------------------------------------------------------ database side (threads)

    def _scope_query(self, query: Any, batch_key: str | None, action_ids: set[int] | None) -> Any:
        from shelfdesk.db.models import OrderAction

        if batch_key is not None:
            query = query.where(OrderAction.batch_key == batch_key)
        if action_ids is not None:
            query = query.where(OrderAction.id.in_(sorted(action_ids)))  # type: ignore[union-attr]
        return query

    def claim_next(self, batch_key: str | None = None, action_ids: set[int] | None = None) -> ClaimedAction | None:
        """Claim one due action with a conditional UPDATE; None when nothing is due."""
        from shelfdesk.db.models import Order, OrderAction

        now = self.ctx.clock.now()
        with self._write_lock, self.ctx.write_session() as session:
            query = (
                select(OrderAction.id)
                .where(OrderAction.state == ActionState.pending, OrderAction.next_attempt_at <= now)  # type: ignore[operator]
                .order_by(OrderAction.next_attempt_at, OrderAction.id)
                .limit(20)
            )
            for (action_id,) in session.execute(self._scope_query(query, batch_key, action_ids)).all():
                won = session.execute(
                    update(OrderAction)
                    .where(OrderAction.id == action_id, OrderAction.state == ActionState.pending)
                    .values(
                        state=ActionState.sending, claimed_by=self.holder, claimed_at=now, updated_at=now, attempts=OrderAction.attempts + 1
                    )
                ).rowcount
                if not won:
                    continue  # another sender took it between our read and our update
                row = session.execute(
                    select(
                        OrderAction.order_id,
                        Order.account_id,
                        Order.marketplace_order_id,
                        OrderAction.kind,
                        OrderAction.payload,
                        OrderAction.attempts,
                        OrderAction.actor,
                        Order.market,
                    )
                    .join(Order, Order.id == OrderAction.order_id)
                    .where(OrderAction.id == action_id)
                ).one()
                return ClaimedAction(action_id, row[0], row[1], row[2], ActionKind(row[3]), dict(row[4] or {}), row[5], row[6], row[7])
        return None

    def recover_stale(self) -> int:
        """Put back claims whose holder died (process gone, or claim older than ``claim_timeout``)."""
        from shelfdesk.db.models import OrderAction

        now = self.ctx.clock.now()
        recovered = 0
        with self._write_lock, self.ctx.write_session() as session:
            rows = session.execute(
                select(OrderAction.id, OrderAction.claimed_by, OrderAction.claimed_at).where(OrderAction.state == ActionState.sending)
            ).all()
            for action_id, holder, claimed_at in rows:
                if not claim_abandoned(holder, claimed_at, now, self.claim_timeout, me=self.holder):
                    continue
                recovered += session.execute(
                    update(OrderAction)
                    .where(OrderAction.id == action_id, OrderAction.state == ActionState.sending, OrderAction.claimed_by == holder)
                    .values(
                        state=ActionState.pending,
                        next_attempt_at=now,
                        updated_at=now,
                        claimed_by=None,
                        claimed_at=None,
                        error_code="outcome_unknown",
                        last_error=f"the sender {holder} stopped while sending; the marketplace is read before sending again",
                    )
                ).rowcount
        if recovered:
            log.warning("recovered %d action(s) left in flight by a stopped sender", recovered)
        return recovered

    def _next_due_in(self, batch_key: str | None, action_ids: set[int] | None) -> tuple[float | None, bool]:
        """Seconds until something of the scope is due (None when none is left), and whether
        that something is another sender's in-flight claim (due when it could go stale)."""
        from shelfdesk.db.models import OrderAction

        now = self.ctx.clock.now()
        with self.ctx.read_session() as session:
            query = select(func.min(OrderAction.next_attempt_at)).where(OrderAction.state == ActionState.pending)
            earliest = session.execute(self._scope_query(query, batch_key, action_ids)).scalar()
            if earliest is not None:
                return max(0.0, (earliest - now).total_seconds()), False
            oldest_claim = session.execute(
                self._scope_query(
                    select(func.min(OrderAction.claimed_at)).where(OrderAction.state == ActionState.sending), batch_key, action_ids
                )
            ).scalar()
        if oldest_claim is None:
            return None, False
        stale_in = (oldest_claim - now).total_seconds() + self.claim_timeout
        return max(0.0, stale_in), True

    def _context(self, account_id: int) -> tuple[AccountRef, AccountScope]:
        if account_id not in self._scopes:
            from shelfdesk.db.models import MarketplaceAccount

            with self.ctx.read_session() as session:
                self._accounts[account_id] = account_ref(session.get(MarketplaceAccount, account_id))
                self._scopes[account_id] = load_scope(session, account_id)
        return self._accounts[account_id], self._scopes[account_id]

    def _record(
        self,
        claimed: ClaimedAction,
        remote: RemoteOrder | None,
        state: ActionState,
        *,
        message: str = "",
        code: str | None = None,
        delay: float | None = None,
        sent: bool = False,
    ) -> None:
        """Store the marketplace's answer and the action's new state, in one transaction."""
        from shelfdesk.db.models import OrderAction, OrderEvent

        now = self.ctx.clock.now()
        _, scope = self._context(claimed.account_id)
        source = EventSource.rule if (claimed.actor or "").startswith("rule:") else EventSource.operator
        with self._write_lock, self.ctx.write_session() as session:
            mine = (OrderAction.id == claimed.id, OrderAction.state == ActionState.sending, OrderAction.claimed_by == self.holder)
            if remote is not None:
                store_remote_orders(session, scope, [remote], now, source=source, actor=claimed.actor)
            if state is ActionState.confirmed:
                session.execute(update(OrderAction).where(*mine).values(sent_at=now if sent else OrderAction.sent_at))
                mark_confirmed(session, claimed.id, claimed.order_id, claimed.kind, claimed.payload, now, claimed.actor)
                return
            values: dict[str, Any] = {"state": state, "updated_at": now, "claimed_by": None, "claimed_at": None}
            if state is ActionState.synchronizing:
                values.update(sent_at=now, last_error=None, error_code=None)
                kind, text = "action_sent", f"{claimed.kind.value} sent; waiting for the marketplace's state to show it"
            elif state is ActionState.pending:
                values.update(next_attempt_at=now + timedelta(seconds=delay or 0), last_error=message, error_code=code or "retrying")
                kind, text = "action_retrying", f"{claimed.kind.value}: {message}"
            else:
                values.update(last_error=message, error_code=code, next_attempt_at=None)
                kind, text = "action_failed", f"{claimed.kind.value} failed: {message}"
            changed = session.execute(update(OrderAction).where(*mine).values(**values)).rowcount
            if changed:
                session.add(
                    OrderEvent(
                        order_id=claimed.order_id,
                        at=now,
                        source=source,
                        kind=kind,
                        field=claimed.kind.value,
                        actor=claimed.actor,
                        message=text,
                    )
                )

    def _release(self, claimed: ClaimedAction) -> None:
        """Give a claim back untouched (the run was stopped); the next attempt reads first."""
        from shelfdesk.db.models import OrderAction

        now = self.ctx.clock.now()
        with self._write_lock, self.ctx.write_session() as session:
            session.execute(
                update(OrderAction)
                .where(OrderAction.id == claimed.id, OrderAction.state == ActionState.sending, OrderAction.claimed_by == self.holder)
                .values(
                    state=ActionState.pending,
                    next_attempt_at=now,
                    updated_at=now,
                    claimed_by=None,
                    claimed_at=None,
                    error_code="outcome_unknown",
                    last_error="stopped while sending; the marketplace is read first next time",
                )
            )

    def _token_error(self, account_id: int, message: str | None) -> None:
        from shelfdesk.db.models import MarketplaceAccount

        with self._write_lock, self.ctx.write_session() as session:
            session.execute(
                update(MarketplaceAccount)
                .where(MarketplaceAccount.id == account_id)
                .values(token_error=message, token_checked_at=self.ctx.clock.now())
            )

    # ------------------------------------------------------------------ network side

    def _connector(self, claimed: ClaimedAction) -> Connector:
        """The account's connector speaking for the order's market (one per account and market)."""
        key = (claimed.account_id, claimed.market)
        if key not in self._connectors:
            account, _ = self._context(claimed.account_id)
            self._connectors[key] = self.factory(replace(account, market=claimed.market or account.market))
        return self._connectors[key]

    async def process(self, claimed: ClaimedAction) -> ActionOutcome:
        """Send one claimed action and record its outcome; never raises for a marketplace error."""
        label = claimed.marketplace_order_id
        sent = False
        try:
            await asyncio.to_thread(self._context, claimed.account_id)
            connector = self._connector(claimed)
            if claimed.kind is ActionKind.upload_invoice:
                return await self._upload_invoice(connector, claimed)
            remote: RemoteOrder | None = None
            if claimed.attempts > 1:
                # A previous attempt may have reached the marketplace: look before sending again.
                remote = await connector.get_order(label)
                if action_visible(claimed.kind, claimed.payload, remote):
                    await asyncio.to_thread(self._record, claimed, remote, ActionState.confirmed)
                    return ActionOutcome(claimed.id, label, claimed.kind, ActionState.confirmed, "already applied on the marketplace")
            remote, sent = await self._send(connector, claimed, remote)
            if claimed.kind in (ActionKind.accept, ActionKind.confirm_availability) and not remote.shipping_address:
                remote = await connector.get_order(label)  # some marketplaces reveal the address only now
            if self.after_remote is not None:
                self.after_remote(claimed, remote)
            state = ActionState.confirmed if action_visible(claimed.kind, claimed.payload, remote) else ActionState.synchronizing
            await asyncio.to_thread(self._record, claimed, remote, state, sent=sent)
            return ActionOutcome(claimed.id, label, claimed.kind, state, sent=sent)
        except asyncio.CancelledError:
            self._release(claimed)
            raise
        except (RemoteRejected, UnsupportedOperation, AuthError, WafBlocked, NoCredential) as exc:
            message = exc.message if isinstance(exc, ChannelError) else str(exc)
            code = getattr(exc, "code", None) or type(exc).__name__
            if isinstance(exc, AuthError):
                await asyncio.to_thread(self._token_error, claimed.account_id, message)
            current = await self._read_after_refusal(claimed) if type(exc) is RemoteRejected else None
            await asyncio.to_thread(self._record, claimed, current, ActionState.failed, message=message, code=code)
            return ActionOutcome(claimed.id, label, claimed.kind, ActionState.failed, message, sent=sent)
        except (TransientError, RateLimited, ChannelError, OSError) as exc:
            return await self._retry_later(claimed, exc, sent)
        except Exception as exc:  # a bug must not stop the other actions; it is logged and retried
            log.exception("sending action %s of order %s failed unexpectedly", claimed.id, label)
            return await self._retry_later(claimed, exc, sent)

    async def _upload_invoice(self, connector: Connector, claimed: ClaimedAction) -> ActionOutcome:
        """Upload an issued invoice (shelfdesk.invoices): the PDF comes from the immutable invoice row.

        An order never shows whether it has an invoice, so a successful POST is the
        confirmation; sending the same file again after an unknown outcome only
        replaces it with itself, so retries need no read first.
        """
        from shelfdesk.invoices.upload import upload_document

        label = claimed.marketplace_order_id
        try:
            filename, content = await asyncio.to_thread(upload_document, self.ctx, claimed.payload)
        except (LookupError, KeyError, ValueError) as exc:
            await asyncio.to_thread(self._record, claimed, None, ActionState.failed, message=str(exc), code="invoice_missing")
            return ActionOutcome(claimed.id, label, claimed.kind, ActionState.failed, str(exc))
        await connector.upload_invoice(label, filename, content)
        await asyncio.to_thread(self._record, claimed, None, ActionState.confirmed, sent=True)
        return ActionOutcome(claimed.id, label, claimed.kind, ActionState.confirmed, f"invoice {filename} uploaded", sent=True)

    async def _read_after_refusal(self, claimed: ClaimedAction) -> RemoteOrder | None:
        """The order as the marketplace has it now, so the refusal is shown beside the real state."""
        try:
            return await self._connector(claimed).get_order(claimed.marketplace_order_id)
        except (ChannelError, OSError):
            return None

    async def _retry_later(self, claimed: ClaimedAction, exc: BaseException, sent: bool) -> ActionOutcome:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if claimed.attempts >= self.max_attempts:
            text = f"gave up after {claimed.attempts} attempts: {message}"
            await asyncio.to_thread(self._record, claimed, None, ActionState.failed, message=text, code="gave_up")
            return ActionOutcome(claimed.id, claimed.marketplace_order_id, claimed.kind, ActionState.failed, text, sent=sent)
        if isinstance(exc, RateLimited) and exc.retry_after:
            delay = float(exc.retry_after)
        else:
            delay = backoff(claimed.attempts, self.rng, base=BASE_DELAY, cap=MAX_DELAY)
        code = "outcome_unknown" if isinstance(exc, UnknownOutcome) else "retrying"
        await asyncio.to_thread(self._record, claimed, None, ActionState.pending, message=message, code=code, delay=delay)
        return ActionOutcome(
            claimed.id,
            claimed.marketplace_order_id,
            claimed.kind,
            ActionState.pending,
            f"will retry in {delay:.0f} s: {message}",
            sent=sent,
        )

    async def _send(self, connector: Connector, claimed: ClaimedAction, remote: RemoteOrder | None) -> tuple[RemoteOrder, bool]:
        """The marketplace calls of one action; steps already visible on ``remote`` are skipped."""
        mid = claimed.marketplace_order_id
        payload = claimed.payload
        fields: dict[str, Any] = dict(payload.get("fields") or {})
        sent = False
        for line_id, values in (payload.get("lines") or {}).items():
            line = next((l for l in remote.lines if l.remote_id == line_id), None) if remote else None
            if line is not None and all(getattr(line, k) == v for k, v in values.items()):
                continue
            remote = await connector.set_line_details(mid, line_id, imei=values.get("imei"), serial_number=values.get("serial_number"))
            sent = True
        skus = payload.get("skus") or []
        if skus:
            for sku in skus:
                if remote is not None and action_visible(claimed.kind, {"skus": [sku]}, remote):
                    continue
                remote = await connector.apply_action(mid, claimed.kind, {**fields, "sku": sku})
                sent = True
        else:
            remote = await connector.apply_action(mid, claimed.kind, fields)
            sent = True
        assert remote is not None
        return remote, sent


def send_pending(
    ctx: AppContext,
    *,
    factory: ConnectorFactory | None = None,
    batch_key: str | None = None,
    action_ids: set[int] | None = None,
    max_wait: float | None = 120.0,
    progress: Progress | None = None,
) -> SendReport:
    """Synchronous entry point (CLI): send what is due, waiting out short back-offs."""

    async def run() -> SendReport:
        async with OutboxSender(ctx, factory=factory) as sender:
            return await sender.run_until_idle(batch_key=batch_key, action_ids=action_ids, max_wait=max_wait, progress=progress)

    return asyncio.run(run())


def outcome_counts(report: SendReport) -> Mapping[str, int]:
    return {state.value: report.count(state) for state in ActionState if report.count(state)}
