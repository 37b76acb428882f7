"""The delivery queue: at-least-once, in order per order, retried with back-off, paused after failures.

* **Due.** A delivery is sent when it is pending, its ``next_attempt_at`` has
  come (on the injected clock), its subscription is active, and no earlier
  delivery of the same subscription and ordering key (the same order) is still
  undelivered. So the events of one order arrive in the order they happened,
  while other orders are not held up.
* **Claim.** A conditional UPDATE (pending → delivering) lets one process win a
  delivery, on SQLite as on PostgreSQL. A claim whose process died is put
  back after ``claim_timeout``: the event is sent again (at-least-once;
  receivers deduplicate on the event id).
* **Outcome.** 2xx is delivered. Anything else (another status, a timeout, a
  refused connection, a redirect to another host, no complete answer within
  the per-delivery ``deadline``) is a failure: logged with its status,
  duration and error, retried after an exponential back-off with jitter, and
  after ``max_failures`` failures in a row the subscription is paused and an
  alert raised (:mod:`shelfdesk.jobs.alerts`). Failures count per
  back-off step, not per queued event: a failure within the back-off of the
  subscription's last counted one is the same outage (a backlog of 16 events
  meeting one short outage counts once), so pausing takes ``max_failures``
  failures spread over 10 s, 20 s, 40 s … of retrying.
* **Deadline and lanes.** Each delivery has a total deadline (connect, send,
  wait and read together): a receiver that trickles its answer a byte at a
  time is cut off at the deadline, not after each read's timeout. Each
  subscription is sent through its own lane (``concurrency`` at a time), so
  a slow receiver holds only its own lane and never delays another
  subscription's deliveries by more than one deadline.
* **Redirects** are never followed to another host (or another scheme or
  port); a 307/308 to the same origin is followed, up to three times.

Sending never blocks a harvest or the console: it runs in the webhooks job
(or the CLI), on its own HTTP client with short timeouts.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from shelfdesk.claims import backoff, claim_abandoned, holder_name
from shelfdesk.webhooks.errors import WebhookError

if TYPE_CHECKING:
    import httpx

    from shelfdesk.context import AppContext

log = logging.getLogger("shelfdesk.webhooks")

BASE_DELAY = 10.0
MAX_DELAY = 3600.0
TIMEOUT = 10.0
#: Total seconds one delivery may take (every read, redirect and wait together).
DEADLINE = 15.0
CLAIM_TIMEOUT = 120.0
CONCURRENCY = 4
#: Subscriptions sent to at the same time (each in its own lane of ``CONCURRENCY`` deliveries).
LANES = 8
MAX_REDIRECTS = 3
USER_AGENT = "shelfdesk-webhooks/1"


@dataclass(frozen=True)
class AttemptResult:
    """What one POST came to."""

    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    subscription_id: int
    attempts: int
    url: str
    secret_ref: str
    event_uid: str
    event_type: str
    payload: dict[str, Any]


@dataclass
class DeliveryReport:
    captured: int = 0
    delivered: int = 0
    failed: int = 0
    paused: list[str] = field(default_factory=list)
    recovered: int = 0

    def counts(self) -> dict[str, int]:
        data = {
            "events_captured": self.captured,
            "delivered": self.delivered,
            "failed": self.failed,
            "paused": len(self.paused),
            "recovered": self.recovered,
        }
        return {k: v for k, v in data.items() if v}


@dataclass(frozen=True)
class DeliveryInfo:
    """One row of a subscription's queue or log, as the console and the CLI show it."""

    id: int
    subscription: str
    event_uid: str
    event_type: str
    ordering_key: str
    replay: int
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class AttemptInfo:
    id: int
    delivery_id: int | None
    event_uid: str
    event_type: str
    attempt: int
    at: datetime
    status_code: int | None
    duration_ms: int
    ok: bool
    error: str | None


# ---------------------------------------------------------------------- the HTTP side


def make_client(timeout: float = TIMEOUT) -> httpx.AsyncClient:
    """The client deliveries use: no automatic redirects, short timeouts, no cookies kept."""
    import httpx

    return httpx.AsyncClient(follow_redirects=False, timeout=httpx.Timeout(timeout), trust_env=False, headers={"User-Agent": USER_AGENT})


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


