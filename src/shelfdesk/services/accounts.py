"""Marketplace accounts: one set of credentials on one marketplace, and its connection test.

The token is typed in once and goes to the workspace's secrets file (0600),
or stays in an environment variable the account names; the database only
holds the reference (``secret:NAME`` / ``env:VAR``). Nothing here returns,
logs or audits a token: summaries carry a masked hint at most. Replacing a
token (a renewal) resets its expiry and its last check, so the API light goes
red until the new one is tested.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shelfdesk.catalog.errors import SetupError
from shelfdesk.domain import Marketplace
from shelfdesk.formatting import iso as _iso
from shelfdesk.secrets import ENV_PREFIX, SECRET_PREFIX, SecretError, mask

if TYPE_CHECKING:
    import httpx

    from shelfdesk.context import AppContext

#: Back Market's regions (its hosts: .fr, .com, .co.jp).
REGIONS = {"eu": "Europe", "na": "North America", "ap": "Asia-Pacific"}
#: Leboncoin refresh tokens live 365 days [I: integrators' help pages].
REFRESH_TOKEN_DAYS = 365
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class AccountSummary:
    """An account as the console and ``--json`` show it: never the token itself."""

    id: int
    marketplace: Marketplace
    name: str
    credential: str  #: "secret ••••abcd", "env SHELFDESK_BM_TOKEN" or "none"
    region: str | None
    base_url: str | None
    company: str | None
    contact_email: str | None
    token_expires_at: datetime | None
    token_checked_at: datetime | None
    token_error: str | None
    connection_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "marketplace": str(self.marketplace),
            "name": self.name,
            "credential": self.credential,
            "region": self.region,
            "base_url": self.base_url,
            "company": self.company,
            "contact_email": self.contact_email,
            "token_expires_at": _iso(self.token_expires_at),
            "token_checked_at": _iso(self.token_checked_at),
            "token_error": self.token_error,
            "connection_error": self.connection_error,
        }


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str
    expires_at: datetime | None = None


def _secret_name(account_id: int) -> str:
    return f"account-{account_id}-token"


def _summary(ctx: AppContext, account: Any) -> AccountSummary:
    ref = account.credential_ref or ""
    if ref.startswith(ENV_PREFIX):
        credential = f"env {ref[len(ENV_PREFIX) :]}"
    elif ref.startswith(SECRET_PREFIX):
        try:
            credential = f"secret {mask(ctx.secrets.resolve(ref))}"
        except SecretError:
            credential = "secret (missing from the secrets file)"
    else:
        credential = "none"
    settings = account.settings or {}
    return AccountSummary(
        account.id,
        Marketplace(account.marketplace),
        account.name,
        credential,
        account.region,
        account.base_url,
        account.company,
        account.contact_email,
        account.token_expires_at,
        account.token_checked_at,
        account.token_error,
        settings.get("connection_error"),
    )


def _check_base_url(url: str | None) -> str | None:
    url = (url or "").strip() or None
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SetupError(f"base URL {url!r} must be an http(s) address such as https://preprod.backmarket.fr")
    return url.rstrip("/")


def _check_token(token: str | None, token_env: str | None) -> None:
    if token is not None and token_env is not None:
        raise SetupError("give the token or an environment variable holding it, not both")
    if token is not None and (not token.strip() or any(ch in token for ch in "\r\n")):
        raise SetupError("the token is empty or spans several lines: paste it again")
    if token_env is not None and not _ENV_NAME.fullmatch(token_env):
        # Never echoed: what was given may be the token itself, pasted where its variable's name belongs.
        raise SetupError(
            "--token-env takes the name of an environment variable (letters, digits and _, "
            "like BM_TOKEN), not the token; what was given is not shown"
        )


def _expiry(ctx: AppContext, marketplace: Marketplace) -> datetime | None:
    from shelfdesk.channels.registry import capabilities

    if capabilities(marketplace).credential_expires:
        return ctx.clock.now() + timedelta(days=REFRESH_TOKEN_DAYS)
    return None


def create_account(
    ctx: AppContext,
    marketplace: Marketplace | str,
    name: str,
    *,
    token: str | None = None,
    token_env: str | None = None,
    region: str | None = None,
    base_url: str | None = None,
    company: str | None = None,
    contact_email: str | None = None,
) -> AccountSummary:
    """A new account; the token goes to the secrets file (or stays in ``token_env``)."""
    from sqlalchemy import select

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import MarketplaceAccount
    from shelfdesk.logs import register_secret

    try:
        market = Marketplace(marketplace)
    except ValueError:
        raise SetupError(f"unknown marketplace {marketplace!r}: {', '.join(m.value for m in Marketplace)}") from None
    name = (name or "").strip()
    if not name:
        raise SetupError("the account needs a name (e.g. 'Back Market EU')")
    _check_token(token, token_env)
    region = _check_region(market, region)
    base_url = _check_base_url(base_url)
    company, contact_email = _check_identity(market, company, contact_email)
    if token:
        register_secret(token.strip())
    now = ctx.clock.now()
    with ctx.write_session() as session:
        clash = session.execute(
            select(MarketplaceAccount.id).where(MarketplaceAccount.marketplace == market, MarketplaceAccount.name == name)
        ).first()
        if clash:
            raise SetupError(f"a {market} account named {name!r} already exists")
        account = MarketplaceAccount(
            marketplace=market,
            name=name,
            region=region,
            base_url=base_url,
            company=company,
            contact_email=contact_email,
            created_at=now,
            updated_at=now,
        )
        session.add(account)
        session.flush()
        if token or token_env:
            account.credential_ref = _store_token(ctx, account.id, token, token_env)  # type: ignore[arg-type]
            account.token_expires_at = _expiry(ctx, market)
        record_audit(
            session,
            ctx,
            "account.create",
            "account",
            account.id,
            {"marketplace": str(market), "name": name, "credential": _kind(token, token_env)},
        )
        session.flush()
        return _summary(ctx, account)


def _kind(token: str | None, token_env: str | None) -> str:
    return "secret" if token else f"env:{token_env}" if token_env else "none"


def _store_token(ctx: AppContext, account_id: int, token: str | None, token_env: str | None) -> str:
    if token_env:
        return ENV_PREFIX + token_env
    assert token is not None
    return ctx.secrets.set(_secret_name(account_id), token.strip())


def _check_region(market: Marketplace, region: str | None) -> str | None:
    region = (region or "").strip().lower() or None
    if region is None:
        return None
    aliases = {"europe": "eu", "north america": "na", "us": "na", "asia-pacific": "ap", "apac": "ap", "asia": "ap"}
    region = aliases.get(region, region)
    if market is Marketplace.backmarket and region not in REGIONS:
        raise SetupError(f"unknown region {region!r}: eu (Europe), na (North America) or ap (Asia-Pacific)")
    return region


def _check_identity(market: Marketplace, company: str | None, email: str | None) -> tuple[str | None, str | None]:
    company = (company or "").strip() or None
    email = (email or "").strip() or None
    if company is not None and any(c in company for c in ";\r\n"):
        raise SetupError("the company name may not contain ';' or line breaks (it goes in the User-Agent)")
    if email is not None and not re.fullmatch(r"[^@\s;]+@[^@\s;]+\.[^@\s;]+", email):
        raise SetupError(f"{email!r} is not an e-mail address")
    return company, email


def update_account(ctx: AppContext, account_id: int, **changes: Any) -> AccountSummary:
    """Change region, base_url, company, contact_email or name (not the token: :func:`replace_token`)."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import MarketplaceAccount

    allowed = {"name", "region", "base_url", "company", "contact_email"}
    unknown = set(changes) - allowed
    if unknown:
        raise SetupError(f"cannot change {', '.join(sorted(unknown))} here")
    with ctx.write_session() as session:
        account = session.get(MarketplaceAccount, account_id)
        if account is None:
            raise SetupError(f"no account with id {account_id}")
        market = Marketplace(account.marketplace)
        before = (account.region, account.base_url, account.company, account.contact_email)
        if "region" in changes:
            account.region = _check_region(market, changes["region"])
        if "base_url" in changes:
            account.base_url = _check_base_url(changes["base_url"])
        if "company" in changes or "contact_email" in changes:
            account.company, account.contact_email = _check_identity(
                market, changes.get("company", account.company), changes.get("contact_email", account.contact_email)
            )
        if "name" in changes and (changes["name"] or "").strip():
            account.name = changes["name"].strip()
        if (account.region, account.base_url, account.company, account.contact_email) != before:
            account.token_checked_at = None  # a different endpoint or identity needs a new test
            account.settings = {k: v for k, v in (account.settings or {}).items() if k != "connection_error"}
        account.updated_at = ctx.clock.now()
        record_audit(session, ctx, "account.update", "account", account_id, {"changed": sorted(changes)})
        session.flush()
        return _summary(ctx, account)


