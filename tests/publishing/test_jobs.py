"""The scheduler runs the offers feed as a job: a stock change reaches the sandbox as a quantity update."""

from __future__ import annotations

import asyncio

from shelfdesk.domain import JobOutcome
from shelfdesk.jobs import registry
from shelfdesk.jobs.runner import JobRunner
from shelfdesk.jobs.schedules import ensure_schedules, list_schedules
from tests.publishing.conftest import Shop
from tests.publishing.test_offers_engine import catalog_like_sandbox


def test_publishing_jobs_are_registered_and_the_offers_job_publishes(shop: Shop) -> None:
    jobs = registry.load_jobs()
    assert {"offers", "products", "repricer"} <= set(jobs) and registry.load_problems() == []
    catalog_like_sandbox(shop)
    ensure_schedules(shop.ctx)
    keys = {s.key for s in list_schedules(shop.ctx)}
    assert {f"offers:{shop.bm_channel}", f"products:{shop.bm_channel}"} <= keys
    assert f"repricer:{shop.bm_channel}" not in keys  # the repricer is off
    runner = JobRunner(shop.ctx, role="test")
    first = asyncio.run(runner.run(f"offers:{shop.bm_channel}"))
    assert first.outcome is JobOutcome.succeeded, first.error
    shop.set_product("IPH12-64-BLK-VG", stock=7)
    batches = len(shop.batches())
    shop.clock.advance(301)  # the next offers run is due (every 5 minutes)
    second = asyncio.run(runner.run(f"offers:{shop.bm_channel}"))
    assert second.outcome is JobOutcome.succeeded and second.counts == {
        "items_sent": 1,
        "items_published": 1,
        "items_failed": 0,
        "items_invalid": 0,
        "items_queued": 0,
    }
    new_rows = [r for b in shop.batches()[batches:] for r in __import__("csv").DictReader(__import__("io").StringIO(b["catalog"]))]
    assert new_rows == [{"sku": "IPH12-64-BLK-VG", "quantity": "7"}]
    shop.clock.advance(301)
    third = asyncio.run(runner.run(f"offers:{shop.bm_channel}"))
    assert third.outcome is JobOutcome.skipped


def test_the_scheduler_does_not_publish_a_channel_whose_publication_is_not_activated(shop: Shop) -> None:
    """Publication needs the three green lights and the operator's activation: until then its jobs send nothing."""
    from shelfdesk.publishing.jobs import publish_offers, publish_products
    from shelfdesk.publishing.triage import list_publications

    catalog_like_sandbox(shop)
    shop.set_channel(shop.bm_channel, activated_at=None)
    posts = len(shop.requests("backmarket", method="POST"))
    assert publish_offers(shop.ctx, shop.bm_channel) == {} and publish_products(shop.ctx, shop.bm_channel) == {}
    assert len(shop.requests("backmarket", method="POST")) == posts
    assert list_publications(shop.ctx, channel_id=shop.bm_channel) == []


def test_a_scheduled_run_during_an_operators_run_is_skipped_not_failed(shop: Shop) -> None:
    """The first scheduled offers run, while a manual run was sending, was recorded as failed."""
    import threading

    catalog_like_sandbox(shop)
    ensure_schedules(shop.ctx)
    started, release = threading.Event(), threading.Event()

    def checkpoint(name: str) -> None:
        if name == "task-recorded" and not started.is_set():
            started.set()
            release.wait(10)  # the operator's run is held mid-way

    manual = threading.Thread(target=lambda: shop.publish(shop.bm_channel, "offers", checkpoint=checkpoint))
    manual.start()
    try:
        assert started.wait(10)
        report = asyncio.run(JobRunner(shop.ctx, role="test").run(f"offers:{shop.bm_channel}"))
    finally:
        release.set()
        manual.join(10)
    assert report.outcome is JobOutcome.skipped and report.error is None, report