async def post_signed(
    client: httpx.AsyncClient, url: str, secret: str, body: bytes, headers: dict[str, str], now_seconds: int
) -> AttemptResult:
    """POST ``body`` signed at ``now_seconds``; follows 307/308 only to the same origin."""
    import httpx

    from shelfdesk.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

    sent = {
        **headers,
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(now_seconds),
        SIGNATURE_HEADER: signature(secret, now_seconds, body),
    }
    started = time.monotonic()  # a duration for the log, not a wait: the injected clock does not apply

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    target = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            response = await client.post(target, content=body, headers=sent)
            if response.is_redirect:
                location = response.headers.get("location", "")
                following = urljoin(target, location)
                if response.status_code not in (307, 308):
                    return AttemptResult(
                        False,
                        response.status_code,
                        took(),
                        f"redirect {response.status_code} to {following} not followed (POST would become GET)",
                    )
                if _origin(following) != _origin(url):
                    return AttemptResult(False, response.status_code, took(), f"redirect to another host refused: {following}")
                target = following
                continue
            if 200 <= response.status_code < 300:
                return AttemptResult(True, response.status_code, took(), None)
            snippet = response.text[:200].strip().replace("\n", " ")
            return AttemptResult(False, response.status_code, took(), f"HTTP {response.status_code}" + (f": {snippet}" if snippet else ""))
        return AttemptResult(False, None, took(), f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException:
        return AttemptResult(False, None, took(), "timed out")
    except httpx.HTTPError as exc:
        return AttemptResult(False, None, took(), f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


async def post_within(
    deadline: float, client: httpx.AsyncClient, url: str, secret: str, body: bytes, headers: dict[str, str], now_seconds: int
) -> AttemptResult:
    """:func:`post_signed` cut off after ``deadline`` seconds in total, whatever the receiver trickles."""
    started = time.monotonic()
    try:
        return await asyncio.wait_for(post_signed(client, url, secret, body, headers, now_seconds), deadline)
    except TimeoutError:
        took = int((time.monotonic() - started) * 1000)
        return AttemptResult(False, None, took, f"no complete answer within the {deadline:g} s deadline per delivery")


# ---------------------------------------------------------------------- the database side


def _due_query(now: datetime, limit: int | None, subscription_id: int | None = None) -> Any:
    from shelfdesk.db.models import WebhookDelivery as D
    from shelfdesk.db.models import WebhookSubscription as S

    earlier = aliased(D)
    blocked = (
        select(earlier.id)
        .where(
            earlier.subscription_id == D.subscription_id,
            earlier.ordering_key == D.ordering_key,
            earlier.state != "delivered",
            earlier.id < D.id,
        )
        .exists()
    )
    query = (
        select(D.id)
        .join(S, S.id == D.subscription_id)
        .where(D.state == "pending", D.next_attempt_at <= now, S.state == "active", ~blocked)
        .order_by(D.id)
    )
    if subscription_id is not None:
        query = query.where(D.subscription_id == subscription_id)
    return query.limit(limit) if limit is not None else query


class Deliverer:
    """Sends due deliveries; one per process (the webhooks job, the CLI, a console action)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
        holder: str | None = None,
        concurrency: int = CONCURRENCY,
        claim_timeout: float = CLAIM_TIMEOUT,
        timeout: float = TIMEOUT,
        deadline: float = DEADLINE,
        lanes: int = LANES,
    ) -> None:
        self.ctx = ctx
        self._client = client
        self._own_client = client is None
        self.timeout = timeout
        self.deadline = max(deadline, timeout)
        self.lanes = max(1, lanes)
        self.rng = rng or random.Random()
        self.holder = holder or holder_name("webhooks")
        self.concurrency = max(1, concurrency)
        self.claim_timeout = claim_timeout

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = make_client(self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Deliverer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ one sweep

    async def run_once(self, *, stop: Callable[[], bool] | None = None) -> DeliveryReport:
        """Capture new events, then send everything due now (following each order's chain)."""
        from shelfdesk.webhooks.events import capture

        report = DeliveryReport()
        report.captured = await asyncio.to_thread(capture, self.ctx)
        report.recovered = await asyncio.to_thread(self.recover_stale)
        lanes = asyncio.Semaphore(self.lanes)

        async def lane(subscription_id: int) -> None:
            async with lanes:
                while not (stop and stop()):
                    batch = await asyncio.to_thread(self.claim_due, self.concurrency, subscription_id)
                    if not batch:
                        return
                    await asyncio.gather(*(self.deliver(c, report) for c in batch))

        while not (stop and stop()):
            due = await asyncio.to_thread(self.due_subscriptions)
            if not due:
                break
            await asyncio.gather(*(lane(subscription_id) for subscription_id in due))
        return report

    def due_subscriptions(self) -> list[int]:
        """Subscriptions with a delivery due now, each to be sent through its own lane."""
        from shelfdesk.db.models import WebhookDelivery as D

        due = _due_query(self.ctx.clock.now(), None).subquery()
        with self.ctx.read_session() as session:
            return list(
                session.execute(
                    select(D.subscription_id)
                    .where(D.id.in_(select(due.c.id)))  # type: ignore[attr-defined]
                    .distinct()
                    .order_by(D.subscription_id)
                ).scalars()
            )

    def claim_due(self, limit: int, subscription_id: int | None = None) -> list[Claimed]:
        """Claim up to ``limit`` due deliveries (of one subscription when given; one per order at a time)."""
        from shelfdesk.db.models import WebhookDelivery as D
        from shelfdesk.db.models import WebhookEvent as E
        from shelfdesk.db.models import WebhookSubscription as S

        now = self.ctx.clock.now()
        claimed: list[Claimed] = []
        with self.ctx.write_session() as session:
            for (delivery_id,) in session.execute(_due_query(now, limit, subscription_id)).all():
                won = session.execute(
                    update(D)
                    .where(D.id == delivery_id, D.state == "pending")
                    .values(state="delivering", claimed_by=self.holder, claimed_at=now, attempts=D.attempts + 1)
                ).rowcount
                if not won:
                    continue
                row = session.execute(
                    select(D.subscription_id, D.attempts, S.url, S.secret_ref, E.event_uid, E.type, E.payload)
                    .join(S, S.id == D.subscription_id)
                    .join(E, E.id == D.event_id)
                    .where(D.id == delivery_id)
                ).one()
                claimed.append(Claimed(delivery_id, row[0], row[1], row[2], row[3], row[4], row[5], dict(row[6])))
        return claimed

    def recover_stale(self) -> int:
        """Put back deliveries claimed by a process that stopped mid-send (they will be sent again).

        A claim is abandoned when its process (on this host) is gone or it is
        older than ``claim_timeout``: the rule of :func:`shelfdesk.claims.claim_abandoned`.
        """
        from shelfdesk.db.models import WebhookDelivery as D

        now = self.ctx.clock.now()
        count = 0
        with self.ctx.write_session() as session:
            rows = session.execute(select(D.id, D.claimed_by, D.claimed_at).where(D.state == "delivering")).all()
            for delivery_id, holder, claimed_at in rows:
                if not claim_abandoned(holder, claimed_at, now, self.claim_timeout, me=self.holder):
                    continue
                count += session.execute(
                    update(D)
                    .where(D.id == delivery_id, D.state == "delivering", D.claimed_by == holder)
                    .values(
                        state="pending",
                        claimed_by=None,
                        claimed_at=None,
                        next_attempt_at=now,
                        last_error="the sender stopped before recording the outcome; sending again",
                    )
                ).rowcount
        if count:
            log.warning("recovered %d webhook delivery(ies) left in flight by a stopped process", count)
        return int(count or 0)

    async def deliver(self, claimed: Claimed, report: DeliveryReport) -> AttemptResult:
        """POST one claimed delivery and record the outcome (never raises for a receiver's failure)."""
        from shelfdesk.webhooks.events import body_bytes
        from shelfdesk.webhooks.signing import ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER

        try:
            secret = self.ctx.secrets.resolve(claimed.secret_ref)
        except Exception as exc:  # a missing secret is this subscription's failure, not the sweep's
            result = AttemptResult(False, None, 0, f"cannot sign: {exc}")
        else:
            headers = {EVENT_ID_HEADER: claimed.event_uid, EVENT_TYPE_HEADER: claimed.event_type, ATTEMPT_HEADER: str(claimed.attempts)}
            result = await post_within(
                self.deadline, self.client, claimed.url, secret, body_bytes(claimed.payload), headers, int(self.ctx.clock.now().timestamp())
            )
        paused = await asyncio.to_thread(self.record, claimed, result)
        if result.ok:
            report.delivered += 1
        else:
            report.failed += 1
        if paused:
            report.paused.append(paused)
        return result

    def record(self, claimed: Claimed, result: AttemptResult) -> str | None:
        """Store one attempt's outcome; returns the subscription's name when this failure paused it."""
        from shelfdesk.db.models import WebhookAttempt
        from shelfdesk.db.models import WebhookDelivery as D
        from shelfdesk.db.models import WebhookSubscription as S

        now = self.ctx.clock.now()
        with self.ctx.write_session() as session:
            mine = (D.id == claimed.delivery_id, D.state == "delivering", D.claimed_by == self.holder)
            session.add(
                WebhookAttempt(
                    subscription_id=claimed.subscription_id,
                    delivery_id=claimed.delivery_id,
                    event_uid=claimed.event_uid,
                    event_type=claimed.event_type,
                    attempt=claimed.attempts,
                    at=now,
                    status_code=result.status_code,
                    duration_ms=result.duration_ms,
                    ok=result.ok,
                    error=result.error,
                )
            )
            if result.ok:
                session.execute(
                    update(D)
                    .where(*mine)
                    .values(
                        state="delivered",
                        delivered_at=now,
                        last_status=result.status_code,
                        last_error=None,
                        claimed_by=None,
                        claimed_at=None,
                    )
                )
                session.execute(
                    update(S).where(S.id == claimed.subscription_id).values(failures_in_a_row=0, last_success_at=now, updated_at=now)
                )
                return None
            delay = backoff(claimed.attempts, self.rng, base=BASE_DELAY, cap=MAX_DELAY)  # 10 s doubling to an hour
            session.execute(
                update(D)
                .where(*mine)
                .values(
                    state="pending",
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_status=result.status_code,
                    last_error=result.error,
                    claimed_by=None,
                    claimed_at=None,
                )
            )
            sub = session.get(S, claimed.subscription_id)
            session.refresh(sub)
            if _new_failure(sub.failures_in_a_row, sub.last_failure_at, now):
                session.execute(
                    update(S)
                    .where(S.id == claimed.subscription_id)
                    .values(failures_in_a_row=S.failures_in_a_row + 1, last_failure_at=now, last_error=result.error, updated_at=now)
                )
            else:  # the same outage met by another queued event: it does not bring the pause closer
                session.execute(update(S).where(S.id == claimed.subscription_id).values(last_error=result.error, updated_at=now))
            session.refresh(sub)
            if sub.state == "active" and sub.failures_in_a_row >= sub.max_failures:
                reason = f"paused after {sub.failures_in_a_row} failures in a row; last: {result.error}"
                session.execute(
                    update(S)
                    .where(S.id == sub.id, S.state == "active")
                    .values(state="paused", auto_paused=True, paused_reason=reason, updated_at=now)
                )
                from shelfdesk.audit import record_audit

                record_audit(session, "system:webhooks", "webhook.auto_pause", "webhook", sub.name, {"reason": reason}, at=now)
                log.warning("webhook subscription %s %s", sub.name, reason)
                return str(sub.name)
        return None


def _new_failure(failures_in_a_row: int, last_counted: datetime | None, now: datetime) -> bool:
    """True when a failure at ``now`` counts toward pausing: the first, or one after the last one's back-off.

    ``last_failure_at`` is only moved by counted failures, so it marks when the
    current back-off step started; the shortest back-off (half a step, the
    jitter's floor) must have passed since.
    """
    if failures_in_a_row <= 0 or last_counted is None:
        return True
    step = min(MAX_DELAY, BASE_DELAY * 2 ** max(0, failures_in_a_row - 1))
    return (now - last_counted).total_seconds() >= step * 0.5


def deliver_pending(
    ctx: AppContext,
    *,
    client: httpx.AsyncClient | None = None,
    rng: random.Random | None = None,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
) -> DeliveryReport:
    """Synchronous entry point (CLI): capture and send what is due now."""

    async def run() -> DeliveryReport:
        async with Deliverer(ctx, client=client, rng=rng, timeout=timeout, deadline=deadline) as deliverer:
            return await deliverer.run_once()

    return asyncio.run(run())


async def run_job(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    """The ``webhooks`` job of the scheduler: one sweep (and, hourly, pruning); empty when there was nothing to do."""
    from shelfdesk.webhooks.retention import prune_webhook_rows

    async with Deliverer(ctx) as deliverer:
        counts = (await deliverer.run_once()).counts()
    pruned = await asyncio.to_thread(prune_webhook_rows, ctx)
    return {**counts, **{f"pruned_{k}": v for k, v in pruned.items()}}


# ---------------------------------------------------------------------- operator actions


def send_test(ctx: AppContext, reference: str | int, *, client: httpx.AsyncClient | None = None, timeout: float = TIMEOUT) -> AttemptResult:
    """POST a signed ``ping`` event now (not queued) and log the attempt; the operator sees the outcome."""
    from shelfdesk.db.models import WebhookAttempt
    from shelfdesk.webhooks.events import PING, body_bytes, envelope
    from shelfdesk.webhooks.signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER
    from shelfdesk.webhooks.subscriptions import find_subscription

    with ctx.read_session() as session:
        sub = find_subscription(session, reference)
        sub_id, url, ref, name = sub.id, sub.url, sub.secret_ref, sub.name
    secret = ctx.secrets.resolve(ref)
    now = ctx.clock.now()
    uid = f"evt_test_{uuid.uuid4().hex}"
    body = body_bytes(envelope(uid, PING, now, {"subscription": name, "message": "test event from shelfdesk"}))

    async def run() -> AttemptResult:
        own = client or make_client(timeout)
        try:
            return await post_within(
                max(DEADLINE, timeout), own, url, secret, body, {EVENT_ID_HEADER: uid, EVENT_TYPE_HEADER: PING}, int(now.timestamp())
            )
        finally:
            if client is None:
                await own.aclose()

    result = asyncio.run(run())
    with ctx.write_session() as session:
        session.add(
            WebhookAttempt(
                subscription_id=sub_id,
                delivery_id=None,
                event_uid=uid,
                event_type=PING,
                attempt=1,
                at=now,
                status_code=result.status_code,
                duration_ms=result.duration_ms,
                ok=result.ok,
                error=result.error,
            )
        )
    return result


def retry_now(ctx: AppContext, reference: str | int) -> int:
    """Make every waiting delivery of a subscription due now (resuming it if paused); returns how many."""
    from shelfdesk.db.models import WebhookDelivery as D
    from shelfdesk.webhooks.subscriptions import find_subscription, resume_subscription

    with ctx.read_session() as session:
        sub = find_subscription(session, reference)
        paused, sub_id = sub.state == "paused", sub.id
    if paused:
        resume_subscription(ctx, sub_id)
    with ctx.write_session() as session:
        return int(
            session.execute(
                update(D).where(D.subscription_id == sub_id, D.state == "pending").values(next_attempt_at=ctx.clock.now())
            ).rowcount
            or 0
        )


def replay(ctx: AppContext, delivery_id: int, *, subscription: str | int | None = None) -> int:
    """Queue one event again for the same subscription (a new delivery after the others); returns its id.

    ``subscription`` (a name or id), when given, must be the delivery's: a typo never replays another's.
    """
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import WebhookDelivery as D
    from shelfdesk.db.models import WebhookEvent, WebhookSubscription

    now = ctx.clock.now()
    with ctx.write_session() as session:
        original = session.get(D, delivery_id)
        if original is None:
            raise WebhookError(f"no delivery {delivery_id}")
        if subscription is not None:
            from shelfdesk.webhooks.subscriptions import find_subscription

            if find_subscription(session, subscription).id != original.subscription_id:
                raise WebhookError(f"delivery {delivery_id} is not one of {subscription}'s")
        replays = session.execute(
            select(func.max(D.replay)).where(D.subscription_id == original.subscription_id, D.event_id == original.event_id)
        ).scalar_one()
        row = D(
            subscription_id=original.subscription_id,
            event_id=original.event_id,
            replay=int(replays) + 1,
            ordering_key=original.ordering_key,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(row)
        session.flush()
        uid = session.get(WebhookEvent, original.event_id).event_uid
        name = session.get(WebhookSubscription, original.subscription_id).name
        record_audit(session, ctx, "webhook.replay", "webhook", name, {"event": uid, "delivery": delivery_id}, at=now)
        return int(row.id)


def replay_since(ctx: AppContext, reference: str | int, since: datetime) -> int:
    """Queue again every event delivered to a subscription since ``since`` (e.g. after a receiver lost data)."""
    from shelfdesk.db.models import WebhookDelivery as D
    from shelfdesk.webhooks.subscriptions import find_subscription

    with ctx.read_session() as session:
        sub_id = find_subscription(session, reference).id
        ids = (
            session.execute(
                select(D.id).where(D.subscription_id == sub_id, D.state == "delivered", D.created_at >= since, D.replay == 0).order_by(D.id)
            )
            .scalars()
            .all()
        )
    return sum(1 for delivery_id in ids if replay(ctx, delivery_id))


def _delivery_info(row: Any) -> DeliveryInfo:
    return DeliveryInfo(
        id=row[0],
        subscription=row[1],
        event_uid=row[2],
        event_type=row[3],
        ordering_key=row[4],
        replay=row[5],
        state=row[6],
        attempts=row[7],
        next_attempt_at=row[8],
        last_status=row[9],
        last_error=row[10],
        created_at=row[11],
        delivered_at=row[12],
    )


def list_deliveries(ctx: AppContext, reference: str | int, *, state: str | None = None, limit: int = 100) -> list[DeliveryInfo]:
    """A subscription's deliveries, newest first (``state``: pending, delivering, delivered, waiting = not delivered)."""
    from shelfdesk.db.models import WebhookDelivery as D
    from shelfdesk.db.models import WebhookEvent as E
    from shelfdesk.db.models import WebhookSubscription as S
    from shelfdesk.webhooks.subscriptions import find_subscription

    with ctx.read_session() as session:
        sub_id = find_subscription(session, reference).id
        query = (
            select(
                D.id,
                S.name,
                E.event_uid,
                E.type,
                D.ordering_key,
                D.replay,
                D.state,
                D.attempts,
                D.next_attempt_at,
                D.last_status,
                D.last_error,
                D.created_at,
                D.delivered_at,
            )
            .join(S, S.id == D.subscription_id)
            .join(E, E.id == D.event_id)
            .where(D.subscription_id == sub_id)
        )
        if state == "waiting":
            query = query.where(D.state != "delivered")
        elif state:
            query = query.where(D.state == state)
        return [_delivery_info(r) for r in session.execute(query.order_by(D.id.desc()).limit(limit)).all()]  # type: ignore[union-attr]


def list_attempts(ctx: AppContext, reference: str | int, *, limit: int = 100, failed_only: bool = False) -> list[AttemptInfo]:
    """The delivery log of a subscription, newest first."""
    from shelfdesk.db.models import WebhookAttempt as A
    from shelfdesk.webhooks.subscriptions import find_subscription

    with ctx.read_session() as session:
        sub_id = find_subscription(session, reference).id
        query = select(A).where(A.subscription_id == sub_id)
        if failed_only:
            query = query.where(A.ok.is_(False))  # type: ignore[attr-defined]
        rows = session.execute(query.order_by(A.at.desc(), A.id.desc()).limit(limit)).scalars().all()  # type: ignore[attr-defined,union-attr]
        return [
            AttemptInfo(r.id, r.delivery_id, r.event_uid, r.event_type, r.attempt, r.at, r.status_code, r.duration_ms, r.ok, r.error)
            for r in rows
        ]
