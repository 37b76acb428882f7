"""The injectable clock and GTIN check digits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from shelfdesk.catalog.gtin import gtin_check_digit, is_valid_gtin, make_ean13
from shelfdesk.clock import FakeClock, ensure_utc


async def test_fake_clock_sleep_moves_time_without_waiting(clock: FakeClock) -> None:
    start, mono = clock.now(), clock.monotonic()
    await clock.sleep(10)
    clock.sleep_sync(5)
    assert clock.now() - start == timedelta(seconds=15)
    assert clock.monotonic() - mono == 15
    assert clock.sleeps == [10, 5]


def test_fake_clock_refuses_naive_and_backwards() -> None:
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))
    clock = FakeClock()
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_ensure_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert ensure_utc(datetime(2026, 1, 1, 10, tzinfo=paris)).hour == 9
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1))


@pytest.mark.parametrize("code", ["4006381333931", "3017620422003", "73513537", "012345678905"])
def test_known_gtins_are_valid(code: str) -> None:
    assert is_valid_gtin(code)


@pytest.mark.parametrize("code", ["4006381333932", "", None, "40063813339a1", "123"])
def test_bad_gtins_are_refused(code: str | None) -> None:
    assert not is_valid_gtin(code)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_make_ean13_always_valid_and_one_digit_change_is_caught(body: str) -> None:
    ean = make_ean13(body)
    assert is_valid_gtin(ean)
    wrong = ean[:-1] + str((int(ean[-1]) + 1) % 10)
    assert not is_valid_gtin(wrong)
    assert gtin_check_digit(body) == int(ean[-1])
