"""The deadline clock: business days, holidays, cut-off hours, zones, DST, and each marketplace rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from shelfdesk.deadlines import (
    Due,
    DueKind,
    OrderFacts,
    TokenFacts,
    Urgency,
    WorkingTime,
    check_cutoff_hour,
    due_for_action,
    due_for_line,
    due_for_order,
    due_for_token,
    format_left,
    format_working_days,
    most_urgent_first,
    parse_working_days,
)
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus as S

UTC = UTC
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
countries = st.sampled_from(["FR", "DE", "GB", "ES", "US", "JP", "AU", "IT"])
cutoffs = st.integers(min_value=0, max_value=24)


def bm(status: S = S.InProgress, **kw) -> OrderFacts:
    return OrderFacts(
        id=1,
        reference="BM-1",
        marketplace=Marketplace.backmarket,
        status=status,
        purchased_at=kw.pop("purchased_at", datetime(2026, 3, 2, 8, tzinfo=UTC)),
        **kw,
    )


def lbc(status: S = S.New, **kw) -> OrderFacts:
    return OrderFacts(
        id=2,
        reference="LBC-2",
        marketplace=Marketplace.leboncoin,
        status=status,
        purchased_at=kw.pop("purchased_at", datetime(2026, 3, 2, 8, tzinfo=UTC)),
        **kw,
    )


@settings(max_examples=200, deadline=None)
@given(instants, countries, cutoffs)
def test_a_dispatch_day_is_a_business_day_never_before_acceptance(at, country, cutoff):
    working = WorkingTime(country, cutoff)
    day = working.dispatch_day(at)
    local = at.astimezone(working.zone)
    assert working.is_business_day(day)
    assert day >= local.date()
    # Every day skipped between acceptance and dispatch is a day off (weekend or public holiday).
    skipped = [local.date() + timedelta(days=i) for i in range(1, (day - local.date()).days)]
    assert not any(working.is_business_day(d) for d in skipped)
    if working.is_business_day(local.date()) and local.hour < cutoff:
        assert day == local.date()
    else:
        assert day > local.date()


@settings(max_examples=200, deadline=None)
@given(instants, countries)
def test_ship_by_is_the_end_of_the_local_dispatch_day_across_dst(at, country):
    working = WorkingTime(country)
    due = due_for_order(bm(accepted_at=at, purchased_at=at - timedelta(hours=1)), working)[0]
    assert due.kind is DueKind.ship and due.source == "rule"
    local_end = due.due_at.astimezone(working.zone)
    assert (local_end.hour, local_end.minute) == (0, 0)  # local midnight, whatever the UTC offset that day
    assert local_end.date() - timedelta(days=1) == working.dispatch_day(at)
    assert due.due_at > at


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), countries)
def test_weekends_and_public_holidays_are_never_business_days(day, country):
    import holidays

    working = WorkingTime(country)
    if day.weekday() >= 5 or day in holidays.country_holidays(country, years=day.year):
        assert not working.is_business_day(day)
    else:
        assert working.is_business_day(day)


def test_backmarket_rule_before_and_after_the_cutoff_and_over_a_holiday():
    paris = WorkingTime("FR", 13)
    # Monday 2 March 2026, 10:00 Paris (09:00 UTC): leaves that day, due by local midnight (23:00 UTC).
    assert due_for_order(bm(accepted_at=datetime(2026, 3, 2, 9, tzinfo=UTC)), paris)[0].due_at == datetime(2026, 3, 2, 23, tzinfo=UTC)
    # 14:00 Paris: after the cut-off, leaves Tuesday.
    assert due_for_order(bm(accepted_at=datetime(2026, 3, 2, 13, tzinfo=UTC)), paris)[0].due_at == datetime(2026, 3, 3, 23, tzinfo=UTC)
    # Thursday 30 April after the cut-off: Friday 1 May is Labour Day, the weekend follows: Monday 4 May.
    assert due_for_order(bm(accepted_at=datetime(2026, 4, 30, 15, tzinfo=UTC)), paris)[0].due_at == datetime(
        2026, 5, 4, 22, tzinfo=UTC
    )  # CEST: local midnight is 22:00 UTC
    # A merchant working Saturdays ships a Friday-afternoon order on Saturday.
    six_days = WorkingTime("FR", 13, frozenset(range(6)))
    assert due_for_order(bm(accepted_at=datetime(2026, 3, 6, 15, tzinfo=UTC)), six_days)[0].due_at == datetime(2026, 3, 7, 23, tzinfo=UTC)


def test_backmarket_expected_dispatch_date_wins_and_is_read_in_local_time():
    paris = WorkingTime("FR")
    order = bm(payload={"expected_dispatch_date": "2026-07-01T09:35:24"}, accepted_at=datetime(2026, 6, 30, tzinfo=UTC))
    due = due_for_order(order, paris)[0]
    assert (due.due_at, due.source) == (datetime(2026, 7, 1, 7, 35, 24, tzinfo=UTC), "marketplace")
    zoned = bm(payload={"expected_dispatch_date": "2026-07-01T09:35:24Z"})
    assert due_for_order(zoned, paris)[0].due_at == datetime(2026, 7, 1, 9, 35, 24, tzinfo=UTC)


def test_backmarket_new_order_is_due_for_acceptance_with_its_hold_reason():
    due = due_for_order(bm(S.New, purchased_at=datetime(2026, 3, 2, 9, tzinfo=UTC), hold_reason="stock short: SKU-1"), WorkingTime("FR"))[0]
    assert (due.kind, due.due_at, due.note) == (DueKind.accept, datetime(2026, 3, 2, 23, tzinfo=UTC), "stock short: SKU-1")
    assert due_for_order(bm(S.Shipped), WorkingTime("FR")) == []


def test_leboncoin_availability_within_3_days_and_shipping_within_72_hours():
    bought = datetime(2026, 3, 6, 18, tzinfo=UTC)
    assert due_for_order(lbc(purchased_at=bought), WorkingTime("FR"))[0].due_at == bought + timedelta(days=3)
    accepted = bought + timedelta(hours=5)
    due = due_for_order(lbc(S.InProgress, purchased_at=bought, accepted_at=accepted), WorkingTime("FR"))[0]
    assert (due.kind, due.due_at) == (DueKind.confirm_shipping, accepted + timedelta(hours=72))
    given_date = lbc(payload={"availability_deadline": "2026-03-08T12:00:00+00:00"}, purchased_at=bought)
    assert due_for_order(given_date, WorkingTime("FR"))[0].due_at == datetime(2026, 3, 8, 12, tzinfo=UTC)


def test_leboncoin_token_lives_365_days_unless_its_expiry_is_known():
    issued = datetime(2026, 1, 10, tzinfo=UTC)
    assert due_for_token(TokenFacts(1, "lbc", Marketplace.leboncoin, None, issued))[0].due_at == issued + timedelta(days=365)
    known = datetime(2026, 2, 1, tzinfo=UTC)
    assert due_for_token(TokenFacts(1, "lbc", Marketplace.leboncoin, known, issued))[0].due_at == known
    assert due_for_token(TokenFacts(2, "bm", Marketplace.backmarket, None)) == []


def test_a_pending_action_and_a_line_race_their_orders_deadline():
    order = bm(accepted_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    action = due_for_action(7, ActionKind.ship, order, WorkingTime("FR"))[0]
    assert (action.kind, action.target_id, action.order_id, action.due_at) == (
        DueKind.send_action,
        7,
        1,
        datetime(2026, 3, 2, 23, tzinfo=UTC),
    )
    assert due_for_action(8, ActionKind.upload_invoice, order, WorkingTime("FR")) == []
    line = due_for_line(order, 11, S.InProgress, WorkingTime("FR"))[0]
    assert (line.target_type, line.target_id, line.order_id) == ("line", 11, 1)
    assert due_for_line(order, 12, S.Canceled, WorkingTime("FR")) == []


def test_urgency_order_and_time_left():
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    items = [Due(DueKind.ship, now + timedelta(hours=h), "", "order", i, f"O{i}", "rule") for i, h in enumerate([30, -1, 0.5, 3, 10])]
    ordered = most_urgent_first(items)
    assert [d.urgency(now) for d in ordered] == [Urgency.overdue, Urgency.hour, Urgency.soon, Urgency.today, Urgency.later]
    assert [format_left(d.left(now)) for d in ordered] == ["late 1 h 00", "30 min", "3 h 00", "10 h 00", "1 d 6 h"]


def test_channel_settings_pick_cutoff_and_working_days_and_ignore_nonsense():
    assert WorkingTime.for_channel("de", {"deadlines": {"cutoff_hour": 15, "working_days": [0, 1, 2, 3, 4, 5]}}) == WorkingTime(
        "DE", 15, frozenset(range(6))
    )
    assert WorkingTime.for_channel(None, {"deadlines": {"cutoff_hour": "noon", "working_days": "all"}}) == WorkingTime()


def test_a_store_setting_is_inherited_and_a_channel_overrides_it_key_by_key():
    store = {"deadlines": {"cutoff_hour": 10, "working_days": [0, 1, 2, 3, 4, 5]}}
    assert WorkingTime.for_channel("FR", None, store) == WorkingTime("FR", 10, frozenset(range(6)))
    assert WorkingTime.for_channel("FR", {"deadlines": {"cutoff_hour": 16}}, store) == WorkingTime("FR", 16, frozenset(range(6)))
    assert WorkingTime.for_channel("FR", {"other": 1}, {"deadlines": "nonsense"}) == WorkingTime("FR")


@given(st.sets(st.integers(min_value=0, max_value=6), min_size=1))
def test_working_days_read_back_what_they_write(days):
    assert parse_working_days(format_working_days(days)) == sorted(days)


def test_working_days_and_cutoff_refuse_what_they_cannot_read():
    assert parse_working_days("Monday-Friday, sun") == [0, 1, 2, 3, 4, 6]
    for bad in ("", "fri-mon", "weekdays", "mon-"):
        with pytest.raises(ValueError):
            parse_working_days(bad)
    assert (check_cutoff_hour("13"), check_cutoff_hour(" 9h "), check_cutoff_hour(24)) == (13, 9, 24)
    for bad in ("25", "-1", "1pm", ""):
        with pytest.raises(ValueError, match="cut-off hour"):
            check_cutoff_hour(bad)


@settings(max_examples=200, deadline=None)
@given(instants, countries, cutoffs, st.sets(st.integers(min_value=0, max_value=6), min_size=1))
def test_the_dispatch_day_is_a_working_day_before_the_cutoff_else_the_next(at, country, cutoff, days):
    """Across zones and DST: the same local day when that day works and the local time is before the cut-off."""
    working = WorkingTime(country, cutoff, frozenset(days))
    local = at.astimezone(working.zone)
    day = working.dispatch_day(at)
    assert day.weekday() in days and working.is_business_day(day)
    if working.is_business_day(local.date()) and local.hour < cutoff:
        assert day == local.date()
    else:
        assert day > local.date() and all(
            not working.is_business_day(local.date() + timedelta(n)) for n in range(1, (day - local.date()).days)
        )


@settings(max_examples=300, deadline=None)
@given(
    now=instants,
    country=countries,
    cutoff=cutoffs,
    days=st.frozensets(st.integers(min_value=0, max_value=6), min_size=1),
    before=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=40)),
    marketplace=st.sampled_from(list(Marketplace)),
    status=st.sampled_from([S.New, S.InProgress]),
)
def test_every_rule_deadline_has_passed_for_an_order_bought_or_accepted_before_the_bound(
    now: datetime, country: str, cutoff: int, days: frozenset[int], before: timedelta, marketplace: Marketplace, status: S
) -> None:
    """What lets ``status`` count old open orders as overdue from an index: the bound is never too late."""
    working = WorkingTime(country, cutoff, days)
    at = working.rule_passed_before(now) - before
    facts = OrderFacts(1, "X", marketplace, status, purchased_at=at, accepted_at=at if status is S.InProgress else None)
    (due,) = due_for_order(facts, working)
    assert due.urgency(now) is Urgency.overdue


def test_the_rule_bound_is_the_cut_off_of_the_last_business_day_that_ended() -> None:
    working = WorkingTime("FR")  # Monday to Friday, 13:00 in Paris
    monday_evening = datetime(2026, 3, 2, 20, tzinfo=UTC)
    assert working.rule_passed_before(monday_evening) == datetime(2026, 2, 27, 12, tzinfo=UTC)  # Friday 13:00 Paris
    wednesday = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert working.rule_passed_before(wednesday) == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)  # Leboncoin's 72 h are shorter
