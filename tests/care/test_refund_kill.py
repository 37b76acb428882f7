"""A refund is never sent twice, even when the process sending it is killed (SIGKILL) between the
marketplace applying it and shelfdesk recording it. Counted in the sandbox's own effects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.db.models import OrderAction
from shelfdesk.domain import ActionKind, ActionState
from shelfdesk.orders.outbox import send_pending
from shelfdesk.paths import resolve_paths
from shelfdesk.sandbox.server import start_sandboxes
from shelfdesk.services import care
from tests.orders.conftest import make_desk


def _refunds(state: dict) -> Counter[int]:
    return Counter(int(e["orderline"]) for e in state["effects"] if e["kind"] == "care_refund")


@pytest.mark.slow
def test_killing_the_sender_mid_refund_then_restarting_refunds_each_line_once(tmp_path: Path) -> None:
    clock = SystemClock()
    with start_sandboxes(tmp_path / "sandbox", clock=clock, orders_per_hour=0, hang_cap=2) as sandboxes:
        home = tmp_path / "ws"
        ctx = open_context(resolve_paths(home), clock=clock)
        desk = make_desk(ctx, sandboxes, clock)  # type: ignore[arg-type]
        try:
            orders = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="shipped", count=12)
            desk.harvest()
            lines = [o["orderlines"][0]["id"] for o in orders]
            for order in orders:
                care.queue_refund(ctx, f"order:{order['order_id']}", amount="10.00", reason="geste")
            # Back Market applies each refund at once but answers 0.15 s later: a kill lands between the two.
            desk.fault("backmarket", kind="latency", latency=0.15, method="POST", path="/ws/sav/refund", count=None)
            env = {**os.environ, "SHELFDESK_HOME": str(home)}
            proc = subprocess.Popen(
                [sys.executable, "-m", "shelfdesk", "orders", "actions", "--send"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 60
            while sum(_refunds(sandboxes.backmarket.state).values()) < 3:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "the sender never got going"
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            at_kill = sum(_refunds(sandboxes.backmarket.state).values())
            with ctx.read_session() as session:
                states = Counter(
                    ActionState(s)
                    for s in session.execute(select(OrderAction.state).where(OrderAction.kind == ActionKind.refund)).scalars()
                )
            assert 3 <= at_kill < len(lines) and states[ActionState.sending] >= 1, (at_kill, states)

            desk.fault("backmarket", kind="latency", latency=0.0, method="POST", path="/ws/sav/refund", count=None)
            report = send_pending(ctx, factory=desk.factory, max_wait=5)
            assert report.recovered == states[ActionState.sending]
            assert _refunds(sandboxes.backmarket.state) == Counter({line: 1 for line in lines})
            with ctx.read_session() as session:
                final = Counter(
                    ActionState(s)
                    for s in session.execute(select(OrderAction.state).where(OrderAction.kind == ActionKind.refund)).scalars()
                )
            assert final == Counter({ActionState.confirmed: len(lines)})
            refunded = [r for r in care.list_refunds(ctx) if r.source == "shelfdesk"]
            assert len(refunded) == len(lines) and {r.amount for r in refunded} == {Decimal("10.00")}
        finally:
            desk.bm.close()
            desk.lbc.close()
            ctx.close()
