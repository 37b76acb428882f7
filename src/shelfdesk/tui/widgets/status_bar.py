"""The status bar at the bottom of every screen.

Before touching anything an operator needs to know *where* they are
(which workspace, which database), whether something needs attention (the
alert count, and the deadlines already late or due within the first
escalation threshold) and whether they may change anything at all (the
read-only lock). Every state is spelled out in words, colour only adds emphasis.

The widget never opens a database session: the App counts alerts and
deadlines in one thread worker and the bar only watches ``App.alerts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from shelfdesk.secrets import mask_url

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.paths import Paths


@dataclass(frozen=True)
class AlertStatus:
    """What is known about the alert count: ``count`` is None until counted.

    ``overdue`` and ``due_soon`` count deadlines late and not late yet but due
    within ``within`` (the first escalation threshold, in words).
    """

    count: int | None = None
    error: str | None = None
    overdue: int = 0
    due_soon: int = 0
    within: str = "4 h"

    @property
    def deadlines_text(self) -> str:
        """``2 overdue · 3 due < 4 h``; empty when nothing is due that soon."""
        parts = [f"{self.overdue} overdue"] if self.overdue else []
        if self.due_soon:
            parts.append(f"{self.due_soon} due < {self.within}")
        return " · ".join(parts)

    @property
    def deadlines_state(self) -> str:
        return "-error" if self.overdue else "-warning"

    @property
    def text(self) -> str:
        if self.count is None:
            return "alerts ?" if self.error else "alerts …"
        if self.count == 0:
            return "no alerts"
        return f"{self.count} alert" + ("" if self.count == 1 else "s")

    @property
    def state(self) -> str:
        """CSS class suffix: ``-ok``, ``-warning``, ``-error`` or ``-pending``."""
        if self.count is None:
            return "-error" if self.error else "-pending"
        return "-ok" if self.count == 0 else "-warning"


@dataclass(frozen=True)
class WorkspaceInfo:
    """The fixed part of the bar, worked out once from the context."""

    workspace: str
    database: str
    read_only: bool


def describe_database(paths: Paths) -> str:
    """Short, password-free name of the database: the file name when it sits in the workspace."""
    db_file = paths.database_file
    if db_file is not None and db_file.parent == paths.home:
        return db_file.name
    return mask_url(paths.database_url)


def workspace_info(ctx: AppContext) -> WorkspaceInfo:
    """Describe ``ctx`` for the bar (the folder's name only: the full path is in ``shelfdesk paths``)."""
    return WorkspaceInfo(
        workspace=ctx.paths.home.name or str(ctx.paths.home),
        database=describe_database(ctx.paths),
        read_only=ctx.read_only,
    )


class StatusBar(Horizontal):
    """``workspace demo │ db shelfdesk.db │ no alerts │ [READ-ONLY]``."""

    def __init__(self, info: WorkspaceInfo) -> None:
        super().__init__()
        self.info = info

    def compose(self) -> ComposeResult:
        yield Label(f"workspace {self.info.workspace}", id="status-workspace", markup=False)
        yield Label("│", classes="status-sep")
        yield Label(f"db {self.info.database}", id="status-database", markup=False)
        yield Label("│", classes="status-sep")
        yield Label(AlertStatus().text, id="status-alerts", classes="-pending")
        yield Label("│", classes="status-sep", id="status-deadlines-sep")
        yield Label("", id="status-deadlines", markup=False)
        if self.info.read_only:
            yield Label("│", classes="status-sep")
            yield Label("[READ-ONLY]", id="status-lock", markup=False)

    def on_mount(self) -> None:
        if hasattr(self.app, "alerts"):
            self.watch(self.app, "alerts", self.show_alerts)

    def show_alerts(self, alerts: AlertStatus) -> None:
        label = self.query_one("#status-alerts", Label)
        label.update(alerts.text)
        label.set_classes(alerts.state)
        text = alerts.deadlines_text
        deadlines = self.query_one("#status-deadlines", Label)
        deadlines.update(text)
        deadlines.set_classes(alerts.deadlines_state)
        deadlines.display = self.query_one("#status-deadlines-sep", Label).display = bool(text)
