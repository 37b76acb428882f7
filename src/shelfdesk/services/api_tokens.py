"""API tokens and Idempotency-Key answers: the HTTP API's own state, behind the same service layer as the rest.

A token is shown once, when it is created, and stored only as its SHA-256
(a token is 256 random bits, so a plain hash is enough: there is nothing to
guess). ``shelfdesk api token add|list|revoke`` and the API server both call
these functions. Every change is audit-logged. Stored answers to
Idempotency-Keys are pruned by the daily retention job after a week.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from shelfdesk.catalog.errors import SetupError

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

SCOPES = ("read", "write")
#: Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "sdk_"
#: ``last_used_at`` is written at most this often per token (not on every request).
LAST_USE_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenInfo:
    """A token as lists show it: never the secret, only its first characters."""

    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def can_write(self) -> bool:
        return self.scope == "write"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


class IdempotencyMismatch(SetupError):
    """An Idempotency-Key already answered a different request."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: Any) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.scope, row.prefix, row.created_at, row.created_by, row.last_used_at, row.revoked_at)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name) or not name.isprintable():
        raise SetupError(f"token name {name!r}: 1 to 64 characters without spaces (e.g. erp-warehouse)")
    return name


def add_token(ctx: AppContext, name: str, scope: str) -> tuple[TokenInfo, str]:
    """Create a token; returns it and its secret (shown once: only its hash is kept)."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import ApiToken

    name = _check_name(name)
    if scope not in SCOPES:
        raise SetupError(f"scope {scope!r}: read or write")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ctx.write_session() as session:
        if session.execute(select(ApiToken.id).where(ApiToken.name == name)).first() is not None:
            raise SetupError(f"an API token named {name!r} exists already (revoke it, or choose another name)")
        row = ApiToken(
            name=name, scope=scope, token_hash=hash_token(secret), prefix=secret[:12], created_at=ctx.clock.now(), created_by=ctx.actor
        )
        session.add(row)
        session.flush()
        record_audit(session, ctx, "api_token.add", "api_token", name, {"scope": scope})
        return _info(row), secret


def list_tokens(ctx: AppContext) -> list[TokenInfo]:
    from shelfdesk.db.models import ApiToken

    with ctx.read_session() as session:
        return [_info(r) for r in session.execute(select(ApiToken).order_by(ApiToken.name)).scalars()]


def revoke_token(ctx: AppContext, name: str) -> TokenInfo:
    """Revoke a token by name: its next request is refused. Revoking twice is refused by name."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import ApiToken

    with ctx.write_session() as session:
        row = session.execute(select(ApiToken).where(ApiToken.name == name)).scalar_one_or_none()
        if row is None:
            known = ", ".join(session.execute(select(ApiToken.name).order_by(ApiToken.name)).scalars()) or "none"
            raise SetupError(f"no API token named {name!r} (tokens: {known})")
        if row.revoked_at is not None:
            raise SetupError(f"API token {name!r} was revoked already on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
        row.revoked_at = ctx.clock.now()
        record_audit(session, ctx, "api_token.revoke", "api_token", name, {})
        session.flush()
        return _info(row)


def authenticate(ctx: AppContext, token: str) -> TokenInfo | None:
    """The live token whose secret is ``token``, or None; stamps its last use (at most once a minute)."""
    from shelfdesk.db.models import ApiToken

    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    digest = hash_token(token)
    with ctx.read_session() as session:
        row = session.execute(select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()
    # The lookup is by hash, so the comparison below is not what protects the secret; it is kept constant-time anyway.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
        return None
    now = ctx.clock.now()
    if (row.last_used_at is None or now - row.last_used_at >= LAST_USE_RESOLUTION) and not ctx.read_only:
        with ctx.write_session() as session:
            session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        row.last_used_at = now
    return _info(row)


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), body))).hexdigest()


def stored_answer(ctx: AppContext, token_id: int, key: str, digest: str) -> tuple[int, dict[str, Any]] | None:
    """The answer first given to ``key`` (status, body), None if it is new; a different request is refused."""
    from shelfdesk.db.models import ApiIdempotency

    with ctx.read_session() as session:
        row = session.execute(
            select(ApiIdempotency).where(ApiIdempotency.token_id == token_id, ApiIdempotency.key == key)
        ).scalar_one_or_none()
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyMismatch(f"Idempotency-Key {key!r} was used for a different request")
    return row.status, dict(row.body)


def store_answer(ctx: AppContext, token_id: int, key: str, digest: str, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Keep the first answer to ``key``; when a concurrent request stored one first, that one is returned."""
    from sqlalchemy.exc import IntegrityError

    from shelfdesk.db.models import ApiIdempotency

    try:
        with ctx.write_session() as session:
            session.add(
                ApiIdempotency(token_id=token_id, key=key, request_hash=digest, status=status, body=body, created_at=ctx.clock.now())
            )
    except IntegrityError:
        first = stored_answer(ctx, token_id, key, digest)
        if first is not None:
            return first
        raise
    return status, body
