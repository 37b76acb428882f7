"""Catalog downloads: the total time limit holds against a trickling server; redirects stay on the host."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from shelfdesk.catalog.errors import SourceError
from shelfdesk.catalog.source import open_source
from shelfdesk.clock import FakeClock
from tests.loopback import serve


@pytest.fixture
def trickling_url() -> Iterator[str]:
    """A server sending a CSV one byte every 0.05 s (each read well within any read timeout)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = b"sku,price\n" + b"A,1\n" * 2000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    with serve(Handler) as base:
        yield f"{base}/feed.csv"


def test_the_total_time_limit_holds_whatever_the_chunking(trickling_url: str, tmp_path: Path, clock: FakeClock) -> None:
    # The injected clock never moves here: the watchdog on the real clock is what stops the download.
    with pytest.raises(SourceError, match="took longer than 1 s to download; stopped"):
        open_source(trickling_url, download_dir=tmp_path, clock=clock, timeout=1.0)
    assert not list(tmp_path.iterdir())  # the partial download is gone


def test_redirects_stay_on_the_feed_host(tmp_path: Path, clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "https://shop.example/feed.csv"})
        if request.url.path == "/elsewhere":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})
        return httpx.Response(200, content=b"sku\nA\n")

    transport = httpx.MockTransport(handler)
    feed = open_source("http://shop.example/moved", download_dir=tmp_path, clock=clock, transport=transport)
    assert feed.path.read_bytes() == b"sku\nA\n"
    feed.cleanup()
    with pytest.raises(SourceError, match="redirects to another host") as info:
        open_source("https://shop.example/elsewhere", download_dir=tmp_path, clock=clock, transport=transport)
    assert str(info.value).endswith("(http://169.254.169.254/latest/meta-data): refused; if you trust it, give that URL as the source")
