"""Fixtures for HTTP API tests: a workspace with tokens, the API served on loopback, clients per token.

The API runs under uvicorn in a thread, on a free loopback port, over the
test's workspace (and, for order actions, the in-process marketplace
sandboxes); every test talks to it with httpx, as a merchant's script would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shelfdesk.api.app import ApiSettings
from shelfdesk.api.server import RunningApi, start_api
from shelfdesk.context import AppContext
from shelfdesk.services.api_tokens import add_token
from tests.orders.conftest import BAD_IMEI, GOOD_IMEI, Desk, add_products, desk, sandboxes  # noqa: F401 (fixtures)


@dataclass
class Api:
    ctx: AppContext
    settings: ApiSettings
    running: RunningApi
    write_token: str
    read_token: str
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.running.url

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self._clients.append(client)
        return client

    @property
    def writer(self) -> httpx.Client:
        return self.client(self.write_token)

    @property
    def reader(self) -> httpx.Client:
        return self.client(self.read_token)

    def restart(self) -> None:
        """Stop the server and start a new one (a new app: nothing kept in memory survives)."""
        self.running.stop()
        self.running = start_api(self.ctx, self.settings)
        for client in self._clients:
            client.base_url = httpx.URL(self.running.url)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.running.stop()


@pytest.fixture
def api_settings() -> ApiSettings:
    """Actions are only queued (tests send them with ``desk.send()``, at the sandbox, deterministically)."""
    return ApiSettings(send_actions=False)


def serve(ctx: AppContext, settings: ApiSettings) -> Api:
    _, write = add_token(ctx, "erp", "write")
    _, read = add_token(ctx, "shop", "read")
    return Api(ctx, settings, start_api(ctx, settings), write, read)


@pytest.fixture
def api(ctx: AppContext, api_settings: ApiSettings) -> Iterator[Api]:
    running = serve(ctx, api_settings)
    yield running
    running.close()


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The one error shape; fails the test when the answer is not in it."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]
