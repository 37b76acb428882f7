"""Scheduled catalog refresh and stock feeds over loopback: a feed server with ETag/Last-Modified that logs
every request (the headers asserted are from its own log), the Back Market sandbox for what reaches it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shelfdesk.catalog.feeds import CATALOG, STOCK, refresh_due, refresh_feed, set_feed
from shelfdesk.publishing.pusher import push_stock_sync
from shelfdesk.jobs.alerts import list_alerts
from tests.publishing.conftest import Shop

SKU = "IPH13-128-MID-GOOD"


class FeedServer:
    """Serves ``body`` at any path with a strong ETag and a Last-Modified; 304 when the client's validators match."""

    def __init__(self) -> None:
        self.body = b""
        self.version = 0
        self.fail: int | None = None  #: answer this HTTP status instead
        self.log: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.log.append(
                    {
                        "path": self.path,
                        "if_none_match": self.headers.get("If-None-Match"),
                        "if_modified_since": self.headers.get("If-Modified-Since"),
                    }
                )
                if server.fail is not None:
                    self.send_response(server.fail)
                    self.end_headers()
                    return
                etag = f'"v{server.version}"'
                modified = f"Mon, 07 Dec 2026 10:{server.version:02d}:00 GMT"
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, text: str) -> None:
        self.body, self.version = text.encode(), self.version + 1


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.httpd.shutdown()


def _catalog(stock: int, price: str) -> str:
    return f"sku;title;category;price;stock\n{SKU};iPhone 13;Phones > Smartphones;{price};{stock}\n"


def _listed(shop: Shop, server: FeedServer) -> str:
    """The store's catalog (4 units) served by ``server``, imported and published once; returns the price."""
    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.db.models import Store

    price = str(shop.listings()[SKU]["price"])
    server.publish(_catalog(4, price))
    with shop.ctx.write_session() as session:
        session.get(Store, shop.store_id).catalog_source = f"{server.url}/catalog.csv"
    assert import_catalog(shop.ctx, shop.store_id).ok
    shop.publish(shop.bm_channel)
    return price


def test_a_changed_catalog_at_its_url_reaches_the_marketplace_and_an_unchanged_one_is_not_imported(
    shop: Shop, feed_server: FeedServer
) -> None:
    price = _listed(shop, feed_server)
    first = refresh_feed(shop.ctx, shop.store_id, CATALOG)  # the first scheduled look: applied
    imports = _imports(shop)
    again = refresh_feed(shop.ctx, shop.store_id, CATALOG)
    assert again.outcome == "not modified" and feed_server.log[-1]["if_none_match"] == f'"v{feed_server.version}"'
    assert feed_server.log[-1]["if_modified_since"] is not None and _imports(shop) == imports  # one request, no import
    assert first.outcome == "applied"

    feed_server.publish(_catalog(0, price))  # the merchant sold the last unit elsewhere
    shop.clock.advance(timedelta(minutes=15))
    counts = refresh_due(shop.ctx)
    assert counts == {"catalog_applied": 1} and _imports(shop) == imports + 1
    push_stock_sync(shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
    assert shop.listings()[SKU]["quantity"] == 0


def test_a_failing_catalog_source_keeps_the_last_catalog_alerts_and_retries_with_backoff(shop: Shop, feed_server: FeedServer) -> None:
    _listed(shop, feed_server)
    feed_server.fail = 503
    shop.clock.advance(timedelta(minutes=15))
    result = refresh_feed(shop.ctx, shop.store_id, CATALOG)
    assert result.outcome == "failed" and "503" in result.detail
    from sqlalchemy import select

    from shelfdesk.db.models import Product, StoreFeed

    with shop.ctx.read_session() as session:
        assert session.execute(select(Product.stock).where(Product.sku == SKU)).scalar() == 4  # the last catalog
        row = session.execute(select(StoreFeed).where(StoreFeed.kind == CATALOG)).scalars().one()
    retry_in = (row.next_at - shop.clock.now()).total_seconds()
    assert 15 <= retry_in <= 30  # the first retry comes soon, not a whole interval later
    [alert] = [a for a in list_alerts(shop.ctx) if a.kind == "feed_failing"]
    assert "catalog feed of Refurb Paris" in alert.message and feed_server.url in alert.message and "503" in alert.message
    assert refresh_due(shop.ctx) == {}  # not due yet
    shop.clock.advance(timedelta(seconds=retry_in))
    assert refresh_due(shop.ctx) == {"catalog_failed": 1}
    with shop.ctx.read_session() as session:
        row = session.execute(select(StoreFeed).where(StoreFeed.kind == CATALOG)).scalars().one()
    assert row.failures == 2 and 30 <= (row.next_at - shop.clock.now()).total_seconds() <= 60  # backing off
    feed_server.fail = None
    shop.clock.advance(timedelta(minutes=1))
    assert refresh_due(shop.ctx) in ({"unchanged": 1}, {"catalog_applied": 1})
    assert not [a for a in list_alerts(shop.ctx) if a.kind == "feed_failing"]


def test_a_stock_feed_polled_every_minute_applies_only_changes(shop: Shop, feed_server: FeedServer) -> None:
    listings = shop.listings()
    shop.add_product(SKU, price=listings[SKU]["price"], stock=3)
    shop.publish(shop.bm_channel)
    feed_server.publish(f"sku,quantity\n{SKU},3\n")
    set_feed(shop.ctx, shop.store_id, STOCK, source=f"{feed_server.url}/stock.csv")
    assert refresh_due(shop.ctx) == {"stock_applied": 1}  # first look: read and applied (nothing changed)
    assert refresh_due(shop.ctx) == {}  # not due before its minute
    shop.clock.advance(timedelta(minutes=1))
    assert refresh_due(shop.ctx) == {"unchanged": 1} and feed_server.log[-1]["if_none_match"] == '"v1"'
    feed_server.publish(f"sku,quantity\n{SKU},1\n")
    shop.clock.advance(timedelta(minutes=1))
    assert refresh_due(shop.ctx) == {"stock_applied": 1}
    push_stock_sync(shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
    assert shop.listings()[SKU]["quantity"] == 1


def _imports(shop: Shop) -> int:
    from sqlalchemy import func, select

    from shelfdesk.db.models import CatalogImport

    with shop.ctx.read_session() as session:
        return int(session.execute(select(func.count()).select_from(CatalogImport)).scalar_one())
