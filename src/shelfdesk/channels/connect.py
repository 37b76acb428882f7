"""Building a marketplace account's connector: the one place that turns an account into connector options.

The harvest, the outbox, publishing and the connection test all come here, so
a connection test identifies itself (Back Market's mandatory User-Agent:
company and contact e-mail) exactly as a harvest does. Identity fields the
account leaves empty fall back to the workspace's (``settings.toml``). Only
options the marketplace's connector class accepts are passed, so nothing here
branches on marketplace names. The credential arrives resolved
(``orders.connect.resolve_credential``) and is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shelfdesk.channels.registry import constructor_options, get_connector
from shelfdesk.domain import Marketplace

if TYPE_CHECKING:
    from shelfdesk.channels.base import Connector
    from shelfdesk.clock import Clock


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


def connector_options(account: AccountRef, *, company: str, contact_email: str, language: str | None = None) -> dict[str, Any]:
    """Constructor options for the account's connector (never the credential).

    ``company`` and ``contact_email`` are the workspace's, used when the account
    has none; ``language`` (a channel's market) goes to connectors that take one.
    """
    wanted: dict[str, Any] = {
        "company": account.company or company,
        "contact_email": account.contact_email or contact_email,
        "region": account.region,
        "language": language,
    }
    accepted = constructor_options(account.marketplace)
    return {k: v for k, v in wanted.items() if v is not None and k in accepted}


def build_connector(
    account: AccountRef, *, credential: str, clock: Clock, company: str, contact_email: str, language: str | None = None, **overrides: Any
) -> Connector:
    """The account's connector; ``overrides`` (``timeout``, ``rng``, ``transport`` …) win over the account's options."""
    options = connector_options(account, company=company, contact_email=contact_email, language=language)
    options.update(overrides)
    return get_connector(account.marketplace, credential=credential, clock=clock, base_url=account.base_url, **options)
