"""Fixtures for publishing tests: a workspace whose channels publish to the in-process sandboxes.

One pair of sandbox servers serves the whole session (reset to its seed and
to the test's FakeClock for each test). Everything goes over real loopback
HTTP; what reached a marketplace is read from the sandbox's own state and
request log, never from our bookkeeping.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

try:  # The engine plans through the catalog services (mappings, exclusions, attribute checks) of issue 4.
    import shelfdesk.catalog.column_mapping  # noqa: F401
except ImportError:  # a checkout without them: only what does not plan can run
    collect_ignore_glob = [
        f"test_{name}.py"
        for name in ("offers_engine", "products_engine", "faults", "kill", "repricer", "cli", "console", "snapshots", "jobs")
    ]

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.base import Connector
from shelfdesk.channels.leboncoin import LeboncoinConnector
from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import Marketplace, PublicationKind, PublicationMode
from shelfdesk.publishing.channel import ChannelSpec
from shelfdesk.publishing.engine import PublishResult, publish_sync
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN as BM_TOKEN, PRODUCTS as BM_PRODUCTS
from shelfdesk.sandbox.leboncoin import DEFAULT_REFRESH_TOKEN as LBC_TOKEN
from shelfdesk.sandbox.seeddata import gtin_check_digit
from shelfdesk.sandbox.server import RunningSandboxes, start_sandboxes

TIMEOUT = 0.5


def sandbox_ean(index: int) -> str:
    """The EAN of the sandbox's Back Market catalog product number ``index``."""
    body = "0190198" + f"{index:05d}"
    return body + gtin_check_digit(body)


@pytest.fixture
def cli_clock(clock: FakeClock) -> Iterator[FakeClock]:
    """The CLI opens its own context on the default clock: make it the sandboxes' FakeClock."""
    from shelfdesk.clock import set_default_clock

    old = set_default_clock(clock)
    yield clock
    set_default_clock(old)


@pytest.fixture(scope="session")
def _running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandboxes]:
    with start_sandboxes(
        tmp_path_factory.mktemp("pub-sandbox"), clock=FakeClock(), orders_per_hour=0, task_seconds=120, hang_cap=2
    ) as running:
        yield running


@pytest.fixture
def sandboxes(_running: RunningSandboxes, clock: FakeClock) -> RunningSandboxes:
    _running.reset(clock=clock)
    return _running


