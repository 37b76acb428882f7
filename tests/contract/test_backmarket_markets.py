"""The Back Market sandbox speaks markets as locales, as the published contract does."""

from __future__ import annotations

import httpx
import pytest

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.sandbox.server import RunningSandboxes

from .conftest import Admin

HEADERS = {"User-Agent": "BM-Acme-shelfdesk;ops@acme.test", "Authorization": "Basic bm-sandbox-token"}


def orders(sandboxes: RunningSandboxes, **params: str) -> httpx.Response:
    return httpx.get(f"{sandboxes.backmarket_url}/ws/orders", params={"page-size": "50", **params}, headers=HEADERS)


async def test_orders_carry_their_locale_and_the_filter_takes_one(
    sandboxes: RunningSandboxes, bm_admin: Admin, bm: BackMarketConnector
) -> None:
    [uk] = bm_admin.orders(["GA52-128-BLK-EXC"], country_code="en-gb")
    [at] = bm_admin.orders(["GA52-128-BLK-EXC"], country_code="de-at")
    assert (uk["country_code"], uk["shipping_address"]["country"]) == ("en-gb", "GB")
    every = orders(sandboxes).json()["results"]
    assert {o["country_code"] for o in every} == {"fr-fr", "en-gb", "de-at"}
    assert [o["order_id"] for o in orders(sandboxes, country_code="en-gb").json()["results"]] == [uk["order_id"]]
    assert all(o["country_code"] == "fr-fr" for o in orders(sandboxes, country_code="fr-fr").json()["results"])
    remote = await bm.get_order(str(at["order_id"]))
    assert remote.country == "AT" and remote.raw["country_code"] == "de-at"


@pytest.mark.malformed_requests
def test_a_country_is_not_a_locale(sandboxes: RunningSandboxes, bm_admin: Admin) -> None:
    response = orders(sandboxes, country_code="FR")
    assert response.status_code == 400 and "country_code must be one of fr-fr" in response.json()["errors"][0]["message"]
    assert bm_admin.http.post("/_sandbox/orders", json={"skus": ["GA52-128-BLK-EXC"], "country_code": "FR"}).status_code == 400
