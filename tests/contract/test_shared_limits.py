"""Back Market counts requests per account: runs one after the other in a process share the window.

Every run (harvest, feed, outbox sweep) builds its own connector. Without a
shared limiter the second run would start with a full window while the
marketplace still counts the first run's requests, and be blocked for 10 s.
Counted from the sandbox's own request log, on the shared FakeClock.
"""

from __future__ import annotations

from datetime import datetime

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox.server import RunningSandboxes

from .conftest import Admin, make_bm


async def reads(sandboxes: RunningSandboxes, clock: FakeClock, order_id: str, count: int, **kw: object) -> None:
    connector = make_bm(sandboxes, clock, **kw)
    async with connector:
        for _ in range(count):
            await connector.get_order(order_id)


async def test_a_second_connector_of_the_account_waits_for_the_first_one_s_window(
    sandboxes: RunningSandboxes, bm_admin: Admin, clock: FakeClock
) -> None:
    [order] = bm_admin.orders(["APP1-WHT-EXC"], fate="accepted")
    oid = str(order["order_id"])
    await reads(sandboxes, clock, oid, 200)  # the whole window of the account
    await reads(sandboxes, clock, oid, 20)  # the next run, a new connector
    log = bm_admin.requests("GET", f"/ws/orders/{oid}")
    assert len(log) == 220 and not [r for r in log if r["status"] == 429]
    first, later = datetime.fromisoformat(log[0]["at"]), datetime.fromisoformat(log[200]["at"])
    assert (later - first).total_seconds() >= 10  # waited for the first run's requests to leave the window


async def test_another_account_has_its_own_window(sandboxes: RunningSandboxes, bm_admin: Admin, clock: FakeClock) -> None:
    from shelfdesk.channels.ratelimit import shared_limiter

    ours = shared_limiter(200, 10.0, clock, name="bm-requests", account="token-a", where="http://x/")
    assert shared_limiter(200, 10.0, clock, name="bm-requests", account="token-a", where="http://x") is ours
    assert shared_limiter(200, 10.0, clock, name="bm-requests", account="token-b", where="http://x") is not ours
    assert shared_limiter(200, 10.0, FakeClock(clock.now()), name="bm-requests", account="token-a", where="http://x") is not ours
