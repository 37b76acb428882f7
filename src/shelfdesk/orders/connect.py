"""From a marketplace account row to a live connector, with its credential resolved.

The credential is read from the workspace secrets file (``secret:NAME``) or
the environment (``env:VAR``) at the moment the connector is built and never
leaves this function: it is not logged, not returned, not stored.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shelfdesk.domain import Marketplace
from shelfdesk.orders.errors import NoCredential
from shelfdesk.secrets import ENV_PREFIX, SECRET_PREFIX

if TYPE_CHECKING:
    from shelfdesk.channels.base import Connector
    from shelfdesk.context import AppContext


@dataclass(frozen=True)
class AccountRef:
    """What is needed to reach one marketplace account (no secret in it)."""

    id: int
    name: str
    marketplace: Marketplace
    credential_ref: str | None
    base_url: str | None = None
    region: str | None = None
    company: str | None = None
    contact_email: str | None = None
    user_agent: str | None = None
    #: The market (Back Market's locale, e.g. ``en-gb``) the requests speak for: a channel's
    #: ``market``. None leaves the connector's default.
    market: str | None = None


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
    return AccountRef(
        id=row.id, name=row.name, marketplace=Marketplace(row.marketplace), credential_ref=row.credential_ref,
        base_url=row.base_url, region=row.region, company=row.company, contact_email=row.contact_email,
        user_agent=row.user_agent,
    )  # fmt: skip


def resolve_credential(ctx: AppContext, account: AccountRef) -> str:
    """The account's token from its reference; a clear error names the account when it is missing."""
    ref = account.credential_ref
    if not ref:
        raise NoCredential(f"account {account.name!r} has no credential yet: set its token first")
    if ref.startswith(SECRET_PREFIX):
        value = ctx.secrets.get(ref[len(SECRET_PREFIX) :])
        where = f"the workspace secrets file ({ref})"
    elif ref.startswith(ENV_PREFIX):
        value = os.environ.get(ref[len(ENV_PREFIX) :])
        where = f"the environment variable {ref[len(ENV_PREFIX):]}"
    else:
        raise NoCredential(f"account {account.name!r}: credential reference {ref!r} is neither secret:NAME nor env:VAR")
    if not value:
        raise NoCredential(f"account {account.name!r}: no token found in {where}")
    return value


def connect(ctx: AppContext, account: AccountRef, **overrides: Any) -> Connector:
    """A connector for ``account`` on the context's clock.

    The account's identity fields (company, contact e-mail, region) and the
    market it speaks for go to connectors whose constructor takes them (Back
    Market's mandatory User-Agent and its ``Accept-Language``); ``overrides`` (``timeout``, ``rng``, ``transport`` …) win.
    """
    from shelfdesk.channels.registry import constructor_options, get_connector

    settings = ctx.settings
    wanted: dict[str, Any] = {
        "company": account.company or settings.company,
        "contact_email": account.contact_email or settings.contact_email,
        "region": account.region,
        "language": account.market,
    }
    accepted = constructor_options(account.marketplace)
    options = {k: v for k, v in wanted.items() if v is not None and k in accepted}
    options.update(overrides)
    return get_connector(account.marketplace, credential=resolve_credential(ctx, account), clock=ctx.clock,
                         base_url=account.base_url, **options)  # fmt: skip


def default_factory(ctx: AppContext, **overrides: Any) -> ConnectorFactory:
    return lambda account: connect(ctx, account, **overrides)
