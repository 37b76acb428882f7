"""Create (or recreate) the demo workspace.

The demo lives in its own folder, marked by a ``.shelfdesk-demo`` file; a
reset only ever deletes a folder carrying that mark, so pointing ``--home`` at
real data by mistake cannot wipe it. The demo tokens go to the workspace's
secrets file like real ones, never to the database.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

from shelfdesk.clock import Clock, default_clock
from shelfdesk.context import AppContext, open_context
from shelfdesk.demo.catalog import DemoProduct, demo_catalog
from shelfdesk.domain import Marketplace
from shelfdesk.paths import Paths

MARKER = ".shelfdesk-demo"
DEMO_TOKENS = {
    "demo-backmarket-eu": "bm-demo-5f2c9a7e1d4b4c08a3e6",
    "demo-leboncoin": "lbc-demo-refresh-8e41b2d07c9f",
}


class DemoError(RuntimeError):
    """The demo folder cannot be used (e.g. it holds something that is not a demo)."""


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    stores: int
    products: int
    orders: int


def prepare_folder(home: Path, reset: bool) -> bool:
    """Make sure ``home`` is a demo folder; returns True when it must be filled."""
    marker = home / MARKER
    if home.exists() and any(home.iterdir()) and not marker.exists():
        raise DemoError(f"{home} is not empty and is not a shelfdesk demo workspace; refusing to touch it")
    if reset and marker.exists():
        shutil.rmtree(home)
    fresh = not marker.exists()
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text("This folder is a shelfdesk demo workspace; `shelfdesk demo --reset` deletes it.\n")
    return fresh


def open_demo(paths: Paths, *, reset: bool = False, clock: Clock | None = None, read_only: bool = False) -> tuple[AppContext, DemoSummary]:
    """Open the demo workspace, filling it first when it is new or reset."""
    fresh = prepare_folder(paths.home, reset)
    ctx = open_context(paths, clock=clock or default_clock(), read_only=read_only and not fresh)
    if fresh:
        summary = fill_demo(ctx)
        ctx.read_only = read_only
        return ctx, summary
    return ctx, DemoSummary(created=False, stores=0, products=0, orders=0)


def fill_demo(ctx: AppContext) -> DemoSummary:
    """Stores, accounts, channels, catalogs and orders for the demo."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    now = ctx.clock.now()
    catalog = demo_catalog()
    catalogs = {"FR": catalog, "ES": [p for p in catalog if p.category_path.startswith("Electronics")]}
    refs = {name: ctx.secrets.set(name, token) for name, token in DEMO_TOKENS.items()}
    with ctx.write_session() as session:
        stores = {}
        for country, name in (("FR", "Refurb Paris"), ("ES", "Refurb Madrid")):
            source = write_catalog_csv(ctx.paths.home / f"catalog-{country.lower()}.csv", catalogs[country])
            store = Store(
                name=name, country=country, currency="EUR", catalog_source=str(source), catalog_format="csv", created_at=now, updated_at=now
            )
            session.add(store)
            stores[country] = store
        bm = MarketplaceAccount(
            marketplace=Marketplace.backmarket,
            name="Back Market EU",
            credential_ref=refs["demo-backmarket-eu"],
            region="eu",
            company="RefurbDemo",
            contact_email="ops@refurb-demo.example",
            created_at=now,
            updated_at=now,
        )
        lbc = MarketplaceAccount(
            marketplace=Marketplace.leboncoin, name="Leboncoin Pro", credential_ref=refs["demo-leboncoin"], created_at=now, updated_at=now
        )
        session.add_all([bm, lbc])
        session.flush()
        channels = {
            ("backmarket", "FR"): Channel(
                store_id=stores["FR"].id,
                account_id=bm.id,
                marketplace=Marketplace.backmarket,
                market="fr-fr",
                country="FR",
                name="Back Market France",
                owns_quantities=True,
                activated_at=now,
                created_at=now,
                updated_at=now,
            ),
            ("backmarket", "ES"): Channel(
                store_id=stores["ES"].id,
                account_id=bm.id,
                marketplace=Marketplace.backmarket,
                market="es-es",
                country="ES",
                name="Back Market Spain",
                # Its mappings are left for the operator to do: not activated
                # (publication needs three green lights).
                owns_quantities=False,
                activated_at=None,
                created_at=now,
                updated_at=now,
            ),
            ("leboncoin", "FR"): Channel(
                store_id=stores["FR"].id,
                account_id=lbc.id,
                marketplace=Marketplace.leboncoin,
                market="FR",
                country="FR",
                name="Leboncoin France",
                # Activated below by the service, once its three lights are green.
                activated_at=None,
                created_at=now,
                updated_at=now,
            ),
        }
        session.add_all(channels.values())
        session.flush()
        products = sum(len(rows) for rows in catalogs.values())  # imported below, through the import service
        record_audit(
            session,
            ctx,
            "demo.create",
            "workspace",
            str(ctx.paths.home),
            {"products": products, "orders": "harvested from the demo's sandboxes"},
        )
    from shelfdesk.demo.catalog_setup import (
        compute_demo_readiness,
        import_demo_catalogs,
        set_up_back_market_france,
        set_up_leboncoin_france,
    )
    from shelfdesk.demo.care import add_saved_replies, harvest_demo_cases, invoice_case_orders
    from shelfdesk.demo.live import harvest_demo, seed_orders
    from shelfdesk.demo.publications import publish_demo
    from shelfdesk.demo.speed import start_demo_sandboxes

    products = import_demo_catalogs(ctx, [store.id for store in stores.values()])
    seed_orders(ctx, catalogs, demo_tokens())  # a month of orders in the sandboxes' state (see demo/live.py)
    with start_demo_sandboxes(ctx, demo_tokens()):  # on loopback; the demo accounts point at them
        results = harvest_demo(ctx)
        harvest_demo_cases(ctx)  # the Care cases the buyers opened during the month (see demo/live.py)
        # Mapped as an operator would, each token checked by the sandbox it talks to; Spain is left to do.
        set_up_back_market_france(ctx, channels[("backmarket", "FR")].id)
        set_up_leboncoin_france(ctx, channels[("leboncoin", "FR")].id)
        compute_demo_readiness(ctx, [channels[("backmarket", "ES")].id])
        publish_demo(ctx, channels[("backmarket", "FR")].id, channels[("leboncoin", "FR")].id)  # open orders hold stock
    from shelfdesk.demo.invoicing import set_up_demo_invoicing

    set_up_demo_invoicing(ctx)  # the demo stores can invoice at once (I on Orders)
    invoice_case_orders(ctx)  # a refund on a case issues its credit note against the order's invoice
    add_saved_replies(ctx)
    orders = sum(len(r.stored.created) for r in results)
    return DemoSummary(created=True, stores=len(stores), products=products, orders=orders)


def write_catalog_csv(path: Path, products: list[DemoProduct]) -> Path:
    """The merchant's own feed file, so catalog imports have something real to read."""
    extra = sorted({key for p in products for key in p.attributes})
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["sku", "ean", "title", "brand", "category", "price", "stock", *extra])
        for p in products:
            writer.writerow(
                [p.sku, p.ean, p.title, p.brand, p.category_path, str(p.price), p.stock, *(p.attributes.get(k, "") for k in extra)]
            )
    return path


def demo_tokens() -> dict[Marketplace, str]:
    return {Marketplace.backmarket: DEMO_TOKENS["demo-backmarket-eu"], Marketplace.leboncoin: DEMO_TOKENS["demo-leboncoin"]}