def replace_token(ctx: AppContext, account_id: int, *, token: str | None = None, token_env: str | None = None) -> AccountSummary:
    """Store a renewed token: resets the expiry, the last check and any rejection."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import MarketplaceAccount
    from shelfdesk.logs import register_secret

    if token is None and token_env is None:
        raise SetupError("give the new token (or the environment variable holding it)")
    _check_token(token, token_env)
    if token:
        register_secret(token.strip())
    with ctx.write_session() as session:
        account = session.get(MarketplaceAccount, account_id)
        if account is None:
            raise SetupError(f"no account with id {account_id}")
        old = account.credential_ref or ""
        account.credential_ref = _store_token(ctx, account_id, token, token_env)
        if old.startswith(SECRET_PREFIX) and token_env:
            ctx.secrets.delete(old[len(SECRET_PREFIX) :])
        account.token_expires_at = _expiry(ctx, Marketplace(account.marketplace))
        account.token_checked_at = None
        account.token_error = None
        account.settings = {k: v for k, v in (account.settings or {}).items() if k != "connection_error"}
        account.updated_at = ctx.clock.now()
        record_audit(session, ctx, "token.replace", "account", account_id, {"credential": _kind(token, token_env)})
        session.flush()
        return _summary(ctx, account)


def delete_account(ctx: AppContext, account_id: int) -> None:
    """Remove an account no channel uses, with its token in the secrets file."""
    from sqlalchemy import select

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel, MarketplaceAccount

    with ctx.write_session() as session:
        account = session.get(MarketplaceAccount, account_id)
        if account is None:
            raise SetupError(f"no account with id {account_id}")
        if session.execute(select(Channel.id).where(Channel.account_id == account_id)).first():
            raise SetupError(f"account {account.name} still has channels: remove them first")
        ref = account.credential_ref or ""
        record_audit(session, ctx, "account.delete", "account", account_id, {"name": account.name})
        session.delete(account)
    if ref.startswith(SECRET_PREFIX):
        ctx.secrets.delete(ref[len(SECRET_PREFIX) :])


def get_account(ctx: AppContext, account_id: int) -> AccountSummary:
    from shelfdesk.db.models import MarketplaceAccount

    with ctx.read_session() as session:
        account = session.get(MarketplaceAccount, account_id)
        if account is None:
            raise SetupError(f"no account with id {account_id}")
        return _summary(ctx, account)


def list_accounts(ctx: AppContext, marketplace: Marketplace | str | None = None) -> list[AccountSummary]:
    from sqlalchemy import select

    from shelfdesk.db.models import MarketplaceAccount as A

    query = select(A).order_by(A.marketplace, A.name)
    if marketplace is not None:
        query = query.where(A.marketplace == Marketplace(marketplace))
    with ctx.read_session() as session:
        return [_summary(ctx, a) for a in session.execute(query).scalars()]


def find_account(ctx: AppContext, ref: str | int, marketplace: Marketplace | str | None = None) -> AccountSummary:
    """An account by id or by name (case-insensitive)."""
    text = str(ref).strip()
    accounts = list_accounts(ctx, marketplace)
    if text.isdigit():
        for account in accounts:
            if account.id == int(text):
                return account
    matches = [a for a in accounts if a.name.casefold() == text.casefold()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise SetupError(f"several accounts are named {text!r}: use the id ({', '.join(str(a.id) for a in matches)})")
    raise SetupError(f"no account {text!r} (accounts: {', '.join(a.name for a in accounts) or 'none yet'})")


async def check_connection(
    ctx: AppContext, account_id: int, *, language: str | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> ConnectionResult:
    """Ask the marketplace whether the account's token works (its connector's credentials check).

    The answer is saved on the account: a rejection in ``token_error`` (the
    API light turns red with the marketplace's words), a network failure as
    ``connection_error``, a success clears both and may tell the expiry.
    """
    from shelfdesk.channels.errors import ChannelError
    from shelfdesk.db.models import MarketplaceAccount
    from shelfdesk.orders.connect import connect, load_account
    from shelfdesk.orders.errors import NoCredential

    ctx.require_write()
    with ctx.read_session() as session:
        if session.get(MarketplaceAccount, account_id) is None:
            raise SetupError(f"no account with id {account_id}")
    account = load_account(ctx, account_id)
    token_error: str | None = None
    connection_error: str | None = None
    expires_at: datetime | None = None
    overrides: dict[str, Any] = {"transport": transport} if transport is not None else {}
    try:
        connector = connect(ctx, account, language=language, **overrides)
    except NoCredential as exc:
        return _save_check(ctx, account_id, ConnectionResult(False, f"no usable token: {exc}"), None, str(exc))
    except (ValueError, ChannelError) as exc:
        message = str(exc)
        return _save_check(ctx, account_id, ConnectionResult(False, message), None, message)
    try:
        async with connector:
            status = await connector.check_credentials()
    except ChannelError as exc:
        connection_error = str(exc)
        result = ConnectionResult(False, f"could not check the token: {exc}")
    except Exception as exc:  # network failures the connector did not type (DNS, TLS …)
        connection_error = f"{type(exc).__name__}: {exc}"
        result = ConnectionResult(False, f"could not reach {account.base_url or account.marketplace.value}: {connection_error}")
    else:
        expires_at = status.expires_at
        if status.valid:
            result = ConnectionResult(True, status.message or "token accepted", expires_at)
        else:
            token_error = status.message or "rejected"
            result = ConnectionResult(False, f"token rejected: {token_error}", expires_at)
    return _save_check(ctx, account_id, result, token_error, connection_error, expires_at)


def _save_check(
    ctx: AppContext,
    account_id: int,
    result: ConnectionResult,
    token_error: str | None,
    connection_error: str | None,
    expires_at: datetime | None = None,
) -> ConnectionResult:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import MarketplaceAccount

    now = ctx.clock.now()
    with ctx.write_session() as session:
        account = session.get(MarketplaceAccount, account_id)
        assert account is not None
        settings = {k: v for k, v in (account.settings or {}).items() if k != "connection_error"}
        if connection_error:
            settings["connection_error"] = connection_error[:500]
        account.settings = settings
        if connection_error is None:
            account.token_checked_at = now
            account.token_error = token_error[:500] if token_error else None
        if expires_at is not None:
            account.token_expires_at = expires_at
        account.updated_at = now
        record_audit(session, ctx, "account.test", "account", account_id, {"ok": result.ok, "message": result.message[:200]})
    return result


def test_connection(
    ctx: AppContext, account_id: int, *, language: str | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> ConnectionResult:
    """:func:`check_connection` for callers without an event loop (the CLI, thread workers)."""
    return asyncio.run(check_connection(ctx, account_id, language=language, transport=transport))


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name
