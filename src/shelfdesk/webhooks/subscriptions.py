"""Subscriptions: who receives which events, with which secret, and how their deliveries are doing.

The HMAC secret of a subscription lives in the workspace secrets file (mode
0600), never in the database, the logs or ``--json`` output; the row keeps a
``secret:webhook-…`` reference. It is shown once when the subscription is
created, and again only on an explicit request (``webhooks secret NAME``).

Only http and https URLs are accepted, with a host; credentials inside the URL
are refused (they would end up in logs and screens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from shelfdesk.webhooks.errors import WebhookError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DEFAULT_MAX_FAILURES = 10


@dataclass(frozen=True)
class SubscriptionInfo:
    """One subscription and the health of its deliveries."""

    id: int
    name: str
    url: str
    events: tuple[str, ...]
    state: str  #: active or paused
    auto_paused: bool
    paused_reason: str | None
    max_failures: int
    failures_in_a_row: int
    since: datetime
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    pending: int  #: deliveries not yet delivered
    oldest_pending_at: datetime | None
    delivered_24h: int
    failed_attempts_24h: int

    @property
    def health(self) -> str:
        """One word for the console and the CLI: ok, retrying, backlog, paused, failing."""
        if self.state == "paused":
            return "failing" if self.auto_paused else "paused"
        if self.failures_in_a_row:
            return "retrying"
        if self.pending:
            return "backlog"
        return "ok"


def validate_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host and no credentials; WebhookError otherwise."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a bad port
    except ValueError:
        raise WebhookError(f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookError(f"only http:// and https:// URLs are accepted, not {parts.scheme or 'a URL without scheme'}:")
    if not parts.hostname:
        raise WebhookError(f"{url!r} has no host")
    if parts.username or parts.password:
        raise WebhookError("put no credentials in the URL: receivers authenticate requests with the signature")
    if any(c.isspace() for c in text):
        raise WebhookError("the URL contains spaces")
    if _link_local(parts.hostname):
        raise WebhookError(
            f"{parts.hostname} is a link-local address (169.254.0.0/16, fe80::/10), where cloud metadata services answer: refused"
        )
    del port
    return text


def _link_local(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_link_local
    except ValueError:  # a host name, not an address
        return False


def _secret_name(name: str) -> str:
    return f"webhook-{name}"


def find_subscription(session: Session, reference: str | int) -> Any:
    from shelfdesk.db.models import WebhookSubscription

    text = str(reference).strip()
    row = session.execute(select(WebhookSubscription).where(WebhookSubscription.name == text)).scalar_one_or_none()
    if row is None and text.lstrip("#").isdigit():
        row = session.get(WebhookSubscription, int(text.lstrip("#")))
    if row is None:
        names = session.execute(select(WebhookSubscription.name).order_by(WebhookSubscription.name)).scalars().all()
        raise WebhookError(f"no subscription {text!r} (known: {', '.join(names) or 'none yet'})")
    return row


def add_subscription(
    ctx: AppContext,
    name: str,
    url: str,
    events: str | list[str] = "all",
    *,
    backfill_from: datetime | None = None,
    max_failures: int = DEFAULT_MAX_FAILURES,
    secret: str | None = None,
) -> tuple[SubscriptionInfo, str]:
    """Create a subscription; returns it and its secret (to give to the receiver, shown once).

    With ``backfill_from``, every event since that date is queued for it first
    (in order), then new ones follow.
    """
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import WebhookSubscription
    from shelfdesk.webhooks.events import backfill, parse_types, start_cursors
    from shelfdesk.webhooks.signing import new_secret

    ctx.require_write()
    if not NAME_PATTERN.fullmatch(name or ""):
        raise WebhookError("name: letters, digits, _ . - (up to 64), starting with a letter or digit")
    url = validate_url(url)
    try:
        types = parse_types(events)
    except ValueError as exc:
        raise WebhookError(str(exc)) from None
    if max_failures < 1:
        raise WebhookError("max failures must be 1 or more")
    now = ctx.clock.now()
    if backfill_from is not None and backfill_from > now:
        raise WebhookError("the backfill date is in the future")
    if secret is not None and len(secret) < 16:
        raise WebhookError("a secret needs at least 16 characters")
    with ctx.write_session() as session:
        if session.execute(select(WebhookSubscription.id).where(WebhookSubscription.name == name)).first():
            raise WebhookError(f"a subscription named {name!r} exists already")
        start_cursors(session, now)
        value = secret or new_secret()
        ref = ctx.secrets.set(_secret_name(name), value)
        row = WebhookSubscription(
            name=name,
            url=url,
            events=",".join(types),
            secret_ref=ref,
            max_failures=max_failures,
            since=backfill_from or now,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        queued = backfill(session, row.id, backfill_from, now) if backfill_from is not None else 0
        record_audit(
            session,
            ctx,
            "webhook.add",
            "webhook",
            name,
            {"url": url, "events": types, "backfill_from": backfill_from.isoformat() if backfill_from else None, "backfilled": queued},
            at=now,
        )
        sub_id = row.id
    return get_subscription(ctx, sub_id), value


def reveal_secret(ctx: AppContext, reference: str | int) -> str:
    """The subscription's secret, for configuring its receiver (an explicit operator request)."""
    with ctx.read_session() as session:
        ref = find_subscription(session, reference).secret_ref
    return ctx.secrets.resolve(ref)


