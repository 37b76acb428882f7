"""The alert list (``!`` from any screen): everything that needs someone, critical first.

The same rules as the status bar's count and ``shelfdesk status``
(:mod:`shelfdesk.jobs.alerts`), read in a thread worker. Enter leaves the
list for the exact thing to fix: a job's row on Jobs, an order's detail, a
publication's items; where a screen cannot point at a row yet, it says so
rather than pretending.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import AlertsLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow

if TYPE_CHECKING:
    from shelfdesk.jobs.alerts import Alert
    from shelfdesk.tui.app import ShelfdeskApp

COLUMNS = [("level", "Level", 8), ("alert", "Alert", 64)]

#: target_type → (main screen, detail screen opened on the target's id as "module:Class", or None).
TARGETS: dict[str, tuple[str, str | None]] = {
    "job": ("jobs", None),
    "order": ("orders", "shelfdesk.tui.screens.orders.order_detail:OrderDetailScreen"),
    "orders": ("orders", None),
    "actions": ("orders", None),
    "publication": ("publications", "shelfdesk.tui.screens.publications.run_items:PublicationDetailScreen"),
    "account": ("stores", None),
    "channel": ("stores", None),
}


def where(alert: Alert) -> str:
    """Where Enter leads, in words."""
    target = TARGETS.get(alert.target_type)
    if target is None:
        return "no screen shows it yet"
    view = target[0].title()
    if alert.target_id is None:
        return view
    if target[1] is not None:  # its id is the database's: "order 169" was order 40000169
        return f"the {alert.target_type}'s detail, on {view}"
    return f"{view}, {alert.target_type} {alert.target_id}"


class AlertsScreen(ShelfdeskScreen):
    """Every current alert; Enter goes to what it is about."""

    SCOPE = "alerts"
    VIEW = ""
    TITLE = "Alerts"
    CSS_PATH = "alerts.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[Alert] = []

    def compose_body(self) -> ComposeResult:
        yield Label("Alerts · loading…", id="alerts-title", markup=False)
        yield DataWindow(COLUMNS, id="alerts-table", zebra_stripes=False, cursor_foreground_priority="renderable")
        yield Static("", id="alerts-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="alerts", exclusive=True, exit_on_error=False, description="Listing alerts")
    def _load(self) -> None:
        from shelfdesk.jobs.alerts import list_alerts

        self.post_message(AlertsLoaded(list_alerts(self.ctx)))

    def on_alerts_loaded(self, message: AlertsLoaded) -> None:
        self.alerts = list(message.alerts)
        self.query_one(DataWindow).show(
            [(str(n), ["CRITICAL" if str(a.severity) == "critical" else "warning", a.message]) for n, a in enumerate(self.alerts)]
        )
        critical = sum(1 for a in self.alerts if str(a.severity) == "critical")
        title = f"Alerts · {len(self.alerts)}" + (f" · {critical} critical" if critical else "")
        self.query_one("#alerts-title", Label).update(title if self.alerts else "Alerts · none: every sync is healthy")
        self._show_detail()

    def current(self) -> Alert | None:
        key = self.query_one(DataWindow).current_key
        return self.alerts[int(key)] if key is not None and int(key) < len(self.alerts) else None

    def _show_detail(self) -> None:
        alert = self.current()
        text = "" if alert is None else f"{alert.message}\nEnter: {where(alert)}"
        self.query_one("#alerts-detail", Static).update(text)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_alert()

    def action_open_alert(self) -> None:
        alert = self.current()
        if alert is not None:
            # On the App: this screen closes on the way, and its own workers with it.
            self.app.run_worker(
                go_to(self.shell, alert),
                group="navigate",
                exclusive=True,
                exit_on_error=False,
                description="Opening what an alert is about",
            )


def _detail_class(spec: str | None) -> Any:
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):  # that detail screen is not part of this shelfdesk
        return None


async def go_to(app: ShelfdeskApp, alert: Alert) -> None:
    """Leave the alert list for the screen and row ``alert`` points at."""
    target = TARGETS.get(alert.target_type)
    if target is None:
        app.notify(f"No screen shows {alert.target_type} {alert.target_id or ''} yet: {alert.message}", title="Alerts", severity="warning")
        return
    view, detail = target
    if isinstance(app.screen, AlertsScreen):
        await app.pop_screen()
    if app.current_mode != view:
        await app.switch_mode(view)
    while len(app.screen_stack) > 1:
        await app.pop_screen()
    if alert.target_id is None:
        return
    cls = _detail_class(detail)
    if cls is not None:
        await app.push_screen(cls(int(alert.target_id)))
        return
    screen = app.view_screen()
    if screen is None or not screen.show_target(alert.target_type, alert.target_id):
        app.notify(
            f"{view.title()} cannot point at {alert.target_type} {alert.target_id} yet: look for it there.",
            title="Alerts",
            severity="warning",
        )
