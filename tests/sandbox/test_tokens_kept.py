"""A sandbox restarted on a saved state without --token keeps the Leboncoin refresh token that state holds."""

from __future__ import annotations

from pathlib import Path

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox.leboncoin import DEFAULT_REFRESH_TOKEN, LeboncoinSandbox
from shelfdesk.sandbox.server import start_sandboxes


def live(folder: Path, clock: FakeClock) -> list[str]:
    sandbox = LeboncoinSandbox(folder, clock=clock, refresh_token=None, orders_per_hour=0)
    return sorted(t for t, r in sandbox.state["refresh_tokens"].items() if not r["revoked"])


def test_starting_without_a_token_keeps_the_demos_refresh_token(tmp_path: Path, clock: FakeClock) -> None:
    demo_token = "lbc-demo-refresh-token-42"
    with start_sandboxes(tmp_path, clock=clock, token=demo_token, orders_per_hour=0):
        pass  # the demo's own run: its token is the live one
    assert live(tmp_path / "leboncoin", clock) == [demo_token]
    with start_sandboxes(tmp_path, clock=clock, orders_per_hour=0) as running:  # `shelfdesk sandbox`, no --token
        assert list(running.leboncoin.credentials()["refresh_tokens"]) == [demo_token]
    assert live(tmp_path / "leboncoin", clock) == [demo_token]


def test_a_fresh_state_without_a_token_gets_the_default_one(tmp_path: Path, clock: FakeClock) -> None:
    with start_sandboxes(tmp_path, clock=clock, orders_per_hour=0) as running:
        assert list(running.leboncoin.credentials()["refresh_tokens"]) == [DEFAULT_REFRESH_TOKEN]
