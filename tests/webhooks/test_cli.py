"""``shelfdesk webhooks`` from the command line, as a script would call it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shelfdesk.cli import main
from shelfdesk.context import AppContext
from tests.webhooks.conftest import Receiver, order_with_events


@pytest.fixture(autouse=True)
def _cli_uses_the_test_clock(clock: Any) -> Any:
    """The CLI opens its own context on the process clock: make it the test's fixed one."""
    from shelfdesk.clock import set_default_clock

    old = set_default_clock(clock)
    yield
    set_default_clock(old)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_webhooks_commands(ctx: AppContext, receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(ctx.paths.home)
    code, out, _ = cli(capsys, "webhooks", "add", "erp", receiver.url, "--events", "order.created", "--home", home)
    assert code == 0 and "Signing secret" in out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    code, out, _ = cli(capsys, "webhooks", "list", "--json", "--home", home)
    assert json.loads(out)[0]["name"] == "erp" and secret not in out
    assert cli(capsys, "webhooks", "secret", "erp", "--home", home)[1].strip() == secret
    code, out, _ = cli(capsys, "webhooks", "test", "erp", "--home", home)
    assert code == 0 and "ping delivered (HTTP 200" in out
    order_with_events(ctx, "9001")
    code, out, _ = cli(capsys, "webhooks", "deliver", "--home", home)
    assert code == 0 and "1 delivered" in out
    code, out, _ = cli(capsys, "webhooks", "deliveries", "erp", "--log", "--home", home)
    assert "order.created" in out and "ping" in out
    assert cli(capsys, "webhooks", "pause", "erp", "--home", home)[1].startswith("erp")
    code, out, _ = cli(capsys, "webhooks", "list", "--home", home)
    assert "paused" in out
    code, _, err = cli(capsys, "webhooks", "add", "ftp", "ftp://example.com/x", "--home", home)
    assert code == 2 and "http" in err
    code, _, err = cli(capsys, "webhooks", "replay", "erp", "--delivery", "999", "--home", home)
    assert code == 2 and "no delivery 999" in err
    log = (ctx.paths.log_file).read_text(encoding="utf-8") if ctx.paths.log_file.exists() else ""
    assert secret not in log
