"""Fixtures for the console tests: a fixed terminal environment and an app factory.

Console tests run on the migrated empty workspace of the ``ctx`` fixture
(folder ``ws``, FakeClock at FIXED_NOW), so the status bar reads the same on
every machine. The developer's terminal must not leak in: COLORTERM and
NO_COLOR decide the default theme.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shelfdesk.context import AppContext


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("SHELFDESK_STARTUP_PROBE", raising=False)


@pytest.fixture
def make_app(ctx: AppContext) -> Callable[..., Any]:
    """Build a ShelfdeskApp on the test workspace; theme fixed unless the test says otherwise."""
    from shelfdesk.tui.app import ShelfdeskApp

    def make(context: AppContext | None = None, **kwargs: Any) -> ShelfdeskApp:
        kwargs.setdefault("theme", "shelfdesk-dark")
        return ShelfdeskApp(context or ctx, **kwargs)

    return make


@pytest.fixture
def read_only_ctx(ctx: AppContext, clock: Any) -> AppContext:
    """The same (already migrated) workspace, opened with --read-only."""
    from shelfdesk.context import open_context

    context = open_context(ctx.paths, clock=clock, read_only=True)
    yield context
    context.close()


@pytest.fixture
def default_clock(clock: Any) -> Any:
    """The workspace's FakeClock as the process default too (code that reads the clock without a ctx)."""
    from shelfdesk.clock import set_default_clock

    old = set_default_clock(clock)
    yield clock
    set_default_clock(old)
