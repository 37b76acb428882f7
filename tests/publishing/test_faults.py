"""Faults during a publication lose nothing and send nothing twice.

Counted at the sandbox: how many batches carried each SKU, and whether the
listing ended with the values the catalog asks for.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from shelfdesk.domain import ItemOutcome, PublicationState
from tests.publishing.conftest import Shop
from tests.publishing.test_offers_engine import catalog_like_sandbox

CHANGED = {"IPH13-128-MID-GOOD": 1, "GA52-128-BLK-EXC": 2}


class Crash(BaseException):
    """Stands for the process dying: no ``except Exception`` in the engine catches it."""


def prepared(shop: Shop) -> None:
    """A first run settles the orphans; then two SKUs change stock."""
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    for sku, stock in CHANGED.items():
        shop.set_product(sku, stock=stock)


def applied_batches(shop: Shop, since: int) -> Counter[str]:
    """SKU → how many processed batches (tasks) carried it, after the first ``since`` tasks."""
    counts: Counter[str] = Counter()
    for row in shop.batch_rows()[since:]:
        counts[row["sku"]] += 1
    return counts


def lines_before(shop: Shop) -> int:
    return len(shop.batch_rows())


def assert_applied_once(shop: Shop, since: int) -> None:
    assert applied_batches(shop, since) == Counter({sku: 1 for sku in CHANGED})
    listings = shop.listings()
    assert {sku: listings[sku]["quantity"] for sku in CHANGED} == CHANGED


def test_a_500_after_the_batch_was_taken_is_reconciled_from_the_listings_not_resent(shop: Shop) -> None:
    prepared(shop)
    since = lines_before(shop)
    shop.fault("backmarket", kind="500", method="POST", path="/ws/listings", count=1, after_effect=True)
    first = shop.publish(shop.bm_channel)
    items = shop.items(first.publication_id)
    assert {items[s].outcome for s in CHANGED} == {ItemOutcome.sent}
    assert all(items[s].remote_task_id is None and items[s].batch_key for s in CHANGED)
    assert first.state is PublicationState.partial

    shop.clock.advance(300)  # the marketplace processed the task it took
    second = shop.publish(shop.bm_channel)
    assert second.recovered["published"] == len(CHANGED)
    assert second.state is PublicationState.skipped
    assert {shop.items(first.publication_id)[s].outcome for s in CHANGED} == {ItemOutcome.updated}
    assert shop.publication(first.publication_id).succeeded == len(CHANGED)
    assert_applied_once(shop, since)


def test_a_500_before_the_batch_was_taken_holds_the_items_then_sends_them_once(shop: Shop) -> None:
    prepared(shop)
    since = lines_before(shop)
    shop.fault("backmarket", kind="500", method="POST", path="/ws/listings", count=1)
    shop.publish(shop.bm_channel)

    shop.clock.advance(300)
    held = shop.publish(shop.bm_channel)  # not applied, but maybe still processing: held, not resent
    assert held.recovered["held"] == len(CHANGED)
    assert {i.sku for i in shop.items(held.publication_id).values() if i.outcome is ItemOutcome.skipped} == set(CHANGED)
    assert applied_batches(shop, since) == Counter()

    shop.clock.advance(timedelta(minutes=31))  # past the hold: the marketplace never took it
    third = shop.publish(shop.bm_channel)
    assert third.recovered["failed"] == len(CHANGED)
    assert {i.sku for i in shop.items(third.publication_id).values() if i.outcome is ItemOutcome.updated} == set(CHANGED)
    assert_applied_once(shop, since)


def test_a_429_on_the_batch_is_waited_out_and_the_batch_sent_once(shop: Shop) -> None:
    prepared(shop)
    since = lines_before(shop)
    shop.fault("backmarket", kind="429", method="POST", path="/ws/listings", count=2)
    result = shop.publish(shop.bm_channel)
    assert result.state is PublicationState.succeeded
    assert_applied_once(shop, since)


def test_a_lasting_429_puts_the_batch_back_in_the_queue(shop: Shop) -> None:
    prepared(shop)
    since = lines_before(shop)
    shop.fault("backmarket", kind="429", method="POST", path="/ws/listings", count=20)
    first = shop.publish(shop.bm_channel)
    assert first.state is PublicationState.partial and "stopped sending" in (first.error or "")
    items = shop.items(first.publication_id)
    assert {items[s].outcome for s in CHANGED} == {ItemOutcome.queued}
    assert all(items[s].sent_at is None for s in CHANGED)
    assert shop.publication(first.publication_id).sent == 0
    shop.bm.delete("/_sandbox/faults")
    shop.clock.advance(60)
    shop.publish(shop.bm_channel)
    assert_applied_once(shop, since)


@pytest.mark.parametrize("point", ["answered", "posted"])
def test_a_crash_between_the_marketplace_answer_and_the_local_commit_sends_nothing_twice(shop: Shop, point: str) -> None:
    prepared(shop)
    since = lines_before(shop)

    def crash(name: str) -> None:
        if name == point:
            raise Crash(name)

    with pytest.raises(Crash):
        shop.publish(shop.bm_channel, checkpoint=crash)
    shop.clock.advance(300)
    after = shop.publish(shop.bm_channel)

    assert after.recovered["interrupted"] == 1
    assert after.recovered["published"] == len(CHANGED)
    assert after.state is PublicationState.skipped  # nothing left to send: the crashed run's batch was applied
    assert_applied_once(shop, since)
    from sqlalchemy import select

    from shelfdesk.db.models import Publication

    with shop.ctx.read_session() as session:
        states = [p.state for p in session.execute(select(Publication).order_by(Publication.id)).scalars()]
    assert states[-2:] == [PublicationState.interrupted, PublicationState.skipped]


def test_cancelling_between_batches_leaves_the_rest_queued(shop: Shop) -> None:
    listings = catalog_like_sandbox(shop, tuple(sorted(shop.listings())[:6]))
    shop.set_channel(shop.bm_channel, settings={"batch_lines": 2})
    for sku, listing in listings.items():
        shop.set_product(sku, price=Decimal(listing["price"]) + 1)
    batches_seen: list[int] = []

    def progress(p) -> None:  # noqa: ANN001
        if p.phase == "sending":
            batches_seen.append(p.done)

    result = shop.publish(shop.bm_channel, progress=progress, should_cancel=lambda: len(batches_seen) >= 1)
    assert result.state is PublicationState.canceled
    pub = shop.publication(result.publication_id)
    assert (pub.sent, pub.queued) == (2, result.plan.wanted - 2)
    assert len(shop.batches()) == 1


def test_a_second_real_run_of_a_channel_is_refused_while_one_runs_in_a_live_process(shop: Shop) -> None:
    from shelfdesk.db.models import Publication
    from shelfdesk.publishing.errors import PublishError

    catalog_like_sandbox(shop)
    now = shop.clock.now()
    with shop.ctx.write_session() as session:  # a run held by this host's pid 1 (alive), and one by a dead pid
        for pid in (1, 2**22 + 12345):
            session.add(
                Publication(
                    channel_id=shop.bm_channel,
                    kind="offers",
                    mode="update",
                    state="running",
                    holder=f"{__import__('socket').gethostname()}:{pid}",
                    started_at=now,
                )
            )
    with pytest.raises(PublishError, match=r"publication #1 of Refurb Paris / Back Market France is running"):
        shop.publish(shop.bm_channel)
    assert shop.publication(2).state is PublicationState.interrupted  # the dead holder's run
    assert shop.publish(shop.bm_channel, dry_run=True).state is PublicationState.dry_run  # planning is harmless
