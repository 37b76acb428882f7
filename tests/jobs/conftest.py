"""Fixtures for job tests: channels to schedule, and jobs registered by the test itself.

Tests register small job functions with the real registry (restored after the
test), so what they assert on is the scheduler's behaviour — leases, records,
timing on the FakeClock — not a service's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shelfdesk.context import AppContext
from shelfdesk.jobs import registry
from shelfdesk.jobs.registry import JobScope, JobSpec


@pytest.fixture
def jobs() -> Iterator[Callable[..., JobSpec]]:
    """Register jobs for one test: ``jobs("ping", fn, scope=..., interval=...)``; the registry is restored after."""
    saved = registry.load_jobs()
    registry.reset_for_tests({})

    def add(name: str, run: Any, *, scope: JobScope = JobScope.workspace, interval: int = 60, **kw: Any) -> JobSpec:
        return registry.register(JobSpec(name=name, title=kw.pop("title", name.title()), run=run, scope=scope, interval=interval, **kw))

    yield add
    registry.reset_for_tests(saved)


def add_channels(ctx: AppContext, *specs: tuple[str, str, str]) -> dict[str, int]:
    """Channels named ``(account, marketplace, channel name)``; accounts are shared by name. Returns name → id."""
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store
    from shelfdesk.domain import Marketplace

    now = ctx.clock.now()
    ids: dict[str, int] = {}
    with ctx.write_session() as session:
        store = Store(name="Refurb FR", country="FR", currency="EUR", created_at=now, updated_at=now)
        session.add(store)
        session.flush()
        accounts: dict[str, MarketplaceAccount] = {}
        for number, (account_name, marketplace, name) in enumerate(specs):
            account = accounts.get(account_name)
            if account is None:
                account = MarketplaceAccount(
                    marketplace=Marketplace(marketplace),
                    name=account_name,
                    credential_ref=f"secret:{account_name}",
                    created_at=now,
                    updated_at=now,
                )
                session.add(account)
                session.flush()
                accounts[account_name] = account
            channel = Channel(
                store_id=store.id,
                account_id=account.id,
                marketplace=account.marketplace,
                market=f"m{number}",
                country="ES" if "Spain" in name else "FR",
                name=name,
                created_at=now,
                updated_at=now,
            )
            session.add(channel)
            session.flush()
            assert channel.id is not None
            ids[name] = channel.id
    return ids
