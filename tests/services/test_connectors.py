"""One way to build a connector: the connection test identifies itself exactly as a harvest does.

Before, the connection test built Back Market's User-Agent from the account
alone (an account without a company could not even be tested) while the
harvest fell back on the workspace's company and contact e-mail.
"""

from __future__ import annotations

import asyncio

import httpx

from shelfdesk.channels.connect import AccountRef, connector_options
from shelfdesk.context import AppContext
from shelfdesk.domain import Marketplace
from shelfdesk.orders.connect import connect, load_account
from shelfdesk.services import accounts


def test_the_connection_test_and_the_harvest_send_the_same_user_agent(ctx: AppContext) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["user-agent"])
        return httpx.Response(401, json={"detail": "no"})

    account = accounts.create_account(ctx, "backmarket", "BM", token="bm-token-123", base_url="http://bm.local")
    accounts.test_connection(ctx, account.id, transport=httpx.MockTransport(answer))

    async def harvest_side() -> None:
        async with connect(ctx, load_account(ctx, account.id), transport=httpx.MockTransport(answer)) as connector:
            await connector.check_credentials()

    asyncio.run(harvest_side())
    company, email = ctx.settings.company, ctx.settings.contact_email
    assert len(seen) >= 2 and set(seen) == {f"BM-{company}-shelfdesk;{email}"}


def test_options_come_from_the_account_then_the_workspace_and_only_those_the_connector_takes() -> None:
    bm = AccountRef(1, "BM", Marketplace.backmarket, "env:X", region="na", company="Refurb")
    assert connector_options(bm, company="Merchant", contact_email="ops@example.com", language="fr-fr") == {
        "company": "Refurb",
        "contact_email": "ops@example.com",
        "region": "na",
        "language": "fr-fr",
    }
    lbc = AccountRef(2, "LBC", Marketplace.leboncoin, "env:Y", company="Refurb")
    assert connector_options(lbc, company="Merchant", contact_email="ops@example.com", language="fr-fr") == {}
