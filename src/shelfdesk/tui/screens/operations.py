"""What the Invoices and Webhooks screens share: an operator's action run in a thread worker, and its toast.

The action is a plain callable returning the sentence to show; a refusal the
services raise for the operator (``InvoiceError``, ``WebhookError``, both
ValueErrors, or the read-only ``PermissionError``) becomes an error toast and
changes nothing; anything else goes to the App's failure handler.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.screen import Screen

from shelfdesk.tui.messages import OperationDone


class RunsOperations(Screen[None]):
    """Mixin for screens whose keys start one service call each."""

    @work(thread=True, group="operation", exit_on_error=False, description="Operator action")
    def _run(self, title: str, action: Callable[[], str]) -> None:
        try:
            self.post_message(OperationDone(title, action()))
        except (ValueError, PermissionError) as exc:
            self.post_message(OperationDone(title, str(exc), severity="error", reload=False))

    def on_operation_done(self, message: OperationDone) -> None:
        self.notify(message.text, title=message.title, severity=message.severity, timeout=8)  # type: ignore[arg-type]
        if message.reload:
            self.refresh_data()  # type: ignore[attr-defined]  # ShelfdeskScreen's
