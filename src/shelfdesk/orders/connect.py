"""From a marketplace account row to a live connector, with its credential resolved.

The credential is read from the workspace secrets file (``secret:NAME``) or
the environment (``env:VAR``) at the moment the connector is built and never
leaves this function: it is not logged, not returned, not stored. The
connector's options come from :mod:`shelfdesk.channels.connect`, the one place
that builds connectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shelfdesk.channels.connect import AccountRef, build_connector
from shelfdesk.domain import Marketplace
from shelfdesk.orders.errors import NoCredential
from shelfdesk.secrets import SecretError

if TYPE_CHECKING:
    from shelfdesk.channels.base import Connector
    from shelfdesk.context import AppContext


#: Builds a connector for an account; tests pass one that adds short timeouts.
ConnectorFactory = Callable[[AccountRef], "Connector"]


def load_account(ctx: AppContext, account_id: int) -> AccountRef:
    from shelfdesk.db.models import MarketplaceAccount

    with ctx.read_session() as session:
        row = session.get(MarketplaceAccount, account_id)
        if row is None:
            raise NoCredential(f"marketplace account {account_id} does not exist")
        return account_ref(row)


def account_ref(row: Any) -> AccountRef:
    """The account row's connection fields, detached from its session."""
    return AccountRef(
        id=row.id,
        name=row.name,
        marketplace=Marketplace(row.marketplace),
        credential_ref=row.credential_ref,
        base_url=row.base_url,
        region=row.region,
        company=row.company,
        contact_email=row.contact_email,
        user_agent=row.user_agent,
    )


def resolve_credential(ctx: AppContext, account: AccountRef) -> str:
    """The account's token from its reference; a clear error names the account when it is missing."""
    if not account.credential_ref:
        raise NoCredential(f"account {account.name!r} has no credential yet: set its token first")
    try:
        return ctx.secrets.resolve(account.credential_ref)
    except SecretError as exc:
        raise NoCredential(f"account {account.name!r}: {exc}") from None


def connect(ctx: AppContext, account: AccountRef, *, language: str | None = None, **overrides: Any) -> Connector:
    """A connector for ``account`` on the context's clock (see :mod:`shelfdesk.channels.connect`).

    ``language`` is the market the requests speak for (Back Market's locale, sent as
    ``Accept-Language``); it defaults to the account reference's ``market``.
    ``overrides`` (``timeout``, ``rng``, ``transport`` …) win.
    """
    settings = ctx.settings
    return build_connector(
        account,
        credential=resolve_credential(ctx, account),
        clock=ctx.clock,
        company=settings.company,
        contact_email=settings.contact_email,
        language=language or account.market,
        **overrides,
    )


def default_factory(ctx: AppContext, **overrides: Any) -> ConnectorFactory:
    return lambda account: connect(ctx, account, **overrides)
