"""An operator's fetch (console ``f``, ``shelfdesk orders sync``) runs under the harvest schedules' leases.

A worker harvesting an account holds its ``harvest`` lease: a manual fetch of
that account must say who is harvesting it and send nothing, while the other
accounts are fetched. Requests are counted in the sandbox's own log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from shelfdesk.cli import main
from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.db.models import Order
from shelfdesk.jobs import leases
from shelfdesk.jobs.manual import harvest_keys
from shelfdesk.tui.app import ShelfdeskApp

from .conftest import Desk

WORKER = "otherhost:4242:worker-abc123"


@pytest.fixture(autouse=True)
def _default_clock(clock: FakeClock) -> Iterator[None]:
    old = set_default_clock(clock)
    yield
    set_default_clock(old)


def hold_harvest_lease(desk: Desk, account_id: int) -> str:
    """A worker on another host is harvesting ``account_id`` right now."""
    key = harvest_keys(desk.ctx, [account_id])[account_id][0]
    with desk.ctx.write_session() as session:
        assert leases.claim(session, key, WORKER, desk.clock.now(), interval=None).claimed
    return key


def order_reads(desk: Desk, marketplace: str) -> int:
    return sum(1 for r in desk.requests(marketplace) if r["method"] == "GET" and "order" in r["path"])


def stored_ids(desk: Desk) -> set[str]:
    with desk.ctx.read_session() as session:
        return set(session.execute(select(Order.marketplace_order_id)).scalars())


def job_runs(desk: Desk, key: str) -> list[tuple[str, str]]:
    from shelfdesk.db.models import JobRun
    from shelfdesk.jobs.registry import split_key

    job, channel_id = split_key(key)
    with desk.ctx.read_session() as session:
        runs = session.execute(select(JobRun).where(JobRun.job == job, JobRun.channel_id == channel_id)).scalars()
        return [(r.trigger or "", str(r.outcome)) for r in runs]


async def test_console_fetch_is_a_manual_run_and_skips_an_account_a_worker_is_harvesting(desk: Desk) -> None:
    [bm] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted")
    desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid")
    busy = hold_harvest_lease(desk, desk.bm_account)
    reads_before = order_reads(desk, "backmarket")
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("4", "f")
        for _ in range(3):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        messages = [n.message for n in app._notifications]
    fetched = next(m for m in messages if "new," in m)
    assert "Back Market EU: not fetched now: running in worker 4242@otherhost" in fetched
    assert order_reads(desk, "backmarket") == reads_before  # nothing asked of the account the worker holds
    ids = stored_ids(desk)
    assert ids and all(i.startswith("LBC") for i in ids) and fetched.startswith(f"{len(ids)} new,")
    assert str(bm["order_id"]) not in ids
    lbc_key = harvest_keys(desk.ctx, [desk.lbc_account])[desk.lbc_account][0]
    assert job_runs(desk, lbc_key) == [("manual", "succeeded")] and job_runs(desk, busy) == []


def test_cli_sync_reports_the_busy_account_and_harvests_once_the_lease_is_free(desk: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    [bm] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted")
    key = hold_harvest_lease(desk, desk.bm_account)
    code, out = main(["orders", "sync", "--no-send", "--json"]), capsys.readouterr().out
    by_account: dict[str, Any] = {h["account"]: h for h in json.loads(out)["harvests"]}
    assert code == 0 and "running in worker 4242@otherhost" in by_account["Back Market EU"]["skipped"]
    assert by_account["Leboncoin Pro"]["ok"] is True and str(bm["order_id"]) not in stored_ids(desk)

    with desk.ctx.write_session() as session:
        assert leases.release(session, key, WORKER)
    code, out = main(["orders", "sync", "--no-send"]), capsys.readouterr().out
    assert code == 0 and "Back Market EU: 12 fetched" in out and str(bm["order_id"]) in stored_ids(desk)
    assert job_runs(desk, key) == [("manual", "succeeded")]


def test_a_harvest_that_raises_is_a_failed_run_and_a_failed_sync(
    desk: Desk, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: Any, account_id: int, **kw: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr("shelfdesk.orders.harvest.harvest_account", broken)
    code, out = main(["orders", "sync", "--no-send"]), capsys.readouterr().out
    assert code == 1 and "Back Market EU: failed: RuntimeError: disk full" in out
    key = harvest_keys(desk.ctx, [desk.bm_account])[desk.bm_account][0]
    assert job_runs(desk, key) == [("manual", "failed")]
