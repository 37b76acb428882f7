"""Status normalization tables: every raw state has a row, unknown -> Undefined, missing -> NotProvided."""

from __future__ import annotations

import pytest

from shelfdesk.channels.statuses import BACKMARKET_LINE, BACKMARKET_ORDER, LEBONCOIN_ORDER, normalize_backmarket_order
from shelfdesk.domain import NormalizedStatus as S

BACKMARKET_ORDER_CASES = [
    (0, S.New),
    (10, S.New),
    (1, S.New),
    (3, S.InProgress),
    (8, S.Canceled),
    (9, S.Shipped),
    ("3", S.InProgress),  # states may come as strings
    (42, S.Undefined),
    ("paid", S.Undefined),
    (None, S.NotProvided),
    ("", S.NotProvided),
]

BACKMARKET_LINE_CASES = [
    (0, S.New),
    (1, S.New),
    (2, S.InProgress),
    (3, S.Shipped),
    (4, S.Canceled),
    (5, S.Canceled),
    (6, S.Closed),
    (7, S.Canceled),
    (8, S.New),
    (9, S.New),
    (11, S.Undefined),
    (-1, S.Undefined),
    (None, S.NotProvided),
]


@pytest.mark.parametrize(("raw", "expected"), BACKMARKET_ORDER_CASES)
def test_backmarket_order_states(raw: object, expected: S) -> None:
    assert BACKMARKET_ORDER.normalize(raw) is expected


@pytest.mark.parametrize(("raw", "expected"), BACKMARKET_LINE_CASES)
def test_backmarket_line_states(raw: object, expected: S) -> None:
    assert BACKMARKET_LINE.normalize(raw) is expected


def test_tables_cover_every_documented_state() -> None:
    assert set(BACKMARKET_ORDER.rows) == {"0", "1", "3", "8", "9", "10"}
    assert set(BACKMARKET_LINE.rows) == {str(n) for n in range(10)}
    assert BACKMARKET_LINE.meaning(6).startswith("refunded after shipping")
    assert BACKMARKET_ORDER.meaning(77) == "unknown"


@pytest.mark.parametrize(
    ("state", "lines", "expected"),
    [
        (9, [3, 3], S.Shipped),
        (9, [3, 4], S.Shipped),  # partly cancelled, partly shipped
        (9, [4, 5], S.Canceled),  # everything cancelled before shipping
        (9, [7], S.Canceled),
        (9, [6], S.Closed),  # returned after delivery
        (9, [6, 4], S.Closed),
        (9, [], S.Shipped),
        (1, [4, 4], S.New),  # refinement only applies to the final state 9
        (None, [3], S.NotProvided),
        (99, [3], S.Undefined),
    ],
)
def test_backmarket_order_refined_by_lines(state: object, lines: list[int], expected: S) -> None:
    assert normalize_backmarket_order(state, lines) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("paid", S.New),
        ("awaiting_shipment", S.InProgress),
        ("shipped", S.Shipped),
        ("delivered", S.Closed),
        ("cancelled", S.Canceled),
        ("lost", S.Undefined),
        (None, S.NotProvided),
    ],
)
def test_leboncoin_order_states(raw: object, expected: S) -> None:
    assert LEBONCOIN_ORDER.normalize(raw) is expected


def test_bool_is_never_a_state() -> None:
    assert BACKMARKET_ORDER.normalize(True) is S.Undefined
