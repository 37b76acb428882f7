"""Malformed requests at every route of both sandboxes: never a 500, and the sandbox keeps serving and restarting.

First a table: each route's accepted body with one field at a time (one CSV
cell, one feed line's field) set to each value that once poisoned a sandbox
(NaN, 1e999999999, wrong JSON types …). Then Hypothesis throws malformed
bodies, query parameters, path segments and CSV batches (see ``fuzzing.py``)
at every route each sandbox's app serves, API and admin alike, one route at
a time, in-process through httpx's ASGI transport. After each example the sandbox's clock moves past
the time a batch or a feed takes, so what was accepted is also processed, and
a normal request must still answer 200. After the table and after the
examples, the state is read back from disk and compared with memory (what
``verify_journal`` does after every write, too slow here: it replays the
journal each time). At the end a new sandbox on the same folder must start
with nothing to skip and answer, and the admin reset must work.

Between examples the harness undoes what the admin API is *meant* to break,
so that the next request tests inputs rather than a sandbox told to fail: the
fault rules are cleared, the order generator is stopped, the default
credentials are restored and the rate windows forgotten.

``SHELFDESK_FUZZ_EXAMPLES`` sets the examples per route (default 12, each of one to four requests:
about fifteen seconds a sandbox); ``SHELFDESK_FUZZ_EXAMPLES=150`` is a four-minute hunt.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings, strategies as st

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox import contract
from shelfdesk.sandbox.app import SandboxApp
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN, BackMarketSandbox
from shelfdesk.sandbox.leboncoin import DEFAULT_REFRESH_TOKEN, LeboncoinSandbox
from tests.sandbox.fuzzing import Pools, Request, poisoned_bodies, requests, routes_of

EXAMPLES = int(os.environ.get("SHELFDESK_FUZZ_EXAMPLES", "12"))
BM_HEADERS = {"Authorization": f"Basic {DEFAULT_TOKEN}", "User-Agent": "BM-Acme-fuzz;ops@acme.test"}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


class Harness:
    """One sandbox under fuzzing, with what a normal client sends."""

    def __init__(self, sandbox: SandboxApp, clock: FakeClock) -> None:
        self.sandbox, self.clock = sandbox, clock
        # In-process through httpx's ASGI transport, on one event loop kept for the harness: no thread, no socket.
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox")
        self.routes, self.pools = routes_of(sandbox), Pools.of(sandbox)
        self.auth: dict[str, str] = {}
        self.restore()

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, **kw))

    def restore(self) -> None:
        """Undo what the admin API is meant to break (see the module's docstring)."""
        sb = self.sandbox
        sb.faults.clear()
        sb.reset_limits()
        if sb.state.get("generator", {}).get("rate_per_hour"):
            sb.set_order_rate(0)
        if isinstance(sb, BackMarketSandbox):
            if DEFAULT_TOKEN not in sb.state["tokens"]:
                sb.state["tokens"].append(DEFAULT_TOKEN)
                sb.save_snapshot()
            self.auth = BM_HEADERS
        elif isinstance(sb, LeboncoinSandbox):
            record = sb.state["refresh_tokens"].get(DEFAULT_REFRESH_TOKEN)
            if record is None or record["revoked"] or record["expires_at"] <= sb.clock.now().isoformat():
                sb.state["refresh_tokens"].pop(DEFAULT_REFRESH_TOKEN, None)
                sb.issue_refresh_token(DEFAULT_REFRESH_TOKEN)
            access = sb.state["access_tokens"].get(self.auth.get("Authorization", "")[7:])
            if access is None or access["expires_at"] <= sb.clock.now().isoformat():
                token = self.request("POST", "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": DEFAULT_REFRESH_TOKEN})
                assert token.status_code == 200, token.text
                self.auth = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def send(self, request: Request) -> None:
        headers = {**(self.auth if not request.path.startswith("/oauth") else {}), **request.headers}
        answer = self.request(request.method, request.path, params=request.params, content=request.content, headers=headers)
        assert answer.status_code < 500, f"{answer.status_code} for {request}: {answer.text[:500]}"
        if answer.status_code >= 400 and answer.status_code != 429:  # Back Market's 429 is Cloudflare's plain text
            body = answer.json()  # an error is JSON, in the marketplace's envelope
            if isinstance(self.sandbox, BackMarketSandbox) and contract.find(request.method, answer.request.url.path):
                # a refusal as the published contract gives it for that operation: its status, its envelope
                assert contract.check_response(request.method, answer.request.url.path, answer.status_code, body) == [], str(request)

    def normal(self) -> None:
        """What a client does every day still works."""
        if isinstance(self.sandbox, BackMarketSandbox):
            for path in ("/ws/listings", "/ws/orders"):
                answer = self.request("GET", path, headers=self.auth)
                assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
        else:
            answer = self.request("GET", "/api/v1/ads", headers=self.auth)
            assert answer.status_code == 200, f"/api/v1/ads: {answer.status_code} {answer.text[:300]}"

    def poison(self) -> None:
        """Each route's accepted body with one field at a time set to each value that once poisoned a sandbox."""
        for method, template in self.routes:
            bodies = poisoned_bodies(template) if method in ("POST", "PATCH") else []
            for body in bodies:
                path = re.sub(r"\{([^}]+)\}", lambda m: self.live_id(m.group(1)), template)
                content = json.dumps(body).encode()
                self.send(Request(method, path, [], content, {"content-type": "application/json"}))
                self.restore()
            if bodies:
                self.clock.advance(self.sandbox_seconds() + 1)
                self.restore()
                self.normal()

    def live_id(self, param: str) -> str:
        """An id for ``param`` that a handler acts on: an order it can act on, a listing or an ad that exists."""
        sb = self.sandbox
        if isinstance(sb, BackMarketSandbox) and param in ("order_id", "line_id"):
            order = sb.create_orders({"skus": ["APP1-WHT-EXC"], "fate": "accepted"})[0]
            return str(order["order_id"] if param == "order_id" else order["orderlines"][0]["id"])
        if isinstance(sb, BackMarketSandbox) and param == "care_folder_id":  # an open case on a shipped line, old platform or new
            order = sb.create_orders({"skus": ["APP1-WHT-EXC"], "fate": "shipped"})[0]
            legacy = len(sb.state["care"]) % 2 == 0
            return str(sb.open_case(order["orderlines"][0]["id"], legacy=legacy)["id"])
        if isinstance(sb, LeboncoinSandbox) and param == "order_id":
            return str(sb.create_orders({"skus": ["CHAIR-OAK-01"], "fate": "awaiting_shipment"})[0]["id"])
        return self.pools.by_param.get(param, ["1"])[0]

    def fuzz(self) -> None:
        """Each route in turn, so that each gets its share of examples whatever the number of routes."""
        for route in self.routes:
            self.fuzz_route(st.lists(requests(route, self.pools), min_size=1, max_size=4))

    def fuzz_route(self, strategy: Any) -> None:
        """Hypothesis examples of one route's requests, each followed by the sandbox's next tick."""

        @FUZZ
        @given(st.data())
        def example(data: Any) -> None:
            for request in data.draw(strategy):
                self.send(request)
                self.restore()
            self.clock.advance(self.sandbox_seconds() + 1)  # what was accepted is processed at the next tick
            self.restore()
            self.normal()

        example()

    def sandbox_seconds(self) -> float:
        return float(getattr(self.sandbox, "task_seconds", None) or getattr(self.sandbox, "feed_seconds", 60.0))

    def on_disk_as_in_memory(self) -> None:
        self.sandbox._verify_journal()

    def survives_a_restart_and_a_reset(self) -> None:
        sb = self.sandbox
        again = type(sb)(sb.folder, clock=self.clock)
        assert again.recovered == [], again.recovered  # nothing unreadable ever entered the state
        restarted = Harness(again, self.clock)
        restarted.normal()
        assert restarted.request("POST", "/_sandbox/reset", json={}).status_code == 200
        restarted.restore()
        restarted.normal()
        restarted.close()
        self.close()

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()

    def run(self) -> None:
        """The poison table, the examples, then a restart and a reset."""
        self.poison()
        self.on_disk_as_in_memory()
        self.fuzz()
        self.on_disk_as_in_memory()
        self.survives_a_restart_and_a_reset()


def test_back_market_sandbox_survives_malformed_requests(tmp_path: Path, clock: FakeClock) -> None:
    Harness(BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0, task_seconds=60, hang_cap=0.01), clock).run()


def test_leboncoin_sandbox_survives_malformed_requests(tmp_path: Path, clock: FakeClock) -> None:
    Harness(LeboncoinSandbox(tmp_path / "lbc", clock=clock, orders_per_hour=0, feed_seconds=60, hang_cap=0.01), clock).run()
