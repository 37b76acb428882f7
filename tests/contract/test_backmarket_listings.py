"""Back Market listings, batches, competitors, limits, credentials and persistence, against the sandbox."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.base import BatchState, ListingUpdate, OfferUpdate
from shelfdesk.clock import FakeClock
from shelfdesk.domain import ActionKind
from shelfdesk.sandbox.backmarket import ORPHAN_SKUS, PRODUCTS
from shelfdesk.sandbox.core import max_in_window
from shelfdesk.sandbox.server import NotLoopback, RunningSandboxes, bind, is_loopback, start_sandboxes

from .conftest import Admin, make_bm


def ean_of(admin: Admin, title: str) -> str:
    return next(p["ean"] for p in admin.get("/state")["products"].values() if p["title"] == title)


async def test_listings_include_skus_no_catalog_has(bm: BackMarketConnector) -> None:
    listings = [l async for page in bm.iter_listings() for l in page]
    skus = {l.sku for l in listings}
    assert set(ORPHAN_SKUS) <= skus
    assert any(l.online for l in listings) and any(not l.online for l in listings)
    assert all(l.price is not None and l.price > 0 for l in listings)


async def test_listing_batch_with_per_line_errors_and_task_polling(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    iphone, switch = ean_of(bm_admin, PRODUCTS[0][0]), ean_of(bm_admin, PRODUCTS[10][0])
    updates = [
        ListingUpdate("NEW-IPH13-FAIR", ean=iphone, grade="FAIR", price=Decimal("489"), quantity=2),  # created
        ListingUpdate("IPH12-64-BLK-VG", price=Decimal("379.90"), quantity=5),  # updated (existing SKU)
        ListingUpdate("BAD-EAN", ean="3000000000001", grade="GOOD", price=Decimal("10"), quantity=1),
        ListingUpdate("NO-GRADE", ean=iphone, price=Decimal("400"), quantity=1),
        ListingUpdate("TOO-CHEAP", ean=iphone, grade="GOOD", price=Decimal("0.50"), quantity=1),
        ListingUpdate("UNKNOWN-PRODUCT", product_id="00000000-0000-4000-8000-000000000000", grade="GOOD", price=Decimal("10"), quantity=1),
        ListingUpdate("PREMIUM-SWITCH", ean=switch, grade="PREMIUM", price=Decimal("300"), quantity=1),
        ListingUpdate("OLD-GRADE", ean=iphone, grade="SHINY", price=Decimal("300"), quantity=1),
        ListingUpdate("NO-PRODUCT", grade="GOOD", price=Decimal("300"), quantity=1),
    ]
    [ticket] = await bm.submit_listings(updates)
    first = await bm.get_batch(ticket)
    assert first.state is BatchState.pending and first.items == []
    result = await bm.wait_for_batch(ticket, poll_every=30)
    assert result.state is BatchState.done
    outcome = {i.sku: i for i in result.items}
    assert outcome["NEW-IPH13-FAIR"].ok and outcome["NEW-IPH13-FAIR"].remote_id
    assert outcome["IPH12-64-BLK-VG"].ok
    expected_errors = {
        "BAD-EAN": "invalid-ean",
        "NO-GRADE": "missing-grade",
        "TOO-CHEAP": "price-out-of-range",
        "UNKNOWN-PRODUCT": "unknown-product",
        "PREMIUM-SWITCH": "grade-not-allowed",
        "OLD-GRADE": "invalid-grade",
        "NO-PRODUCT": "missing-product",
    }
    for sku, code in expected_errors.items():
        assert not outcome[sku].ok and outcome[sku].code == code and outcome[sku].message, sku
    assert len(bm_admin.requests("POST", "/ws/listings")) == 1
    assert len(bm_admin.requests("GET", f"/ws/tasks/{ticket.remote_id}")) >= 3  # pending, in progress, done
    listing = await bm.get_listing(sku="IPH12-64-BLK-VG")
    assert listing.price == Decimal("379.90") and listing.quantity == 5
    created = await bm.get_listing(sku="new-iph13-fair")
    assert created.grade == "FAIR" and created.online


async def test_products_seeded_through_the_admin_api_let_new_listings_match_their_ean(
    bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock
) -> None:
    from shelfdesk.catalog.gtin import make_ean13

    seeded, unknown = make_ean13("376000000041"), make_ean13("376000000042")
    added = bm_admin.post("/products", {"products": [{"ean": seeded, "title": "Fairphone 5 256 Go", "grades": ["GOOD"]}]})
    assert added["added"] == 1
    assert bm_admin.post("/products", {"products": [{"ean": seeded}]})["added"] == 0  # known EANs stay as they are
    [ticket] = await bm.submit_listings(
        [
            ListingUpdate("FP5-GOOD", ean=seeded, grade="GOOD", price=Decimal("399"), quantity=1),
            ListingUpdate("FP5-FAIR", ean=seeded, grade="FAIR", price=Decimal("349"), quantity=1),
            ListingUpdate("UNSEEDED", ean=unknown, grade="GOOD", price=Decimal("399"), quantity=1),
        ]
    )
    outcome = {i.sku: i for i in (await bm.wait_for_batch(ticket, poll_every=30)).items}
    assert outcome["FP5-GOOD"].ok
    assert (outcome["FP5-FAIR"].code, outcome["UNSEEDED"].code) == ("grade-not-allowed", "unknown-ean")
    assert bm_admin.http.post("/_sandbox/products", json={"products": [{"ean": "123"}]}).status_code == 400


async def test_whole_batch_failure_reported(bm: BackMarketConnector, bm_admin: Admin) -> None:
    [ticket] = await bm.submit_offers([OfferUpdate("IPH12-64-BLK-VG", quantity=3)])
    task = bm_admin.get("/state")["tasks"][ticket.remote_id]
    assert task["catalog"].splitlines()[0] == "sku,quantity"
    # A task whose CSV cannot be read (no sku column) fails as a whole.
    response = httpx.post(
        f"{bm.api.base_url}ws/listings",
        json={"catalog": "ref;qty\nA;1\n", "quotechar": '"', "delimiter": ",", "encoding": "utf-8"},
        headers={"Authorization": "Basic bm-sandbox-token", "User-Agent": "BM-Acme-x;a@b.c"},
    )
    task_id = response.json()["bodymessage"]
    from shelfdesk.channels.base import BatchTicket
    from shelfdesk.domain import Marketplace, PublicationKind

    result = await bm.wait_for_batch(BatchTicket(Marketplace.backmarket, PublicationKind.offers, str(task_id), ("A",), bm.clock.now()))
    assert result.state is BatchState.failed and "sku" in (result.error or "")
    assert not result.items[0].ok


async def test_offer_batches_split_by_the_hourly_line_budget(sandboxes: RunningSandboxes, bm_admin: Admin, clock: FakeClock) -> None:
    # An 1,800-line batch is one request that the sandbox reads and checks cell by cell: the
    # contract tests' short timeout (meant for fault answers) is no limit for it on a busy machine.
    connector = make_bm(sandboxes, clock, timeout=15.0)
    updates = [OfferUpdate(f"BULK-{n:04d}", quantity=1) for n in range(2500)]
    tickets = await connector.submit_offers(updates)
    await connector.aclose()
    assert [len(t.skus) for t in tickets] == [1800, 700]
    posts = bm_admin.requests("POST", "/ws/listings")
    assert [p["status"] for p in posts] == [200, 200]
    assert posts[1]["t"] - posts[0]["t"] >= 3600  # the second waited for the hour to roll
    assert max_in_window([p["t"] for p in posts], 3600) == 1


async def test_listing_paging(bm: BackMarketConnector, bm_admin: Admin) -> None:
    iphone = ean_of(bm_admin, PRODUCTS[0][0])
    [ticket] = await bm.submit_listings(
        [ListingUpdate(f"PAGE-{n:03d}", ean=iphone, grade="GOOD", price=Decimal("300"), quantity=1) for n in range(120)]
    )
    assert (await bm.wait_for_batch(ticket)).state is BatchState.done
    pages = [p async for p in bm.iter_listings()]
    total = len(bm_admin.get("/state")["listings"])
    assert sum(len(p) for p in pages) == total == 139 and len(pages) == 3


async def test_competitors(bm: BackMarketConnector, bm_admin: Admin) -> None:
    listing = await bm.get_listing(sku="IPH13-128-MID-EXC")
    rows = await bm.get_competitors(listing.remote_id)
    assert {r.market for r in rows} == {"FR", "BE", "ES"}
    assert all(r.listing_id == listing.remote_id and r.currency == "EUR" and r.price == listing.price for r in rows)
    assert all(r.winner_price is not None and r.price_to_win is not None for r in rows)
    for _ in range(7):  # 2 calls per second per token: the client limiter spaces them
        await bm.get_competitors(listing.remote_id)
    log = bm_admin.requests("GET", f"/ws/backbox/v1/competitors/{listing.remote_id}")
    assert max_in_window([e["t"] for e in log], 1.0) <= 2 and all(e["status"] == 200 for e in log)


async def test_five_hundred_calls_stay_under_the_limits(bm: BackMarketConnector, bm_admin: Admin) -> None:
    for n in range(500):
        await bm.get_order(str(40000001 + n % 12))
    for _ in range(45):
        await bm.get_listing(sku="IPH12-64-BLK-VG")  # catalog endpoint: 20 / 10 s
    windows = bm_admin.get("/windows", window=10)
    assert windows["throttled"] == 0
    assert 150 <= windows["max_requests"] <= 200
    catalog = [e["t"] for e in bm_admin.requests(prefix="/ws/listings")]
    assert len(catalog) == 45 and max_in_window(catalog, 10.0) <= 20


async def test_sandbox_throttles_like_cloudflare(sandboxes: RunningSandboxes, bm_admin: Admin) -> None:
    headers = {"Authorization": "Basic bm-sandbox-token", "User-Agent": "BM-Acme-x;a@b.c"}
    with httpx.Client(base_url=sandboxes.backmarket_url, headers=headers) as raw:  # no client limiter here
        statuses = [raw.get("/ws/listings/detail", params={"sku": "IPH12-64-BLK-VG"}).status_code for _ in range(22)]
        assert statuses[:20] == [200] * 20 and statuses[20:] == [429, 429]
        bm_admin.post("/clock", {"advance": 10})
        assert raw.get("/ws/listings/detail", params={"sku": "IPH12-64-BLK-VG"}).status_code == 200
        assert "retry-after" not in {k.lower() for k in raw.get("/ws/tasks/1").headers} or True


async def test_credentials_and_headers(sandboxes: RunningSandboxes, clock: FakeClock, bm: BackMarketConnector) -> None:
    assert (await bm.check_credentials()).valid
    wrong = make_bm(sandboxes, clock, token="not-the-token")
    status = await wrong.check_credentials()
    await wrong.aclose()
    assert not status.valid and "Invalid token" in status.message
    url = f"{sandboxes.backmarket_url}/ws/orders"
    assert httpx.get(url, headers={"User-Agent": "BM-Acme-x;a@b.c"}).status_code == 401
    no_ua = httpx.get(url, headers={"Authorization": "Basic bm-sandbox-token", "User-Agent": ""})
    assert no_ua.status_code == 400 and "User-Agent" in no_ua.text
    seen = httpx.get(f"{sandboxes.backmarket_url}/_sandbox/requests").json()["entries"]
    first = seen[0]
    assert first["user_agent"] == "BM-Acme-shelfdesk;ops@acme.test" and first["accept_language"] == "fr-fr"
    assert "bm-sandbox-token" not in str(seen)  # the log keeps no credentials


def test_user_agent_is_mandatory_in_the_connector(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        BackMarketConnector(token="t", clock=clock, company="Acme", contact_email="")


async def test_state_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    folder = tmp_path / "persist"
    with start_sandboxes(folder, clock=clock, orders_per_hour=0) as first:
        admin = Admin(first.backmarket_url)
        oid = str(admin.orders(["IPH12-64-BLK-VG"])[0]["order_id"])
        connector = make_bm(first, clock)
        await connector.apply_action(oid, ActionKind.accept, {"sku": "IPH12-64-BLK-VG"})
        [ticket] = await connector.submit_offers([OfferUpdate("IPH12-64-BLK-VG", quantity=9)])
        await connector.aclose()
        admin.close()
    with start_sandboxes(folder, clock=clock, orders_per_hour=0) as second:
        connector = make_bm(second, clock)
        assert (await connector.get_order(oid)).raw_status == "3"
        assert (await connector.wait_for_batch(ticket)).state is BatchState.done
        assert (await connector.get_listing(sku="IPH12-64-BLK-VG")).quantity == 9
        await connector.aclose()
        admin = Admin(second.backmarket_url)
        assert len(admin.effects("order_action")) == 1 and len(admin.requests("POST")) == 2  # log kept too
        admin.close()


def test_only_loopback_unless_forced() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.5.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("example.org")
    for host in ("0.0.0.0", "10.0.0.5"):
        with pytest.raises(NotLoopback):
            bind(host, 0)


async def test_a_later_chunk_failing_keeps_the_tickets_of_the_chunks_already_taken(
    sandboxes: RunningSandboxes, clock: FakeClock, bm_admin: Admin
) -> None:
    from shelfdesk.channels.backmarket import BackMarketLimits
    from shelfdesk.channels.errors import WafBlocked

    bm = make_bm(sandboxes, clock, limits=BackMarketLimits(lines_per_hour=2))  # two lines a chunk
    bm_admin.fault(kind="waf", method="POST", path="/ws/listings", skip=1)  # the second POST is blocked
    skus = ("IPH13-128-MID-EXC", "IPH12-64-BLK-VG", "GA52-128-BLK-EXC")
    try:
        with pytest.raises(WafBlocked) as caught:
            await bm.submit_offers([OfferUpdate(sku, quantity=1) for sku in skus])
        [ticket] = caught.value.submitted  # the first chunk was taken: its task is not lost
        assert ticket.skus == skus[:2]
        assert (await bm.wait_for_batch(ticket, poll_every=30)).state is BatchState.done
    finally:
        await bm.aclose()
    assert len(bm_admin.requests("POST", "/ws/listings")) == 2
    quantities = {l["sku"]: l["quantity"] for l in bm_admin.get("/state")["listings"].values()}
    assert (quantities[skus[0]], quantities[skus[1]]) == (1, 1) and quantities[skus[2]] != 1
