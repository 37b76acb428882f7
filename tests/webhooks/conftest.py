"""A receiver on loopback that records what it gets and answers as told, and order events to deliver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from shelfdesk.context import AppContext
from shelfdesk.domain import EventSource, NormalizedStatus
from tests.loopback import serve


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next planned reply (status, seconds to wait, extra headers), then 200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    plan: list[tuple[int, float, dict[str, str]]] = field(default_factory=list)
    fail_orders: set[str] = field(default_factory=set)  #: answer 503 to events of these ordering keys
    down: bool = False  #: answer 503 to everything
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, *statuses: int, delay: float = 0.0, headers: dict[str, str] | None = None) -> None:
        self.plan.extend((s, delay, headers or {}) for s in statuses)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [r.json for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                status, delay, extra = state.plan.pop(0) if state.plan else (200, 0.0, {})
                order = json.loads(body).get("data", {}).get("order", {}).get("id") if body else None
                if state.down or (order is not None and f"order:{order}" in state.fail_orders):
                    status = 503
                if 200 <= status < 300:  # what the receiver accepted
                    state.received.append(Received(self.path, dict(self.headers.items()), body))
            if delay:
                time.sleep(delay)  # a slow receiver, in real time: the client's timeout is real time too
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            try:
                self.wfile.write(b"ok")
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    with serve(Handler) as base:
        state.url = f"{base}/hooks"
        yield state


def order_with_events(ctx: AppContext, marketplace_order_id: str, *statuses: NormalizedStatus) -> int:
    """An order first harvested now (no history row, as a harvest stores it) whose status then moves through ``statuses``."""
    from decimal import Decimal

    from sqlalchemy import select

    from shelfdesk.db.models import MarketplaceAccount, Order, OrderEvent
    from shelfdesk.domain import Marketplace

    now = ctx.clock.now()
    with ctx.write_session() as session:
        account = session.execute(select(MarketplaceAccount)).scalars().first()
        if account is None:
            account = MarketplaceAccount(
                marketplace=Marketplace.backmarket, name="BM", credential_ref="secret:x", created_at=now, updated_at=now
            )
            session.add(account)
            session.flush()
        order = Order(
            account_id=account.id,
            marketplace=Marketplace.backmarket,
            marketplace_order_id=marketplace_order_id,
            status=NormalizedStatus.New,
            purchased_at=now,
            harvested_at=now,
            updated_at=now,
            total=Decimal("10.00"),
            currency="EUR",
        )
        session.add(order)
        session.flush()
        old = NormalizedStatus.New
        for step, status in enumerate(statuses, start=1):
            session.add(
                OrderEvent(
                    order_id=order.id,
                    at=now + timedelta(seconds=step),
                    source=EventSource.harvest,
                    kind="status_changed",
                    field="status",
                    old_value=old.value,
                    new_value=status.value,
                )
            )
            old = status
        order.status = old
        return int(order.id)
