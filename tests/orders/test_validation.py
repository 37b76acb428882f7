"""Pre-flight validation: pure checks, no database, no network."""

from __future__ import annotations

import pytest

from shelfdesk.channels.registry import capabilities
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus
from shelfdesk.orders.errors import ActionRefused
from shelfdesk.orders.validation import (
    LineFacts,
    LineIdentifier,
    OrderFacts,
    imei_problem,
    luhn_check_digit,
    prepare_action,
    resolve_kind,
)

from .conftest import BAD_IMEI, GOOD_IMEI

S = NormalizedStatus
BM = capabilities(Marketplace.backmarket)
LBC = capabilities(Marketplace.leboncoin)
BM_SHIP_OK = frozenset({ActionKind.ship, ActionKind.cancel, ActionKind.set_line_details})


def bm_order(
    *lines: LineFacts, status: S = S.InProgress, allowed: frozenset[ActionKind] | None = BM_SHIP_OK, open_action: str | None = None
) -> OrderFacts:
    return OrderFacts(1, Marketplace.backmarket, "40000001", status, "3", allowed, lines, open_action)


def phone(remote_id: str = "L1", *, quantity: int = 1, imei: str | None = None, needs: bool = True) -> LineFacts:
    return LineFacts(
        remote_id, f"SKU-{remote_id}", quantity, S.InProgress, imei=imei, needs_identifier=needs, category="Phones > Smartphones"
    )


def test_luhn_and_imei_shape() -> None:
    assert luhn_check_digit("35693803564380") == "9"
    assert imei_problem(GOOD_IMEI) is None
    assert "Luhn" in (imei_problem(BAD_IMEI) or "") and "should be 9" in (imei_problem(BAD_IMEI) or "")
    assert "15 digits" in (imei_problem("35693803564380") or "")
    assert "15 digits" in (imei_problem("35693803564380A") or "")


def test_intents_map_to_each_marketplace_s_action() -> None:
    assert resolve_kind(BM, "accept").kind is ActionKind.accept
    assert resolve_kind(LBC, "accept").kind is ActionKind.confirm_availability
    assert resolve_kind(BM, "ship").kind is ActionKind.ship
    assert resolve_kind(LBC, "ship").kind is ActionKind.confirm_shipping
    with pytest.raises(ActionRefused, match="backmarket has no action confirm-availability"):
        resolve_kind(BM, "confirm-availability")
    with pytest.raises(ActionRefused, match="unknown action 'teleport'"):
        resolve_kind(BM, "teleport")
    with pytest.raises(ActionRefused, match="refund is an after-sales action: use shelfdesk care"):
        resolve_kind(BM, "refund")


def test_single_unit_ship_carries_the_imei_in_the_ship_call() -> None:
    prepared = prepare_action(
        BM, bm_order(phone()), "ship", {"carrier": "Colissimo", "tracking_number": "6A1"}, identifiers=[LineIdentifier(GOOD_IMEI)]
    )
    assert prepared.kind is ActionKind.ship
    assert prepared.payload["fields"] == {"shipper": "Colissimo", "tracking_number": "6A1", "imei": GOOD_IMEI}
    assert "lines" not in prepared.payload


def test_multi_line_ship_sets_identifiers_per_line_first() -> None:
    second = "490154203237518"
    assert imei_problem(second) is None
    order = bm_order(phone("L1"), phone("L2"))
    prepared = prepare_action(
        BM, order, "ship", {"tracking_number": "6A1"}, identifiers=[LineIdentifier(GOOD_IMEI), LineIdentifier(second, sku="SKU-L2")]
    )
    assert prepared.payload["lines"] == {"L1": {"imei": GOOD_IMEI}, "L2": {"imei": second}}
    assert "imei" not in prepared.payload["fields"]


@pytest.mark.parametrize(
    ("order", "fields", "identifiers", "field", "words"),
    [
        (
            bm_order(phone()),
            {"carrier": "UPS"},
            [LineIdentifier(GOOD_IMEI)],
            "tracking_number",
            "missing required field(s) tracking_number",
        ),
        (bm_order(phone()), {"tracking_number": "1"}, [], "imei", "needs an IMEI or serial number to ship; backmarket takes one"),
        (bm_order(phone()), {"tracking_number": "1"}, [LineIdentifier(BAD_IMEI)], "imei", "fails the Luhn check"),
        (bm_order(phone()), {"tracking_number": "1"}, [LineIdentifier("12345")], "imei", "exactly 15 digits"),
        (
            bm_order(phone(quantity=2)),
            {"tracking_number": "1"},
            [LineIdentifier(GOOD_IMEI)],
            "imei",
            "line SKU-L1 has quantity 2, so it ships without one; backmarket takes one IMEI or serial number per order line of quantity 1",
        ),
        (
            bm_order(phone("L1"), phone("L2")),
            {"tracking_number": "1"},
            [LineIdentifier(GOOD_IMEI), LineIdentifier(GOOD_IMEI)],
            "imei",
            "given for two lines",
        ),
        (bm_order(phone(imei="490154203237518")), {"tracking_number": "1"}, [LineIdentifier(GOOD_IMEI)], "imei", "write-once"),
        (
            bm_order(phone(), status=S.New, allowed=frozenset({ActionKind.accept})),
            {"tracking_number": "1"},
            [LineIdentifier(GOOD_IMEI)],
            "status",
            "needs an order that is InProgress; this one is New",
        ),
        (
            bm_order(phone(), allowed=frozenset({ActionKind.cancel})),
            {"tracking_number": "1"},
            [LineIdentifier(GOOD_IMEI)],
            "status",
            "the marketplace does not allow ship order in the order's current state (accepted, to ship (3))",
        ),
        (
            bm_order(phone(), open_action="accept (synchronizing)"),
            {"tracking_number": "1"},
            [LineIdentifier(GOOD_IMEI)],
            "status",
            "accept (synchronizing) is still in flight",
        ),
        (bm_order(phone()), {"tracking_number": "1", "colour": "red"}, [], "colour", "unknown field(s) colour"),
    ],
)
def test_refused_ship_inputs_name_the_order_and_the_field(
    order: OrderFacts, fields: dict, identifiers: list, field: str, words: str
) -> None:
    with pytest.raises(ActionRefused) as refused:
        prepare_action(BM, order, "ship", fields, identifiers=identifiers)
    assert refused.value.order == "40000001" and refused.value.field == field
    assert words in str(refused.value) and str(refused.value).startswith("order 40000001")


