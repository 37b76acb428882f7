"""Fixtures for order tests: a workspace whose accounts point at the in-process sandboxes.

The sandboxes and the workspace share the test's FakeClock, so back-offs and
marketplace deadlines cost no real time. Everything goes over real loopback
HTTP; assertions about what reached a marketplace read the sandbox's own
request log and effects, never our own bookkeeping.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from shelfdesk.channels.base import RemoteOrder, RemoteOrderLine
from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import Marketplace, NormalizedStatus, OrderScope
from shelfdesk.orders.connect import ConnectorFactory, default_factory
from shelfdesk.orders.harvest import HarvestResult, harvest
from shelfdesk.orders.outbox import OutboxSender, SendReport
from shelfdesk.orders.store import AccountScope, load_scope
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN as BM_TOKEN
from shelfdesk.sandbox.leboncoin import DEFAULT_REFRESH_TOKEN as LBC_TOKEN
from shelfdesk.sandbox.server import RunningSandboxes, start_sandboxes

#: Real seconds a connector waits for an answer: "timeout" faults hang until then.
TIMEOUT = 0.5
#: A valid IMEI (Luhn) and one with a wrong check digit.
GOOD_IMEI = "356938035643809"
BAD_IMEI = "356938035643808"


@pytest.fixture
def sandboxes(tmp_path: Path, clock: FakeClock) -> Iterator[RunningSandboxes]:
    with start_sandboxes(tmp_path / "sandbox", clock=clock, orders_per_hour=0, hang_cap=2) as running:
        yield running


@dataclass
class Desk:
    """A workspace wired to the sandboxes, with the admin APIs and shortcuts tests use."""

    ctx: AppContext
    sb: RunningSandboxes
    clock: FakeClock
    bm: httpx.Client  #: Back Market sandbox admin API
    lbc: httpx.Client  #: Leboncoin sandbox admin API
    store_id: int
    bm_account: int
    lbc_account: int
    bm_channel: int
    lbc_channel: int
    factory: ConnectorFactory

    def new_orders(self, marketplace: str, skus: list[str], **spec: Any) -> list[dict[str, Any]]:
        admin = self.bm if marketplace == "backmarket" else self.lbc
        response = admin.post("/_sandbox/orders", json={"skus": skus, **spec})
        assert response.status_code == 201, response.text
        return response.json()["orders"]

    def sandbox_state(self, marketplace: str) -> dict[str, Any]:
        admin = self.bm if marketplace == "backmarket" else self.lbc
        return admin.get("/_sandbox/state").json()

    def effects(self, marketplace: str, kind: str = "order_action") -> list[dict[str, Any]]:
        return [e for e in self.sandbox_state(marketplace)["effects"] if e["kind"] == kind]

    def requests(self, marketplace: str, **params: str) -> list[dict[str, Any]]:
        admin = self.bm if marketplace == "backmarket" else self.lbc
        return admin.get("/_sandbox/requests", params=params).json()["entries"]

    def fault(self, marketplace: str, **rule: Any) -> None:
        admin = self.bm if marketplace == "backmarket" else self.lbc
        assert admin.post("/_sandbox/faults", json=rule).status_code < 300

    def harvest(self, **kw: Any) -> list[HarvestResult]:
        return run_async(harvest(self.ctx, factory=self.factory, **kw))

    def send(self, **kw: Any) -> SendReport:
        async def run() -> SendReport:
            async with OutboxSender(self.ctx, factory=self.factory, rng=random.Random(1)) as sender:
                return await sender.run_until_idle(**kw)

        return run_async(run())


def run_async(coro: Any) -> Any:
    """Run ``coro`` to the end, from sync tests and from async ones (in a side thread) alike."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def make_desk(
    ctx: AppContext, sandboxes: RunningSandboxes, clock: FakeClock, *, auto_accept: bool = False, bm_scope: OrderScope = OrderScope.market
) -> Desk:
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    now = clock.now()
    bm_ref = ctx.secrets.set("test-bm", BM_TOKEN)
    lbc_ref = ctx.secrets.set("test-lbc", LBC_TOKEN)
    with ctx.write_session() as session:
        store = Store(name="Refurb Paris", country="FR", currency="EUR", created_at=now, updated_at=now)
        session.add(store)
        session.flush()
        bm = MarketplaceAccount(
            marketplace=Marketplace.backmarket,
            name="Back Market EU",
            credential_ref=bm_ref,
            base_url=sandboxes.backmarket_url,
            company="Acme",
            contact_email="ops@acme.test",
            created_at=now,
            updated_at=now,
        )
        lbc = MarketplaceAccount(
            marketplace=Marketplace.leboncoin,
            name="Leboncoin Pro",
            credential_ref=lbc_ref,
            base_url=sandboxes.leboncoin_url,
            created_at=now,
            updated_at=now,
        )
        session.add_all([bm, lbc])
        session.flush()
        bm_channel = Channel(
            store_id=store.id,
            account_id=bm.id,
            marketplace=Marketplace.backmarket,
            market="fr-fr",
            country="FR",
            name="Back Market France",
            orders_scope=bm_scope,
            auto_accept=auto_accept,
            activated_at=now,
            created_at=now,
            updated_at=now,
        )
        lbc_channel = Channel(
            store_id=store.id,
            account_id=lbc.id,
            marketplace=Marketplace.leboncoin,
            market="FR",
            country="FR",
            name="Leboncoin France",
            auto_accept=auto_accept,
            activated_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add_all([bm_channel, lbc_channel])
        session.flush()
        ids = (store.id, bm.id, lbc.id, bm_channel.id, lbc_channel.id)
    return Desk(
        ctx,
        sandboxes,
        clock,
        httpx.Client(base_url=sandboxes.backmarket_url, timeout=30),
        httpx.Client(base_url=sandboxes.leboncoin_url, timeout=30),
        *ids,
        factory=default_factory(ctx, timeout=TIMEOUT, rng=random.Random(7)),
    )


@pytest.fixture
def desk(ctx: AppContext, sandboxes: RunningSandboxes, clock: FakeClock) -> Iterator[Desk]:
    d = make_desk(ctx, sandboxes, clock)
    yield d
    d.bm.close()
    d.lbc.close()


def add_products(ctx: AppContext, store_id: int, stock: dict[str, int], *, category: str = "Phones > Smartphones") -> None:
    """Catalog rows for sandbox SKUs (stock taken before any order)."""
    from shelfdesk.db.models import Product

    now = ctx.clock.now()
    with ctx.write_session() as session:
        for sku, qty in stock.items():
            session.add(
                Product(
                    store_id=store_id,
                    sku=sku,
                    title=sku,
                    category_path=category,
                    price=Decimal("100.00"),
                    stock=qty,
                    stock_imported_at=now,
                    first_seen_at=now,
                    last_seen_at=now,
                    updated_at=now,
                )
            )


def order_id_of(ctx: AppContext, marketplace_order_id: str) -> int:
    from sqlalchemy import select

    from shelfdesk.db.models import Order

    with ctx.read_session() as session:
        return session.execute(select(Order.id).where(Order.marketplace_order_id == marketplace_order_id)).scalar_one()


# ---------------------------------------------------------------------- local orders (no sandbox)

ADDRESS = {
    "first_name": "Léa",
    "last_name": "Martin",
    "street": "3 rue Pasteur",
    "postal_code": "69003",
    "city": "Lyon",
    "country": "FR",
    "email": "lea@example.org",
    "phone": "+33600000000",
}


@pytest.fixture
def scope(ctx: AppContext) -> AccountScope:
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    now = ctx.clock.now()
    with ctx.write_session() as session:
        store = Store(name="S", country="FR", currency="EUR", created_at=now, updated_at=now)
        account = MarketplaceAccount(marketplace=Marketplace.backmarket, name="BM", created_at=now, updated_at=now)
        session.add_all([store, account])
        session.flush()
        session.add(
            Channel(
                store_id=store.id,
                account_id=account.id,
                marketplace=Marketplace.backmarket,
                market="fr-fr",
                country="FR",
                name="BM FR",
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        return load_scope(session, account.id)


def remote(
    ctx: AppContext,
    oid: str = "1",
    *,
    minutes: int = 0,
    status: NormalizedStatus = NormalizedStatus.New,
    raw: str = "1",
    total: str = "100.00",
    address: dict | None = None,
    tracking: str | None = None,
    line_status: NormalizedStatus | None = None,
    bought: int = 0,
    buyer: str = "Léa Martin",
    extra: dict | None = None,
    lines: int = 1,
) -> RemoteOrder:
    """A Back Market-like order; ``minutes`` moves its modification time, ``bought`` its purchase time."""
    when = ctx.clock.now() + timedelta(minutes=minutes)
    items = [
        RemoteOrderLine(f"{oid}-{n}", f"SKU{n}", 1, Decimal(total), "EUR", raw, line_status or status, title="Phone")
        for n in range(1, lines + 1)
    ]
    return RemoteOrder(
        Marketplace.backmarket,
        oid,
        raw,
        status,
        ctx.clock.now() + timedelta(minutes=bought),
        when,
        "EUR",
        Decimal(total),
        items,
        country="FR",
        customer_name=buyer,
        shipping_address=address or {},
        tracking_number=tracking,
        raw={"order_id": oid, "state": raw, **(extra or {})},
    )
