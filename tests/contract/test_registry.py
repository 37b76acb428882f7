"""Services reach connectors through the registry only; one push through it, against the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shelfdesk.channels.base import BatchState, OfferUpdate
from shelfdesk.channels.registry import capabilities, get_connector
from shelfdesk.clock import FakeClock
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus, PublicationKind
from shelfdesk.sandbox.server import RunningSandboxes

from .conftest import TIMEOUT, Admin


async def test_push_offers_through_the_registry(sandboxes: RunningSandboxes, bm_admin: Admin, lbc_admin: Admin, clock: FakeClock) -> None:
    targets = {
        Marketplace.backmarket: dict(
            credential="bm-sandbox-token", base_url=sandboxes.backmarket_url, company="Acme", contact_email="ops@acme.test"
        ),
        Marketplace.leboncoin: dict(credential="lbc-sandbox-refresh-token", base_url=sandboxes.leboncoin_url),
    }
    for marketplace, options in targets.items():
        async with get_connector(marketplace, clock=clock, timeout=TIMEOUT, **options) as connector:
            assert (await connector.check_credentials()).valid
            results = await connector.push(PublicationKind.offers, [OfferUpdate("IPH12-64-BLK-VG", price=Decimal("360"), quantity=4)])
            assert [r.state for r in results] == [BatchState.done] and results[0].items[0].ok
            listings = {l.sku: l for page in [p async for p in connector.iter_listings()] for l in page}
            assert listings["IPH12-64-BLK-VG"].quantity == 4 and listings["IPH12-64-BLK-VG"].price == Decimal("360.00")


def test_capabilities_without_a_connector() -> None:
    bm, lbc = capabilities("backmarket"), capabilities(Marketplace.leboncoin)
    ship = bm.action(ActionKind.ship)
    assert ship.required_fields == ("tracking_number",) and "shipper" in ship.optional_fields
    assert ship.field("imei").single_unit_only and bm.line_details_write_once and bm.ean_mandatory
    assert bm.grades == ("PREMIUM", "EXCELLENT", "VERY_GOOD", "GOOD", "FAIR", "STALLONE")
    assert [a.kind for a in lbc.actions_for(NormalizedStatus.New)] == [ActionKind.confirm_availability, ActionKind.cancel]
    assert not lbc.ean_matching and lbc.credential_expires and len(lbc.new_reasons) == 7
    with pytest.raises(ValueError):
        get_connector("amazon", credential="x", clock=FakeClock())
