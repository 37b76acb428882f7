"""Action fields are checked against the capability table before any call."""

from __future__ import annotations

import pytest

from shelfdesk.channels.base import RemoteOrder, RemoteOrderLine, check_action_fields
from shelfdesk.channels.errors import InvalidActionInput, UnsupportedOperation
from shelfdesk.channels.registry import capabilities
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus

SHIP = capabilities("backmarket").action(ActionKind.ship)


@pytest.mark.parametrize(
    ("fields", "single_unit", "fragment"),
    [
        ({}, True, "missing required field(s) tracking_number"),
        ({"tracking_number": "  "}, True, "missing required"),
        ({"tracking_number": "T", "carrier_code": "X"}, True, "unknown field 'carrier_code'"),
        ({"tracking_number": "T", "imei": "1" * 16}, True, "longer than 15"),
        ({"tracking_number": "T", "vat_type": "ZERO"}, True, "REGULAR, MARGINAL"),
        ({"tracking_number": "T", "serial_number": "S1"}, False, "single-line order of quantity 1"),
    ],
)
def test_invalid_fields_refused(fields: dict, single_unit: bool, fragment: str) -> None:
    with pytest.raises(InvalidActionInput) as info:
        check_action_fields(SHIP, fields, single_unit=single_unit)
    assert fragment in str(info.value)


def test_valid_fields_kept_and_empty_ones_dropped() -> None:
    clean = check_action_fields(SHIP, {"tracking_number": "T1", "shipper": "", "imei": "356938035643809"}, single_unit=True)
    assert clean == {"tracking_number": "T1", "imei": "356938035643809"}


def test_unknown_action() -> None:
    with pytest.raises(UnsupportedOperation):
        capabilities("leboncoin").action(ActionKind.ship)
    with pytest.raises(UnsupportedOperation):
        capabilities("backmarket").action("teleport")


def test_order_helpers(clock) -> None:
    from decimal import Decimal

    line = RemoteOrderLine("1", "Sku-A", 1, Decimal("10"), "EUR", "1", NormalizedStatus.New)
    order = RemoteOrder(Marketplace.backmarket, "9", "1", NormalizedStatus.New, clock.now(), clock.now(), "EUR", Decimal("10"), [line])
    assert order.is_single_unit and order.line_by_sku("sku-a") is line and order.line_by_sku("B") is None
    order.lines.append(RemoteOrderLine("2", "B", 1, Decimal("1"), "EUR", "1", NormalizedStatus.New))
    assert not order.is_single_unit