@dataclass
class Shop:
    """A workspace with a store, a Back Market channel and a Leboncoin channel on the sandboxes."""

    ctx: AppContext
    sb: RunningSandboxes
    clock: FakeClock
    bm: httpx.Client
    lbc: httpx.Client
    store_id: int
    bm_account: int
    lbc_account: int
    bm_channel: int
    lbc_channel: int
    #: Seeds each connector's rng: reproducible, yet every connector draws other feed references
    #: (one seed for all would give two Leboncoin feeds of a test the same reference, and the sandbox
    #: answers a reference it knows with the feed it already has).
    seeds: random.Random = field(default_factory=lambda: random.Random(3))

    def factory(self, channel: ChannelSpec) -> Connector:
        rng = random.Random(self.seeds.getrandbits(32))
        if channel.marketplace is Marketplace.backmarket:
            return BackMarketConnector(
                token=BM_TOKEN,
                clock=self.clock,
                company="Acme",
                contact_email="ops@acme.test",
                base_url=self.sb.backmarket_url,
                timeout=TIMEOUT,
                rng=rng,
                language=channel.market,
            )
        return LeboncoinConnector(refresh_token=LBC_TOKEN, clock=self.clock, base_url=self.sb.leboncoin_url, timeout=TIMEOUT, rng=rng)

    def publish(self, channel: int, kind: str = "offers", mode: str = "update", **kw: Any) -> PublishResult:
        return publish_sync(self.ctx, channel, PublicationKind(kind), PublicationMode(mode), factory=self.factory, **kw)

    # ---- the sandboxes, as their admin APIs show them

    def admin(self, marketplace: str) -> httpx.Client:
        return self.bm if marketplace == "backmarket" else self.lbc

    def state(self, marketplace: str = "backmarket") -> dict[str, Any]:
        return self.admin(marketplace).get("/_sandbox/state").json()

    def listings(self) -> dict[str, dict[str, Any]]:
        return {l["sku"]: l for l in self.state()["listings"].values()}

    def ads(self) -> dict[str, dict[str, Any]]:
        return {a["sku"]: a for a in self.state("leboncoin")["ads"].values()}

    def batches(self) -> list[dict[str, Any]]:
        return self.bm.get("/_sandbox/received").json()["listing_batches"]

    def batch_rows(self) -> list[dict[str, str]]:
        """Every CSV line the Back Market sandbox received in listing batches, in order."""
        import csv
        import io

        rows: list[dict[str, str]] = []
        for batch in self.batches():
            rows += list(csv.DictReader(io.StringIO(batch["catalog"])))
        return rows

    def feed_items(self, kind: str = "offers") -> list[dict[str, Any]]:
        feeds = sorted(self.state("leboncoin")["feeds"].values(), key=lambda f: f["created_at"])
        return [item for f in feeds if f["type"] == kind for item in f["items"]]

    def fault(self, marketplace: str, **rule: Any) -> None:
        assert self.admin(marketplace).post("/_sandbox/faults", json=rule).status_code < 300

    def requests(self, marketplace: str, **params: str) -> list[dict[str, Any]]:
        return self.admin(marketplace).get("/_sandbox/requests", params=params).json()["entries"]

    # ---- the workspace

    def add_product(
        self,
        sku: str,
        *,
        price: str = "100.00",
        stock: int = 5,
        ean: str | None = None,
        category: str = "Phones > Smartphones",
        store_id: int | None = None,
        **attributes: Any,
    ) -> int:
        from shelfdesk.db.models import Product

        now = self.clock.now()
        with self.ctx.write_session() as session:
            product = Product(
                store_id=store_id or self.store_id,
                sku=sku,
                ean=ean,
                title=f"Product {sku}",
                brand="Apple",
                category_path=category,
                price=Decimal(price),
                stock=stock,
                stock_imported_at=now,
                attributes=attributes,
                first_seen_at=now,
                last_seen_at=now,
                updated_at=now,
            )
            session.add(product)
            session.flush()
            return int(product.id)  # type: ignore[arg-type]

    def set_product(self, sku: str, **values: Any) -> None:
        from sqlalchemy import update

        from shelfdesk.db.models import Product

        with self.ctx.write_session() as session:
            session.execute(update(Product).where(Product.sku == sku, Product.store_id == self.store_id).values(**values))

    def set_channel(self, channel_id: int, **values: Any) -> None:
        from sqlalchemy import update

        from shelfdesk.db.models import Channel

        with self.ctx.write_session() as session:
            session.execute(update(Channel).where(Channel.id == channel_id).values(**values))

    def map_column(
        self,
        channel_id: int,
        attribute: str,
        *,
        column: str | None = None,
        constant: str | None = None,
        value_map: dict[str, str] | None = None,
    ) -> None:
        from sqlalchemy import delete

        from shelfdesk.db.models import ColumnMapping

        with self.ctx.write_session() as session:
            session.execute(
                delete(ColumnMapping).where(ColumnMapping.channel_id == channel_id, ColumnMapping.channel_attribute == attribute)
            )
            session.add(
                ColumnMapping(
                    channel_id=channel_id,
                    channel_attribute=attribute,
                    catalog_column=column,
                    constant=constant,
                    value_map=value_map or {},
                    updated_at=self.clock.now(),
                )
            )

    def map_category(self, channel_id: int, merchant: str, leaf: str) -> None:
        from shelfdesk.db.models import CategoryMapping

        with self.ctx.write_session() as session:
            session.add(
                CategoryMapping(channel_id=channel_id, merchant_category=merchant, channel_category_id=leaf, updated_at=self.clock.now())
            )

    def exclude(self, channel_id: int, sku: str) -> None:
        from shelfdesk.db.models import ExclusionRule
        from shelfdesk.domain import ExclusionOperator

        with self.ctx.write_session() as session:
            session.add(
                ExclusionRule(
                    channel_id=channel_id,
                    name="manual",
                    field="sku",
                    operator=ExclusionOperator.equals,
                    value=sku,
                    group_no=100,
                    updated_at=self.clock.now(),
                )
            )

    def items(self, publication_id: int) -> dict[str, Any]:
        from sqlalchemy import select

        from shelfdesk.db.models import PublicationItem

        with self.ctx.read_session() as session:
            rows = session.execute(select(PublicationItem).where(PublicationItem.publication_id == publication_id)).scalars().all()
        return {row.sku: row for row in rows}

    def publication(self, publication_id: int) -> Any:
        from shelfdesk.db.models import Publication

        with self.ctx.read_session() as session:
            return session.get(Publication, publication_id)


def make_shop(ctx: AppContext, sandboxes: RunningSandboxes, clock: FakeClock) -> Shop:
    """The orders tests' workspace (one store, a Back Market and a Leboncoin channel), seen as a shop."""
    from tests.orders.conftest import make_desk

    desk = make_desk(ctx, sandboxes, clock)
    return Shop(
        ctx, sandboxes, clock, desk.bm, desk.lbc, desk.store_id, desk.bm_account, desk.lbc_account, desk.bm_channel, desk.lbc_channel
    )


@pytest.fixture
def shop(ctx: AppContext, sandboxes: RunningSandboxes, clock: FakeClock) -> Iterator[Shop]:
    s = make_shop(ctx, sandboxes, clock)
    yield s
    s.bm.close()
    s.lbc.close()


def bm_mappings(shop: Shop) -> None:
    """A complete Back Market mapping: EAN from the catalog, grade from a column, 12 months' warranty."""
    shop.map_column(shop.bm_channel, "ean", column="ean")
    shop.map_column(shop.bm_channel, "grade", column="grade")
    shop.map_column(shop.bm_channel, "warranty_delay", constant="12")
    shop.map_column(shop.bm_channel, "price", column="price")
    shop.map_category(shop.bm_channel, "Phones > Smartphones", "7")


BM_APPLE = [i for i, p in enumerate(BM_PRODUCTS) if p[2]]


def kill_at_marker(script: str, marker: Path, *args: str) -> None:
    """Run ``script`` in a child Python with ``args``, SIGKILL it once it wrote ``marker`` (its stop point)."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    child = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        waited = threading.Event()
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            waited.wait(0.05)
        assert marker.exists(), child.communicate(timeout=5)[0].decode()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
