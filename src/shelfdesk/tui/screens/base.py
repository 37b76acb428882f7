"""What every shelfdesk screen shares: layout, global keys, filter, read-only greying.

A screen only describes its body (``compose_body``) and, once it has a table,
how to filter and reload it (``FILTERABLE``, ``apply_filter``,
``refresh_data``). Everything an operator relies on to stay oriented (the
navigation line, the status bar, the footer, Esc, ``?``, ``:``, ``/``) comes
from here, so it behaves the same on every screen, detail screens included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker

from shelfdesk.tui.commands import GLOBAL, bindings_for, find_command, view_commands, view_name, visible_scopes
from shelfdesk.tui.messages import FilterChanged, OperationDone, Severity
from shelfdesk.tui.screens.console_access import ConsoleAccess
from shelfdesk.tui.widgets.filter_bar import FilterBar
from shelfdesk.tui.widgets.nav_bar import NavBar
from shelfdesk.tui.widgets.status_bar import StatusBar, workspace_info

if TYPE_CHECKING:
    pass


class ShelfdeskScreen(ConsoleAccess, Screen[None]):
    """Base of every screen of the console.

    Subclasses set ``SCOPE`` (their rows in the command table), ``VIEW`` (the
    main screen highlighted in the navigation line), ``TITLE``, and
    ``BINDINGS = bindings_for(SCOPE)``; they implement ``compose_body``.
    """

    SCOPE: ClassVar[str] = GLOBAL
    VIEW: ClassVar[str] = ""
    FILTERABLE: ClassVar[bool] = False
    """True once the screen has a table that ``apply_filter`` can filter."""

    BINDINGS = bindings_for(GLOBAL)
    AUTO_FOCUS = "#body *"

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self._data_seen = -1
        """The App's ``data_version`` this screen last loaded; behind it, the screen reloads when shown."""

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        nav = [(self.shell.keys_display(cmd, first_only=True), cmd.description, view_name(cmd)) for cmd in view_commands()]
        yield NavBar(nav, self.VIEW)
        with Container(id="body"):
            yield from self.compose_body()
        yield FilterBar()
        yield StatusBar(workspace_info(self.ctx))
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """The screen's own content, placed in the ``#body`` container."""
        raise NotImplementedError

    # ------------------------------------------------------------ hooks for screens with data

    def apply_filter(self, text: str) -> None:
        """Filter the screen's table to rows matching ``text`` ("" shows everything).

        Database-backed screens start an exclusive thread worker here.
        """

    def refresh_data(self) -> None:
        """Reload the screen's data (``R``); database work goes in a thread worker."""

    # ------------------------------------------------------------ state

    @property
    def is_top(self) -> bool:
        """True on a main screen (the bottom of its stack), where ``q`` quits."""
        stack = self.app.screen_stack
        return bool(stack) and stack[0] is self

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what cannot act now (``disabled_reason``); hide ``q`` on detail screens."""
        if action == "quit":
            return self.is_top
        return None if self.disabled_reason(action) else True

    def disabled_reason(self, action: str) -> str | None:
        """Why ``action`` cannot act now, in words, or None when it can.

        Its key is greyed in the footer, and pressing it shows this reason
        rather than doing nothing. Screens add their own reasons (ship on a
        shipped order, fix with no error group) after calling this.
        """
        command = find_command(action, visible_scopes(self.SCOPE))
        if command is not None and command.writes and self.ctx.read_only:
            return f"{command.description} is disabled: this workspace is open read-only."
        return None

    def on_key(self, event: events.Key) -> None:
        """A greyed key pressed: say why it does nothing now (a disabled binding would stay silent)."""
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            action = binding.action.split("(", 1)[0]
            if action == "quit":
                continue
            reason = self.disabled_reason(action)
            if reason:
                event.stop()
                self.notify(reason, title="Not now", severity="warning", timeout=4)
                return

    def focus_body(self) -> None:
        """Give focus back to the first focusable widget of the body (or to nothing)."""
        for widget in self.query_one("#body").query("*"):
            if widget.focusable:
                widget.focus()
                return
        self.set_focus(None)

    # ------------------------------------------------------------ actions of the GLOBAL rows

    def action_show_view(self, view: str) -> None:
        self.shell.show_view(view)

    def action_help(self) -> None:
        self.shell.open_help(self)

    def action_command_line(self) -> None:
        self.shell.open_command_line()

    def action_filter(self) -> None:
        if not self.FILTERABLE:
            self.notify(
                f"{self.TITLE or 'This screen'} has no table yet, so there is nothing to filter.",
                title="Filter",
                severity="warning",
            )
            return
        self.query_one(FilterBar).open()

    def action_back(self) -> None:
        """Esc: clear the filter, else leave a detail screen, else return to the home screen."""
        bar = self.query_one(FilterBar)
        if bar.is_open or self.filter_text:
            bar.clear()
            self.focus_body()
            return
        if not self.is_top:
            self.app.pop_screen()
            return
        self.shell.go_home()

    def action_alerts(self) -> None:
        """``!``: the alert list, from any screen."""
        self.shell.open_alerts()

    def action_due(self) -> None:
        """``D``: everything due, most urgent first, from any screen."""
        self.shell.open_due()

    def show_target(self, target_type: str, target_id: object) -> bool:
        """Move to the row an alert points at (a ``job`` key, an ``account`` id …).

        Screens that can find such a row override this and return True; the
        default says it cannot, and the App tells the operator where to look.
        """
        return False

    def action_open_screen(self, name: str) -> None:
        """``:webhooks``, ``:invoices``: a screen opened by name from any screen (see screens/shell/by_name.py)."""
        from shelfdesk.tui.screens.shell.by_name import open_screen

        open_screen(self.app, name)

    def action_refresh(self) -> None:
        self.shell.count_alerts()
        self.reload_now()

    def action_quit(self) -> None:
        self.app.exit()

    # ------------------------------------------------------------ the one action runner

    def run_operation(
        self,
        title: str,
        action: Callable[[], str | tuple[str, Severity]],
        *,
        retry: tuple[str, dict[str, object]] | None = None,
    ) -> None:
        """Run an operator's action (one service call) off the event loop, then toast its result.

        ``action`` returns the sentence to show (or the sentence and a
        severity, for an outcome that is not an error but went wrong, such as
        a failed connection test). A refusal the services raise for the
        operator (a ``ValueError`` such as ``CatalogError``, ``InvoiceError``,
        ``WebhookError``, or the read-only ``PermissionError``) becomes an error
        toast with their words, changes nothing, and hands ``retry`` to
        ``operation_refused`` so a form can come back with what was typed.
        Anything else goes to the App's failure handler. Every screen runs its
        actions here, so they all answer the same way, and every screen shown
        later reloads (``data_version``).
        """
        self._run_operation(title, action, retry)

    @work(thread=True, group="operation", exit_on_error=False, description="Operator action")
    def _run_operation(
        self, title: str, action: Callable[[], str | tuple[str, Severity]], retry: tuple[str, dict[str, object]] | None
    ) -> None:
        try:
            outcome = action()
        except (ValueError, PermissionError) as exc:
            self.post_message(OperationDone(title, str(exc), severity="error", reload=False, retry=retry))
            return
        text, severity = outcome if isinstance(outcome, tuple) else (outcome, "information")
        self.post_message(OperationDone(title, text, severity=severity))

    def on_operation_done(self, message: OperationDone) -> None:
        timeout = 10 if message.severity == "error" else 6
        self.notify(message.text, title=message.title, severity=message.severity, timeout=timeout)
        if message.retry is not None:
            self.operation_refused(*message.retry, error=message.text)
        if message.reload:
            self.shell.data_changed()
            self.reload_now()

    def operation_refused(self, kind: str, values: dict[str, object], *, error: str) -> None:
        """A refused action's form, to reopen with what was typed (screens with forms override this)."""

    # ------------------------------------------------------------ staying true

    def reload_now(self) -> None:
        """Reload, and note that this screen now shows the workspace as it is."""
        self._data_seen = self.shell.data_version
        self.refresh_data()

    def on_screen_resume(self) -> None:
        """Shown again after something changed elsewhere (a mapping, a publication): reload first."""
        if self._data_seen == -1:
            self._data_seen = self.shell.data_version
        elif self._data_seen != self.shell.data_version:
            self.reload_now()

    # ------------------------------------------------------------ events

    def on_filter_changed(self, message: FilterChanged) -> None:
        self.filter_text = message.text
        self.apply_filter(message.text)
        if message.submitted:
            self.focus_body()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand failures of this screen's workers to the App's single handler."""
        self.shell.report_worker_state(event.worker)
