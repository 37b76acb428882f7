"""Care tests: a workspace wired to the sandboxes (the orders tests' desk), and shortcuts to play the buyer."""

from __future__ import annotations

from typing import Any

from shelfdesk.care.harvest import harvest_care
from shelfdesk.services.care import CareHarvestResult
from tests.orders.conftest import Desk, desk, run_async, sandboxes  # noqa: F401  (fixtures)


def open_case(d: Desk, order_id: str | int, **spec: Any) -> dict[str, Any]:
    """The buyer opens a case on the order's first paid line (the sandbox's admin API)."""
    response = d.bm.post("/_sandbox/care", json={"order_id": int(order_id), **spec})
    assert response.status_code == 201, response.text
    return response.json()["folder"]


def buyer_writes(d: Desk, folder_id: int, text: str) -> None:
    response = d.bm.post(f"/_sandbox/care/{folder_id}/messages", json={"message": text})
    assert response.status_code == 201, response.text


def care_harvest(d: Desk, *, force: bool = True) -> CareHarvestResult:
    results = run_async(harvest_care(d.ctx, force=force, factory=d.factory))
    assert len(results) == 1
    return results[0]


def shipped_order(d: Desk, skus: list[str] | None = None) -> dict[str, Any]:
    order = d.new_orders("backmarket", skus or ["APP1-WHT-EXC"], fate="shipped", count=1)[0]
    d.harvest()
    return order