def _set_state(ctx: AppContext, reference: str | int, state: str, reason: str | None, verb: str) -> SubscriptionInfo:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import WebhookDelivery, WebhookSubscription

    now = ctx.clock.now()
    with ctx.write_session() as session:
        row = find_subscription(session, reference)
        values: dict[str, Any] = {"state": state, "paused_reason": reason, "auto_paused": False, "updated_at": now}
        if state == "active":
            values["failures_in_a_row"] = 0
            # Resuming means "try now": waiting deliveries are due at once (their order is kept).
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == row.id, WebhookDelivery.state == "pending")
                .values(next_attempt_at=now)
            )
        session.execute(update(WebhookSubscription).where(WebhookSubscription.id == row.id).values(**values))
        record_audit(session, ctx, f"webhook.{verb}", "webhook", row.name, {"reason": reason} if reason else {}, at=now)
        sub_id = row.id
    return get_subscription(ctx, sub_id)


def pause_subscription(ctx: AppContext, reference: str | int, reason: str = "paused by an operator") -> SubscriptionInfo:
    """Stop delivering (events keep queuing and are delivered after resume)."""
    return _set_state(ctx, reference, "paused", reason, "pause")


def resume_subscription(ctx: AppContext, reference: str | int) -> SubscriptionInfo:
    """Deliver again, starting now with the oldest waiting event of each order."""
    return _set_state(ctx, reference, "active", None, "resume")


def remove_subscription(ctx: AppContext, reference: str | int) -> None:
    """Delete a subscription, its queue and its log, and forget its secret."""
    from shelfdesk.audit import record_audit

    with ctx.write_session() as session:
        row = find_subscription(session, reference)
        name = row.name
        session.delete(row)
        record_audit(session, ctx, "webhook.remove", "webhook", name, {}, at=ctx.clock.now())
    ctx.secrets.delete(_secret_name(name))


# ---------------------------------------------------------------------- reading


def _health(session: Session, ids: list[int], now: datetime) -> dict[int, tuple[int, datetime | None, int, int]]:
    from shelfdesk.db.models import WebhookAttempt, WebhookDelivery

    day = now - timedelta(hours=24)
    pending = dict(
        (sid, (n, oldest))
        for sid, n, oldest in session.execute(
            select(WebhookDelivery.subscription_id, func.count(), func.min(WebhookDelivery.created_at))
            .where(WebhookDelivery.subscription_id.in_(ids), WebhookDelivery.state != "delivered")
            .group_by(WebhookDelivery.subscription_id)
        ).all()
    )
    attempts: dict[int, tuple[int, int]] = {}
    for sid, ok, n in session.execute(
        select(WebhookAttempt.subscription_id, WebhookAttempt.ok, func.count())
        .where(WebhookAttempt.subscription_id.in_(ids), WebhookAttempt.at >= day)
        .group_by(WebhookAttempt.subscription_id, WebhookAttempt.ok)
    ).all():
        good, bad = attempts.get(sid, (0, 0))
        attempts[sid] = (good + n, bad) if ok else (good, bad + n)
    return {sid: (*pending.get(sid, (0, None)), *attempts.get(sid, (0, 0))) for sid in ids}


def _info(row: Any, health: tuple[int, datetime | None, int, int]) -> SubscriptionInfo:
    return SubscriptionInfo(
        id=row.id,
        name=row.name,
        url=row.url,
        events=tuple(t for t in row.events.split(",") if t),
        state=row.state,
        auto_paused=row.auto_paused,
        paused_reason=row.paused_reason,
        max_failures=row.max_failures,
        failures_in_a_row=row.failures_in_a_row,
        since=row.since,
        last_success_at=row.last_success_at,
        last_failure_at=row.last_failure_at,
        last_error=row.last_error,
        pending=health[0],
        oldest_pending_at=health[1],
        delivered_24h=health[2],
        failed_attempts_24h=health[3],
    )


def list_subscriptions(ctx: AppContext) -> list[SubscriptionInfo]:
    from shelfdesk.db.models import WebhookSubscription

    with ctx.read_session() as session:
        rows = session.execute(select(WebhookSubscription).order_by(WebhookSubscription.name)).scalars().all()
        health = _health(session, [r.id for r in rows], ctx.clock.now())
        return [_info(r, health[r.id]) for r in rows]


def get_subscription(ctx: AppContext, reference: str | int) -> SubscriptionInfo:
    with ctx.read_session() as session:
        row = find_subscription(session, reference)
        return _info(row, _health(session, [row.id], ctx.clock.now())[row.id])