def test_lines_not_needing_an_identifier_ship_without_one() -> None:
    order = bm_order(LineFacts("L1", "APP1", 2, S.InProgress, needs_identifier=False))
    prepared = prepare_action(BM, order, "ship", {"tracking_number": "6A1"})
    assert prepared.payload["fields"] == {"tracking_number": "6A1"}


def test_accept_and_cancel_work_per_line_on_back_market() -> None:
    order = OrderFacts(
        1,
        Marketplace.backmarket,
        "7",
        S.New,
        "1",
        frozenset({ActionKind.accept, ActionKind.cancel}),
        (LineFacts("a", "A", 1, S.New), LineFacts("b", "B", 1, S.Canceled)),
    )
    assert prepare_action(BM, order, "accept").payload["skus"] == ["A"]
    with pytest.raises(ActionRefused, match="line B is Canceled"):
        prepare_action(BM, order, "cancel", skus=["B"])
    with pytest.raises(ActionRefused, match="has no line with SKU Z"):
        prepare_action(BM, order, "accept", skus=["Z"])
    cancel = prepare_action(BM, order, "cancel", {"reason": "out of stock"})
    assert cancel.payload["skus"] == ["A"] and cancel.payload["reason"] == "out of stock" and cancel.payload["fields"] == {}


def test_leboncoin_cancel_needs_one_of_its_reasons_and_shipping_keeps_the_tracking() -> None:
    order = OrderFacts(
        2,
        Marketplace.leboncoin,
        "LBC1",
        S.InProgress,
        "awaiting_shipment",
        frozenset({ActionKind.confirm_shipping, ActionKind.cancel}),
        (LineFacts("1", "X", 1, S.InProgress),),
    )
    with pytest.raises(ActionRefused, match="missing required field"):
        prepare_action(LBC, order, "cancel")
    with pytest.raises(ActionRefused, match="reason must be one of out_of_stock"):
        prepare_action(LBC, order, "cancel", {"reason": "bored"})
    shipped = prepare_action(LBC, order, "ship", {"carrier": "colissimo", "tracking_number": "XY1"})
    assert shipped.kind is ActionKind.confirm_shipping
    assert shipped.payload["fields"] == {"carrier": "colissimo", "tracking_number": "XY1"}
    assert shipped.payload["local"] == {"carrier": "colissimo", "tracking_number": "XY1"}
    with pytest.raises(ActionRefused, match="leboncoin takes no IMEI"):
        prepare_action(LBC, order, "ship", {"tracking_number": "XY1"}, identifiers=[LineIdentifier(GOOD_IMEI)])


def test_an_order_of_two_laptop_lines_of_two_units_ships_without_identifiers() -> None:
    """The demo's order that could never ship: laptops need no identifier on Back Market, and no line of
    several units is asked for one (the marketplace keeps one per line)."""
    from shelfdesk.catalog.categories import category_tree

    tree = category_tree(Marketplace.backmarket)
    assert {n.name for n in tree.leaves() if n.requires_imei_or_serial} == {"Smartphones", "Basic mobile phones", "Rugged phones"}
    laptops = [LineFacts(r, f"MBA-{r}", 2, S.InProgress, needs_identifier=False, category="Computers > Laptops") for r in ("L1", "L2")]
    prepared = prepare_action(BM, bm_order(*laptops), "ship", {"carrier": "UPS", "tracking_number": "1Z9"})
    assert prepared.kind is ActionKind.ship and "lines" not in prepared.payload
    flagged = bm_order(phone("L1", quantity=2), phone("L2"))  # a category that asks for one: only the single unit must carry it
    with pytest.raises(ActionRefused) as refused:
        prepare_action(BM, flagged, "ship", {"tracking_number": "1"})
    assert "line SKU-L2 (Phones > Smartphones) needs an IMEI or serial number to ship" in str(refused.value)
    prepared = prepare_action(BM, flagged, "ship", {"tracking_number": "1"}, identifiers=[LineIdentifier(GOOD_IMEI)])
    assert prepared.payload["lines"] == {"L2": {"imei": GOOD_IMEI}}
