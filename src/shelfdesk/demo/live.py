"""The demo's orders come from its own sandboxes, through a real harvest.

Building the demo writes a month of marketplace life into the sandboxes'
state (orders for the demo catalog's SKUs, created day after day on a clock
that walks the last 30 days, so payments clear, Leboncoin deadlines cancel
unconfirmed orders and parcels get delivered as they would), then starts
both sandboxes on loopback, points the demo accounts at them and harvests.
``shelfdesk demo`` starts them again for the console session, so accepting,
shipping or cancelling a demo order works end to end. The sandboxes keep
their state in the demo folder (``sandbox/live/``): nothing real is reached.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from shelfdesk.domain import Marketplace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.demo.catalog import DemoProduct
    from shelfdesk.orders.harvest import HarvestResult
    from shelfdesk.sandbox.server import RunningSandboxes

FOLDER = "live"
DAYS = 30
ORDERS_PER_DAY = 8
#: Fates the sandboxes know, weighted like a real account's month [I]: orders of the last
#: days still wait for the seller (to accept, to ship); older ones have reached their end,
#: as a merchant who works every day would see (no month-old order still to accept).
RECENT_DAYS = 2
BACKMARKET_FATES = (("paid", 4), ("accepted", 4), ("shipped", 3), ("pending_payment", 1))
BACKMARKET_OLD_FATES = (("shipped", 14), ("cancelled", 1))
LEBONCOIN_FATES = (("paid", 3), ("awaiting_shipment", 3), ("shipped", 1))
LEBONCOIN_OLD_FATES = (("shipped", 2), ("delivered", 6), ("cancelled", 1))
#: The demo's Leboncoin refresh token was pasted 345 days ago: it expires this month, so the Due list
#: (``D``) shows a token to renew beside the orders, as a real account's would once a year.
TOKEN_DAYS_LEFT = 20


def sandbox_folder(ctx: AppContext) -> Path:
    return ctx.paths.sandbox_dir / FOLDER


def seed_orders(
    ctx: AppContext,
    catalogs: dict[str, Sequence[DemoProduct]],
    tokens: dict[Marketplace, str],
    *,
    days: int = DAYS,
    per_day: int = ORDERS_PER_DAY,
    seed: int = 11,
) -> int:
    """Write ``days`` days of orders into the sandboxes' state; returns how many were created.

    Back Market sells the electronics (phones and laptops), Leboncoin the
    second-hand furniture and clothing, as the demo's channels are mapped
    (three orders in four go to Back Market). Recent days hold the New orders,
    as in real life: the sandboxes move older ones along (payment, deadlines).
    """
    from shelfdesk.clock import FakeClock
    from shelfdesk.demo.catalog_setup import LEBONCOIN_CATEGORIES
    from shelfdesk.sandbox.backmarket import BackMarketSandbox
    from shelfdesk.sandbox.leboncoin import LeboncoinSandbox

    folder = sandbox_folder(ctx)
    clock = FakeClock(ctx.clock.now() - timedelta(days=days))
    bm = BackMarketSandbox(folder / "backmarket", clock=clock, token=tokens[Marketplace.backmarket], orders_per_hour=0, history_orders=0)
    lbc = LeboncoinSandbox(
        folder / "leboncoin",
        clock=clock,
        refresh_token=tokens[Marketplace.leboncoin],
        orders_per_hour=0,
        refresh_token_days=days + TOKEN_DAYS_LEFT,  # issued on this clock, ``days`` ago
    )
    rng = random.Random(seed)
    electronics = [p for p in catalogs["FR"] if p.category_path.startswith("Electronics") and p.price > 0]
    bm.add_products(backmarket_products(electronics))
    second_hand = [p for p in catalogs["FR"] if not p.category_path.startswith("Electronics") and p.price > 0]
    created = 0
    for day in range(days):
        recent = days - day <= RECENT_DAYS
        for n in range(per_day):
            if n % 4 == 3:
                fate = _pick(rng, LEBONCOIN_FATES if recent else LEBONCOIN_OLD_FATES)
                product = rng.choice(second_hand)  # what sold was an ad, at the catalog's price
                lbc.ensure_listing(
                    product.sku,
                    product.price,
                    title=product.title,
                    condition="used",
                    category=LEBONCOIN_CATEGORIES[product.category_path],
                    attributes=leboncoin_attributes(product),
                )
                lbc.create_orders({"skus": [product.sku], "fate": fate})
            else:
                fate = _pick(rng, BACKMARKET_FATES if recent else BACKMARKET_OLD_FATES)
                chosen = [rng.choice(electronics) for _ in range(1 + (rng.random() < 0.12))]
                for product in chosen:  # what sold was listed, at the catalog's price
                    bm.ensure_listing(product.sku, product.price, grade=product.attributes.get("grade", "GOOD"), title=product.title)
                skus = [product.sku for product in chosen]
                bm.create_orders({"skus": skus, "fate": fate, "single_order": True})
            created += 1
            clock.advance(timedelta(hours=24 / per_day))
            bm.tick()
            lbc.tick()
    for sandbox in (bm, lbc):
        sandbox.save_snapshot()
    return created


#: Demo models Back Market's catalog does not know (SKU prefixes), so the products
#: feed shows a realistic "unknown EAN" error group beside what it creates.
UNKNOWN_TO_BACK_MARKET = ("FP4-256",)


def backmarket_products(electronics: Sequence[DemoProduct]) -> list[dict[str, str]]:
    """The demo's electronics as Back Market catalog products (by EAN), bar :data:`UNKNOWN_TO_BACK_MARKET`.

    The real catalog knows most refurbished phones and laptops by EAN; the
    sandbox only seeds a few of its own, so without these every new listing
    of the demo would fail with "No product of the Back Market catalog matches".
    """
    return [
        {"ean": p.ean, "title": p.title.rsplit(" - ", 1)[0], "category": p.category_path.rsplit(" > ", 1)[-1].lower()}
        for p in electronics
        if p.ean and not p.sku.startswith(UNKNOWN_TO_BACK_MARKET)
    ]


def leboncoin_attributes(product: DemoProduct) -> dict[str, str]:
    """The ad attributes Leboncoin wants for a second-hand good: its brand, and a garment's size."""
    size = product.attributes.get("size")
    return {"brand": product.brand, **({"size": size} if size else {})}


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([f for f, _ in weighted], [w for _, w in weighted])[0]


