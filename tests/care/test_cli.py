"""``shelfdesk care …`` as a script uses it: the same cases as the service, --json, refusals, the confirmation."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shelfdesk.cli import main
from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.services import care
from shelfdesk.services.deadlines import list_due
from tests.care.conftest import care_harvest, open_case, shipped_order
from tests.orders.conftest import Desk


@pytest.fixture(autouse=True)
def _cli_uses_the_test_clock(clock: FakeClock) -> Iterator[None]:
    old = set_default_clock(clock)
    yield
    set_default_clock(old)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["care", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_show_reply_refund_and_refusals(desk: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    order = shipped_order(desk)
    folder = open_case(desk, order["order_id"])
    care_harvest(desk)
    code, out, _ = run(capsys, "list", "--json")
    listed = json.loads(out)["cases"]
    assert code == 0 and [c["case_id"] for c in listed] == [c.case_id for c in care.list_cases(desk.ctx)] == [str(folder["id"])]
    assert listed[0]["due_what"] == "answer"

    code, out, _ = run(capsys, "show", str(folder["id"]))
    assert code == 0 and "buyer" in out and "BATTERY_NOT_CHARGING" in out

    code, out, _ = run(capsys, "reply", str(folder["id"]), "--message", "Bonjour", "--send", "--json")
    data = json.loads(out)
    assert code == 0 and data["queued"]["created"] and data["sent"] == {"confirmed": 1}

    # Without a terminal a refund must be confirmed with --yes; the refusal names the amount and the buyer.
    code, _, err = run(capsys, "refund", str(folder["id"]), "--amount", "25")
    assert code == 2 and "Refund 25.00 EUR (partial) to" in err and "--yes" in err
    code, _, err = run(capsys, "refund", str(folder["id"]), "--amount", "99999", "--yes")
    assert code == 2 and "above what is left" in err
    code, out, _ = run(capsys, "refund", str(folder["id"]), "--amount", "25", "--yes", "--send", "--json")
    assert code == 0 and json.loads(out)["sent"] == {"confirmed": 1}
    code, out, _ = run(capsys, "refunds", "--order", str(order["order_id"]), "--json")
    assert [r["amount"] for r in json.loads(out)["refunds"]] == ["25.00"]

    code, _, err = run(capsys, "show", "424242")
    assert code == 2 and "no case 424242" in err

    code, out, _ = run(capsys, "save-reply", "merci", "--language", "fr", "--text", "Merci pour votre patience.")
    code, out, _ = run(capsys, "reply", str(folder["id"]), "--saved", "merci", "--json")
    assert code == 0 and json.loads(out)["queued"]["summary"] == "reply: Merci pour votre patience."


def test_open_cases_are_due(desk: Desk) -> None:
    order = shipped_order(desk)
    folder = open_case(desk, order["order_id"])
    care_harvest(desk)
    due = [d for d in list_due(desk.ctx).items if d.target_type == "case"]
    assert [d.reference for d in due] == [f"case {folder['id']}"] and str(due[0].kind) == "answer case"
