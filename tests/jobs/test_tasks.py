"""The registered jobs do the services' real work against the sandboxes, and failures become alerts.

What reached a marketplace is read from the sandbox's own request log.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from shelfdesk.domain import ActionState, JobOutcome
from shelfdesk.jobs import registry
from shelfdesk.jobs.runner import MANUAL, JobRunner
from shelfdesk.jobs.schedules import ensure_schedules, list_schedules
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN as BM_TOKEN
from shelfdesk.jobs.alerts import Severity, list_alerts
from tests.orders.conftest import Desk, desk, sandboxes  # noqa: F401  (fixtures)


def _run(desk: Desk, key: str, trigger: str = "schedule"):  # type: ignore[no-untyped-def]
    return asyncio.run(JobRunner(desk.ctx, role="test").run(key, trigger=trigger))


def test_real_jobs_are_registered_with_their_defaults() -> None:
    jobs = registry.load_jobs()
    assert {"harvest", "outbox", "tokens", "retention"} <= set(jobs)
    assert (jobs["harvest"].interval, jobs["harvest"].scope) == (60, registry.JobScope.account)
    assert (jobs["outbox"].interval, jobs["outbox"].scope) == (5, registry.JobScope.workspace)
    assert registry.load_problems() == []


def test_harvest_job_stores_new_orders_and_a_revoked_token_raises_an_alert(desk: Desk) -> None:
    ensure_schedules(desk.ctx)
    keys = {s.key for s in list_schedules(desk.ctx)}
    harvest_bm = f"harvest:{desk.bm_channel}"
    assert {harvest_bm, f"harvest:{desk.lbc_channel}", "outbox", "retention"} <= keys

    first = _run(desk, harvest_bm)  # the sandbox's seeded history
    assert first.outcome is JobOutcome.succeeded, first.error
    desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="paid")
    desk.new_orders("backmarket", ["GA52-128-BLK-EXC"], fate="paid")
    assert not _run(desk, harvest_bm).ran  # not due yet
    desk.clock.advance(60)
    report = _run(desk, harvest_bm)
    assert report.outcome is JobOutcome.succeeded, report.error
    assert report.counts["orders_new"] == 2 and report.counts["orders_fetched"] >= 2
    assert len(desk.requests("backmarket", method="GET", path="/ws/orders")) == 2  # one listing per run

    # The merchant's token is revoked: the next harvest (one interval later) fails and raises an alert.
    assert desk.bm.request("DELETE", "/_sandbox/tokens", json={"token": BM_TOKEN}).status_code == 200
    desk.clock.advance(60)
    failed = _run(desk, harvest_bm)
    assert failed.outcome is JobOutcome.failed and "Back Market EU" in failed.error
    alerts = [a for a in list_alerts(desk.ctx) if a.kind == "token_rejected"]
    assert [(a.severity, a.target_type, a.target_id) for a in alerts] == [(Severity.critical, "account", desk.bm_account)]


def test_outbox_job_sends_due_actions_and_has_nothing_to_do_after(desk: Desk) -> None:
    from shelfdesk.orders.actions import enqueue_action

    [order] = desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid")
    desk.harvest()
    enqueue_action(desk.ctx, order["id"], "confirm-availability")
    ensure_schedules(desk.ctx)
    sent = _run(desk, "outbox")
    assert sent.outcome is JobOutcome.succeeded, sent.error
    assert sum(v for k, v in sent.counts.items() if k.startswith("actions_")) == 1
    assert set(sent.counts) <= {f"actions_{s.value}" for s in ActionState}
    assert len(desk.effects("leboncoin")) == 1
    desk.clock.advance(5)
    idle = _run(desk, "outbox")
    assert idle.outcome is JobOutcome.skipped and idle.counts == {}


def test_token_check_job_records_expiry_and_rejections(desk: Desk) -> None:
    from shelfdesk.db.models import MarketplaceAccount

    ensure_schedules(desk.ctx)
    report = _run(desk, "tokens")
    assert report.outcome is JobOutcome.succeeded, report.error
    assert report.counts == {"accounts_checked": 2, "tokens_valid": 2, "tokens_rejected": 0, "unreachable": 0}
    with desk.ctx.read_session() as session:
        lbc = session.get(MarketplaceAccount, desk.lbc_account)
        assert lbc.token_expires_at is not None and lbc.token_expires_at > desk.clock.now() + timedelta(days=300)
    assert desk.bm.request("DELETE", "/_sandbox/tokens", json={"token": BM_TOKEN}).status_code == 200
    report = _run(desk, "tokens", trigger=MANUAL)
    assert report.counts["tokens_rejected"] == 1 and report.outcome is JobOutcome.succeeded
    assert [a.target_id for a in list_alerts(desk.ctx) if a.kind == "token_rejected"] == [desk.bm_account]


def test_token_check_fails_when_no_marketplace_answers(desk: Desk) -> None:
    from sqlalchemy import update

    from shelfdesk.db.models import MarketplaceAccount

    with desk.ctx.write_session() as session:  # nothing listens on port 9 of loopback
        session.execute(update(MarketplaceAccount).values(base_url="http://127.0.0.1:9"))
    ensure_schedules(desk.ctx)
    report = _run(desk, "tokens")
    assert report.outcome is JobOutcome.failed and report.error.startswith("JobFailed: no marketplace could be reached")
    assert "Back Market EU" in report.error and "Leboncoin Pro" in report.error
    assert not [a for a in list_alerts(desk.ctx) if a.kind == "token_rejected"]  # unreachable is not rejected