#: New sandbox orders per hour while the demo console runs, so a harvest (f) brings new ones.
LIVE_ORDERS_PER_HOUR = 20.0


def start_live(ctx: AppContext, tokens: dict[Marketplace, str], *, orders_per_hour: float = 0.0) -> RunningSandboxes:
    """Serve the demo sandboxes on loopback and point the demo accounts at them (ports change each time)."""
    from sqlalchemy import select

    from shelfdesk.db.models import MarketplaceAccount
    from shelfdesk.sandbox.server import start_sandboxes

    # Leboncoin revokes older refresh tokens when a new one is issued: hand it the demo's own.
    running = start_sandboxes(sandbox_folder(ctx), clock=ctx.clock, token=tokens[Marketplace.leboncoin], orders_per_hour=orders_per_hour)
    urls = {Marketplace.backmarket: running.backmarket_url, Marketplace.leboncoin: running.leboncoin_url}
    with ctx.write_session() as session:
        for account in session.execute(select(MarketplaceAccount)).scalars():
            url = urls.get(Marketplace(account.marketplace))
            if url:
                account.base_url = url
                account.settings = {**(account.settings or {}), "first_harvest_days": DAYS + 5}
    return running


def harvest_demo(ctx: AppContext) -> list[HarvestResult]:
    """The first harvest of the demo accounts, against the running sandboxes."""
    from shelfdesk.orders.harvest import harvest_sync

    results = harvest_sync(ctx)
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"the demo harvest failed: {'; '.join(str(f) for f in failed)}")
    return results
