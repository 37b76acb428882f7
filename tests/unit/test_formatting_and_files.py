"""The one amount/time formatter module, the one JSON value converters and the one atomic file write."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from shelfdesk.channels.parsing import int_or_none, text_or_none, to_decimal
from shelfdesk.files import temp_pattern, write_atomic
from shelfdesk.formatting import amount_text, iso, money, money_with_currency, short_when, when
from shelfdesk.jsonable import json_default


def test_amounts() -> None:
    assert money(Decimal("1234.5")) == "1,234.50" and money(Decimal("1234.5"), "EUR") == "1,234.50"
    assert money(Decimal("9"), "GBP") == "9.00 GBP" and money(None) == "—"
    assert money_with_currency(Decimal("1234.5"), "EUR") == "1,234.50 EUR" and money_with_currency(Decimal(1), None) == "1.00"
    assert amount_text(Decimal("3.456")) == "3.46" and amount_text(None) is None


def test_times() -> None:
    at = datetime(2026, 5, 4, 9, 30, 12, tzinfo=UTC)
    assert when(at) == "2026-05-04 09:30" and when(None) == "—"
    assert short_when(at) == "05-04 09:30" and short_when(None) == "—"
    assert iso(at) == "2026-05-04T09:30:12+00:00" and iso(None) is None
    assert json.loads(json.dumps({"at": at, "amount": Decimal("1.10")}, default=json_default)) == {
        "at": "2026-05-04T09:30:12+00:00",
        "amount": "1.10",
    }


def test_json_values_from_a_marketplace() -> None:
    assert to_decimal({"amount": "12.30", "currency": "EUR"}) == Decimal("12.30")
    assert to_decimal(True) is None and to_decimal("") is None and to_decimal("abc") is None
    assert int_or_none("12") == 12 and int_or_none(None) is None and int_or_none("1.5") is None
    assert text_or_none("  x ") == "x" and text_or_none("  ") is None and text_or_none(None) is None


def test_write_atomic_replaces_the_whole_file_with_the_mode_asked(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "secrets.toml"
    write_atomic(target, "a = 1\n", mode=0o600)
    write_atomic(target, b"b = 2\n", mode=0o600, durable=True)
    assert target.read_text() == "b = 2\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert list(target.parent.glob(temp_pattern(target))) == []


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]  # the wrong type on purpose: the write fails midway
    assert target.read_text() == "old" and list(tmp_path.glob(temp_pattern(target))) == []
