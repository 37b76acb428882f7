"""Contract-test fixtures: both sandboxes on real loopback HTTP, sharing the test's FakeClock.

The connector and the sandbox run on one FakeClock: a connector's back-off
sleep advances the sandbox's time too, so a 10-second wait costs nothing.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.http import shared_ssl_context
from shelfdesk.channels.leboncoin import LeboncoinConnector
from shelfdesk.clock import FakeClock
from shelfdesk.sandbox import contract
from shelfdesk.sandbox.app import SandboxApp
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN, BackMarketSandbox
from shelfdesk.sandbox.leboncoin import DEFAULT_REFRESH_TOKEN
from shelfdesk.sandbox.server import RunningSandboxes, start_sandboxes

#: Real seconds a connector waits for an answer in these tests: the timeout faults hang until then.
TIMEOUT = 0.5


class Admin:
    """The sandbox admin API (``/_sandbox/``), called over HTTP like an operator would."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10, verify=shared_ssl_context())

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 300, response.text
        return response.json()

    def get(self, endpoint: str, **params: Any) -> Any:
        return self._ok(self.http.get(f"/_sandbox{endpoint}", params=params))

    def post(self, path: str, body: Any) -> Any:
        return self._ok(self.http.post(f"/_sandbox{path}", json=body))

    def fault(self, **rule: Any) -> None:
        self.post("/faults", rule)

    def orders(self, skus: list[str], **spec: Any) -> list[dict[str, Any]]:
        return self.post("/orders", {"skus": skus, **spec})["orders"]

    def requests(self, method: str | None = None, path: str | None = None, prefix: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("method", method), ("path", path), ("prefix", prefix)) if v}
        return self.get("/requests", **params)["entries"]

    def effects(self, kind: str | None = None) -> list[dict[str, Any]]:
        effects = self.get("/state")["effects"]
        return [e for e in effects if kind is None or e["kind"] == kind]

    def close(self) -> None:
        self.http.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "malformed_requests: the test sends requests the contract refuses, on purpose "
        "(only the sandbox's answers are checked against the contract)",
    )


@pytest.fixture(autouse=True)
def _published_contract(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every request a Back Market sandbox receives in a contract test, and every answer it gives,
    is checked against Back Market's published contract (``shelfdesk.sandbox.contract``): a
    divergence fails the test and names the operation and the field."""
    seen: list[tuple[dict[str, Any], Any, Any]] = []

    def observe(app: SandboxApp, entry: dict[str, Any], sent: bytes, answer: bytes) -> None:
        if isinstance(app, BackMarketSandbox):
            seen.append((dict(entry), sent, answer))

    monkeypatch.setattr(SandboxApp, "observe", staticmethod(observe))
    yield
    requests = request.node.get_closest_marker("malformed_requests") is None
    found = [d for entry, sent, answer in seen for d in contract.check_exchange(entry, sent, answer, requests=requests)]
    if found:
        pytest.fail("the exchanges diverge from Back Market's published contract:\n" + "\n".join(found[:30]), pytrace=False)


@pytest.fixture(autouse=True)
def _verify_sandbox_journals(monkeypatch: pytest.MonkeyPatch) -> None:
    """After every write the sandboxes read their state back from disk and compare it with
    the one in memory: a change a handler made without telling the journal fails the test."""
    monkeypatch.setattr(SandboxApp, "verify_journal", True)


@pytest.fixture(scope="session")
def _running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandboxes]:
    """One pair of servers for the session (starting and stopping uvicorn costs ~0.15 s a test)."""
    with start_sandboxes(tmp_path_factory.mktemp("sandbox"), clock=FakeClock(), orders_per_hour=0, task_seconds=120, hang_cap=5) as running:
        yield running


@pytest.fixture
def sandboxes(_running: RunningSandboxes, clock: FakeClock) -> RunningSandboxes:
    """Both sandboxes reset to their seed, on this test's clock."""
    _running.reset(clock=clock)
    return _running


@pytest.fixture
def bm_admin(sandboxes: RunningSandboxes) -> Iterator[Admin]:
    admin = Admin(sandboxes.backmarket_url)
    yield admin
    admin.close()


@pytest.fixture
def lbc_admin(sandboxes: RunningSandboxes) -> Iterator[Admin]:
    admin = Admin(sandboxes.leboncoin_url)
    yield admin
    admin.close()


def make_bm(sandboxes: RunningSandboxes, clock: FakeClock, **kw: Any) -> BackMarketConnector:
    options: dict[str, Any] = dict(
        token=DEFAULT_TOKEN,
        clock=clock,
        company="Acme",
        contact_email="ops@acme.test",
        base_url=sandboxes.backmarket_url,
        timeout=TIMEOUT,
        rng=random.Random(5),
    )
    options.update(kw)
    return BackMarketConnector(**options)


def make_lbc(sandboxes: RunningSandboxes, clock: FakeClock, **kw: Any) -> LeboncoinConnector:
    options: dict[str, Any] = dict(
        refresh_token=DEFAULT_REFRESH_TOKEN, clock=clock, base_url=sandboxes.leboncoin_url, timeout=TIMEOUT, rng=random.Random(5)
    )
    options.update(kw)
    return LeboncoinConnector(**options)


@pytest.fixture
async def bm(sandboxes: RunningSandboxes, clock: FakeClock) -> AsyncIterator[BackMarketConnector]:
    connector = make_bm(sandboxes, clock)
    yield connector
    await connector.aclose()


@pytest.fixture
async def lbc(sandboxes: RunningSandboxes, clock: FakeClock) -> AsyncIterator[LeboncoinConnector]:
    connector = make_lbc(sandboxes, clock)
    yield connector
    await connector.aclose()
