"""Deadline escalation: each threshold fires once per deadline, across sweeps, restarts and two processes at once."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext, open_context
from shelfdesk.domain import NormalizedStatus as S
from shelfdesk.jobs.escalation import escalate
from shelfdesk.webhooks import delivery, subscriptions
from shelfdesk.webhooks.signing import verify
from tests.due_data import seed_due
from tests.webhooks.conftest import Receiver, receiver  # noqa: F401  (the loopback receiver fixture)

UTC = timezone.utc


def _fired(ctx: AppContext) -> dict[str, int | None]:
    from shelfdesk.db.models import DeadlineWatch as W

    with ctx.read_session() as session:
        return dict(session.execute(select(W.reference, W.alerted_seconds)).all())  # type: ignore[arg-type]


def _events(ctx: AppContext) -> list[tuple[str, int]]:
    from shelfdesk.db.models import WebhookEvent as E

    with ctx.read_session() as session:
        payloads = session.execute(select(E.payload).where(E.type == "deadline.approaching").order_by(E.id)).scalars().all()
    return [(p["data"]["deadline"]["reference"], p["data"]["threshold"]["seconds"]) for p in payloads]


def test_each_threshold_fires_once_the_tightest_first_seen_and_again_after_a_restart_never(
    ctx: AppContext, clock: FakeClock, receiver: Receiver
) -> None:
    sub, secret = subscriptions.add_subscription(ctx, "pager", receiver.url, "deadline.approaching")
    seed_due(ctx)
    # Monday 09:30 UTC: BM-LATE is late (its tightest threshold, 1 h, fires), LBC-1 is due in 2 h 30 (4 h).
    assert escalate(ctx)["thresholds_fired"] == 2
    assert _fired(ctx) == {"BM-LATE": 3600, "LBC-1": 14400, "BM-HELD": None, "BM-QUEUED": None, "Leboncoin Pro": None}
    assert escalate(ctx).get("thresholds_fired") is None  # the same minute, a minute later: nothing new
    clock.advance(timedelta(minutes=95))  # 11:05: LBC-1 has 55 min left
    assert escalate(ctx)["thresholds_fired"] == 1
    clock.set(datetime(2026, 3, 2, 19, 30, tzinfo=UTC))  # 3 h 30 before the end of Monday in Paris
    assert escalate(ctx)["thresholds_fired"] == 2
    restarted = open_context(ctx.paths, clock=clock)
    try:
        assert escalate(restarted).get("thresholds_fired") is None
    finally:
        restarted.close()
    assert sorted(_events(ctx)) == sorted([("BM-LATE", 3600), ("LBC-1", 14400), ("LBC-1", 3600), ("BM-HELD", 14400), ("BM-QUEUED", 14400)])

    report = delivery.deliver_pending(ctx, rng=random.Random(7))
    assert report.delivered == 5 and len(receiver.received) == 5
    held = next(r for r in receiver.received if r.json["data"]["deadline"]["reference"] == "BM-HELD")
    assert held.json["type"] == "deadline.approaching"
    assert held.json["data"] == {
        "deadline": {
            "kind": "accept",
            "reference": "BM-HELD",
            "target_type": "order",
            "target_id": held.json["data"]["deadline"]["order_id"],
            "order_id": held.json["data"]["deadline"]["order_id"],
            "due_at": "2026-03-02T23:00:00+00:00",
            "seconds_left": 3 * 3600 + 30 * 60,
            "overdue": False,
            "source": "rule",
            "consequence": "Back Market counts a late shipment and may cancel the order",
            "note": "stock short: SKU1 (0 of 1)",
        },
        "threshold": {"seconds": 14400, "text": "4 h"},
    }
    headers = {k.lower(): v for k, v in held.headers.items()}
    now = clock.now().timestamp()
    assert verify(secret, headers["shelfdesk-timestamp"], headers["shelfdesk-signature"], held.body, now=now)
    assert not verify(
        secret, headers["shelfdesk-timestamp"], headers["shelfdesk-signature"], held.body.replace(b"BM-HELD", b"BM-HELT"), now=now
    )


def test_a_deadline_done_leaves_the_watch_and_one_that_moves_later_fires_again(ctx: AppContext, clock: FakeClock) -> None:
    from shelfdesk.db.models import Order, OrderAction
    from shelfdesk.domain import ActionKind, ActionState

    ids = seed_due(ctx)
    escalate(ctx)
    now = clock.now()
    with ctx.write_session() as session:  # the late order ships; Leboncoin's sale is confirmed now: shipping is due 72 h on
        session.execute(update(Order).where(Order.id == ids["BM-LATE"]).values(status=S.Shipped))
        session.execute(update(Order).where(Order.id == ids["LBC-1"]).values(status=S.InProgress))
        session.add(
            OrderAction(
                order_id=ids["LBC-1"],
                kind=ActionKind.confirm_availability,
                state=ActionState.confirmed,
                idempotency_key="ca-1",
                confirmed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    counts = escalate(ctx)
    assert counts["deadlines_done"] == 1 and counts["deadlines_moved"] == 1 and "thresholds_fired" not in counts
    assert "BM-LATE" not in _fired(ctx) and _fired(ctx)["LBC-1"] is None  # a new deadline, nothing fired for it yet
    clock.set(now + timedelta(hours=69))  # 3 h before the 72 h are up
    escalate(ctx)
    assert _fired(ctx)["LBC-1"] == 14400


def test_two_processes_sweeping_at_once_fire_each_threshold_once(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    from shelfdesk.db.models import WebhookEvent

    subscriptions.add_subscription(ctx, "pager", receiver.url, "deadline.approaching")
    seed_due(ctx)
    contexts = [open_context(ctx.paths, clock=clock) for _ in range(2)]
    start = threading.Barrier(2)
    results: list[Any] = []

    def sweep(c: AppContext) -> None:
        start.wait()
        try:
            results.append(escalate(c).get("thresholds_fired", 0))
        except Exception as exc:  # noqa: BLE001 - reported below with the other's result
            results.append(exc)

    try:
        threads = [threading.Thread(target=sweep, args=(c,)) for c in contexts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for c in contexts:
            c.close()
    assert sorted(results) == [0, 2]  # one of them fired both, the other found them fired
    with ctx.read_session() as session:
        assert session.execute(select(func.count()).select_from(WebhookEvent)).scalar_one() == 2
    assert len(_events(ctx)) == 2


def test_thresholds_are_read_from_the_workspace_settings(ctx: AppContext, clock: FakeClock) -> None:
    import pytest

    from shelfdesk.services.deadline_watch import DEFAULT_THRESHOLDS, parse_thresholds, thresholds

    assert parse_thresholds([1, 24, 0.5]) == (timedelta(hours=24), timedelta(hours=1), timedelta(minutes=30))
    for bad in ([], [0], ["4"], [True], -1):
        with pytest.raises(ValueError, match="deadline_alert_hours"):
            parse_thresholds(bad)
    ctx.settings.extra["deadline_alert_hours"] = [24]
    seed_due(ctx)
    assert thresholds(ctx) == (timedelta(hours=24),)
    escalate(ctx)
    assert _fired(ctx) == {"BM-LATE": 86400, "LBC-1": 86400, "BM-HELD": 86400, "BM-QUEUED": 86400, "Leboncoin Pro": None}
    ctx.settings.extra["deadline_alert_hours"] = "soon"
    assert thresholds(ctx) == DEFAULT_THRESHOLDS  # logged, and the defaults apply


def test_an_order_its_queued_action_and_another_target_on_the_same_order_are_watched_apart() -> None:
    from shelfdesk.deadlines import Due, DueKind
    from shelfdesk.services.deadline_watch import crossed, subject

    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    ship = Due(DueKind.ship, at, "", "order", 7, "BM-7", "rule", 7)
    queued = Due(DueKind.send_action, at, "", "action", 31, "BM-7", "rule", 7)
    other = Due(DueKind.renew_token, at, "", "account", 7, "Back Market EU", "marketplace")
    case = Due(DueKind.ship, at, "", "case", 4, "case 4", "rule", 7)  # a target of its own that names its order
    assert subject(ship) == subject(queued) == ("order", 7)
    assert (subject(other), subject(case)) == (("account", 7), ("case", 4))
    limits = (timedelta(hours=4), timedelta(hours=1))
    assert crossed(at, at - timedelta(hours=5), limits) is None
    assert crossed(at, at - timedelta(hours=4), limits) == timedelta(hours=4)
    assert crossed(at, at - timedelta(minutes=59), limits) == timedelta(hours=1)
    assert crossed(at, at + timedelta(days=3), limits) == timedelta(hours=1)  # late: the tightest
