"""The outbox applies each action exactly once through crashes, kills and concurrent senders.

"Exactly once" is counted where it matters: in the sandbox's own record of
the changes it applied (its ``effects``), not in shelfdesk's bookkeeping.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.db.models import OrderAction
from shelfdesk.domain import ActionKind, ActionState
from shelfdesk.orders.actions import enqueue_action
from shelfdesk.orders.outbox import CLAIM_TIMEOUT, OutboxSender, send_pending
from shelfdesk.paths import resolve_paths
from shelfdesk.sandbox.server import start_sandboxes

from .conftest import Desk, make_desk, order_id_of


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the sender handles it."""


def _ship_all(desk: Desk, count: int, **queue: object) -> list[str]:
    orders = desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC"], fate="accepted", count=count // 2)
    desk.harvest()
    ids = [str(o["order_id"]) for o in orders]
    for n, oid in enumerate(ids):
        enqueue_action(desk.ctx, oid, "ship", {"carrier": "Colissimo", "tracking_number": f"6A{n:05d}"}, **queue)  # type: ignore[arg-type]
    return ids


def _ships(effects: list[dict]) -> Counter[str]:
    return Counter(str(e["order_id"]) for e in effects if e["kind"] == "order_action" and e.get("new_state") == 3)


def _states(desk_ctx) -> Counter[ActionState]:  # type: ignore[no-untyped-def]
    with desk_ctx.read_session() as session:
        return Counter(ActionState(s) for s in session.execute(select(OrderAction.state)).scalars())


def test_a_crash_after_the_answer_and_before_the_commit_never_ships_twice(desk: Desk) -> None:
    ids = _ship_all(desk, 6)
    calls = 0

    def crash_on_third(claimed, remote) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Crash

    async def first_run() -> None:
        async with OutboxSender(desk.ctx, factory=desk.factory, concurrency=1, after_remote=crash_on_third) as sender:
            await sender.run_until_idle()

    with pytest.raises(Crash):
        asyncio.run(first_run())
    assert sum(_ships(desk.effects("backmarket")).values()) == 3  # the third was applied, its answer lost
    assert _states(desk.ctx)[ActionState.sending] == 1

    report = desk.send(max_wait=10)  # a fresh sender: the claim is still fresh, its holder may be alive
    assert report.recovered == 0 and _states(desk.ctx)[ActionState.sending] == 1
    desk.clock.advance(CLAIM_TIMEOUT + 1)
    report = desk.send()
    assert report.recovered == 1
    assert "already applied on the marketplace" in [o.message for o in report.outcomes]
    assert _ships(desk.effects("backmarket")) == Counter({oid: 1 for oid in ids})
    assert _states(desk.ctx) == Counter({ActionState.confirmed: len(ids)})


def test_two_senders_at_once_never_send_the_same_action(desk: Desk) -> None:
    ids = _ship_all(desk, 20)

    async def both() -> list[int]:
        async with (
            OutboxSender(desk.ctx, factory=desk.factory, concurrency=3) as a,
            OutboxSender(desk.ctx, factory=desk.factory, concurrency=3) as b,
        ):
            reports = await asyncio.gather(a.run_until_idle(), b.run_until_idle())
        return [len(r.outcomes) for r in reports]

    shares = asyncio.run(both())
    assert sum(shares) == len(ids)  # how they split the work depends on scheduling; never sending twice does not
    assert _ships(desk.effects("backmarket")) == Counter({oid: 1 for oid in ids})
    posts = Counter(e["path"] for e in desk.requests("backmarket", method="POST"))
    assert all(posts[f"/ws/orders/{oid}"] == 1 for oid in ids)


@pytest.mark.slow
def test_killing_a_sending_process_then_restarting_ships_each_order_exactly_once(tmp_path: Path) -> None:
    """A real process is killed (SIGKILL) with actions in flight; the next sender finishes the job."""
    clock = SystemClock()
    with start_sandboxes(tmp_path / "sandbox", clock=clock, orders_per_hour=0, hang_cap=2) as sandboxes:
        home = tmp_path / "ws"
        ctx = open_context(resolve_paths(home), clock=clock)
        desk = make_desk(ctx, sandboxes, clock)  # type: ignore[arg-type]
        try:
            ids = _ship_all(desk, 24)
            # The marketplace applies each ship at once but answers 0.15 s later: a kill lands between the two.
            desk.fault("backmarket", kind="latency", latency=0.15, method="POST", path="/ws/orders/", count=None)
            env = {**os.environ, "SHELFDESK_HOME": str(home)}
            proc = subprocess.Popen(
                [sys.executable, "-m", "shelfdesk", "orders", "actions", "--send"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 60
            while sum(_ships(sandboxes.backmarket.state["effects"]).values()) < 8:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "the sender never got going"
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            at_kill = sum(_ships(sandboxes.backmarket.state["effects"]).values())
            in_flight = _states(ctx)[ActionState.sending]
            assert 8 <= at_kill < len(ids) and in_flight >= 1

            desk.fault("backmarket", kind="latency", latency=0.0, method="POST", path="/ws/orders/", count=None)
            report = send_pending(ctx, factory=desk.factory, max_wait=5)
            assert report.recovered == in_flight  # the dead holder's claims, taken back at once
            assert _ships(sandboxes.backmarket.state["effects"]) == Counter({oid: 1 for oid in ids})
            assert _states(ctx) == Counter({ActionState.confirmed: len(ids)})
        finally:
            desk.bm.close()
            desk.lbc.close()
            ctx.close()


def test_a_queued_invoice_upload_never_holds_up_shipping(desk: Desk) -> None:
    orders = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted", count=1)
    desk.harvest()
    oid = str(orders[0]["order_id"])
    order_pk = order_id_of(desk.ctx, oid)
    now = desk.clock.now()
    with desk.ctx.write_session() as session:  # an upload waiting for its retry, as the invoices service queues it
        session.add(
            OrderAction(
                order_id=order_pk,
                kind=ActionKind.upload_invoice,
                payload={"invoice_id": 1},
                state=ActionState.pending,
                idempotency_key="upload-1",
                created_at=now,
                updated_at=now,
                next_attempt_at=now + timedelta(hours=1),
            )
        )
    queued = enqueue_action(desk.ctx, oid, "ship", {"carrier": "Colissimo", "tracking_number": "6A00001"})
    assert queued.kind is ActionKind.ship
