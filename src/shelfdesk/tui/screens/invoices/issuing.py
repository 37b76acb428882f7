"""Dialogs of invoicing: confirm an issue (with the number, editable), a bulk run, a credit note; bulk progress.

Issuing is irreversible (invoices are immutable), so every dialog opens with
"No" focused: Enter alone never issues anything; ``y`` confirms, Esc or ``n``
cancels. The field (number, first number, reason) comes back as typed.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar

from shelfdesk.tui.messages import OperationDone
from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog
from shelfdesk.tui.screens.dialog import DialogScreen


class BulkInvoiceProgress(DialogScreen[None]):
    """Issues invoices for ``order_ids`` in a worker: "n of N", failures, Esc to cancel between orders."""

    CSS_PATH = "issuing.tcss"
    CANCEL_NOTE = ""

    def __init__(self, order_ids: list[int], start_number: int | None) -> None:
        super().__init__()
        self.order_ids = order_ids
        self.start_number = start_number
        self.stop_requested = False
        self.finished = False

    def compose(self) -> ComposeResult:
        with Vertical(id="invoice-bulk"):
            yield Label(f"Issuing invoices for {len(self.order_ids):,} order(s)", id="invoice-bulk-title", markup=False)
            yield ProgressBar(total=max(1, len(self.order_ids)), show_eta=False, id="invoice-bulk-bar")
            yield Label(f"0 of {len(self.order_ids):,} · 0 failed · Esc to cancel", id="invoice-bulk-label", markup=False)
            yield Label("", id="invoice-bulk-last", markup=False)

    def on_mount(self) -> None:
        self._run()

    def action_cancel(self) -> None:
        """Esc stops after the current order (an issued invoice cannot be taken back)."""
        self.action_stop()

    @work(thread=True, group="invoice-bulk", exclusive=True, exit_on_error=False, description="Issuing invoices")
    def _run(self) -> None:
        from shelfdesk.invoices.service import generate_bulk

        ctx = self.app.ctx  # type: ignore[attr-defined]

        def progress(done: int, total: int, failed: int, message: str) -> None:
            self.app.call_from_thread(self._progress, done, total, failed, message)

        try:
            report = generate_bulk(
                ctx, self.order_ids, start_number=self.start_number, progress=progress, should_stop=lambda: self.stop_requested
            )
        except Exception as exc:  # a refused start number: nothing was issued
            self.post_message(OperationDone("Invoices", f"nothing issued: {exc}", severity="error"))
            return
        text = f"{len(report.issued)} issued, {len(report.skipped)} already invoiced, {len(report.failed)} refused"
        if report.canceled:
            text += " (stopped)"
        if report.failed:
            text += f". First refusal: {report.failed[0][1]}"
        self.post_message(OperationDone("Invoices", text, severity="warning" if report.failed else "information"))

    def _progress(self, done: int, total: int, failed: int, message: str) -> None:
        self.query_one(ProgressBar).update(progress=done)
        self.query_one("#invoice-bulk-label", Label).update(f"{done:,} of {total:,} · {failed} failed · Esc to cancel")
        self.query_one("#invoice-bulk-last", Label).update(message[:120])

    def on_operation_done(self, message: OperationDone) -> None:
        self.finished = True
        self.dismiss(None)
        self.app.notify(message.text, title=message.title, severity=message.severity, timeout=10)  # type: ignore[arg-type]

    def action_stop(self) -> None:
        self.stop_requested = True
        self.query_one("#invoice-bulk-label", Label).update("stopping after the current order…")


def invoiced_cell() -> Text:
    """The Orders table's marker of an invoiced order (in the Sync column, when no action is in flight)."""
    return Text("inv", style="dim")


def start_invoicing(screen: Any) -> None:
    """``I`` on the Orders screen: one order → its preview and number; several → confirm, then bulk progress.

    ``screen`` is the Orders screen: its ``targets()`` gives the marks, "all
    matching" (a filter) or the cursor row, with the count and sample ids.
    """
    target = screen.targets()
    if target is None:
        screen.notify("There is no order here to invoice.", title="Invoice")
        return
    what, count, samples = target
    if isinstance(what, list) and len(what) == 1 and not screen.marks:
        _preview_one(screen, what[0])
        return

    def done(answer: str | None) -> None:
        if answer is None:
            return
        if answer and not answer.isdigit():
            screen.notify(f"{answer!r} is not a number: nothing issued.", title="Invoice", severity="error")
            return
        _resolve_and_run(screen, what, int(answer) if answer else None)

    more = f" and {count - len(samples):,} more" if count > len(samples) else ""
    details = [", ".join(samples) + more, "Orders already invoiced are skipped; one refused order does not stop the others."]
    screen.app.push_screen(
        ConfirmDialog(
            f"Issue invoices for {count:,} order{'s' if count != 1 else ''}?",
            details=details,
            field="First number (empty: the next free one):",
            yes="Yes, issue",
        ),
        callback=done,
    )


def _preview_one(screen: Any, order_id: int) -> None:
    def prepare() -> None:
        from shelfdesk.invoices.errors import InvoiceError
        from shelfdesk.invoices.service import preview_invoice

        try:
            preview = preview_invoice(screen.ctx, f"#{order_id}")
        except InvoiceError as exc:
            screen.app.call_from_thread(screen.notify, str(exc), title="Invoice", severity="error", timeout=10)
            return
        screen.app.call_from_thread(_confirm_one, screen, preview)

    screen.run_worker(
        prepare, thread=True, group="invoice-preview", exclusive=True, exit_on_error=False, description="Preparing an invoice"
    )


def _confirm_one(screen: Any, preview: Any) -> None:
    rates = ", ".join(f"VAT {rate.normalize():f} % {vat}" for rate, vat in preview.rates)
    details = [
        f"Order {preview.marketplace_order_id} · {preview.store_name} · total {preview.total} {preview.currency}",
        f"excl. VAT {preview.total_net} · {rates}",
        "upload to the marketplace queued" if preview.upload else "kept locally (no upload)",
    ]
    hint = "Number (the next free one" + ("; an unused prefix may start anywhere):" if not preview.prefix_in_use else "):")

    def done(answer: str | None) -> None:
        if answer is None:
            return
        if not answer.isdigit():
            screen.notify(f"{answer!r} is not a number: nothing issued.", title="Invoice", severity="error")
            return
        number = int(answer)

        def issue() -> None:
            from shelfdesk.invoices.errors import InvoiceError
            from shelfdesk.invoices.service import generate_invoice

            try:
                info = generate_invoice(screen.ctx, f"#{preview.order_id}", number=number)
            except InvoiceError as exc:
                screen.app.call_from_thread(screen.notify, f"nothing issued: {exc}", title="Invoice", severity="error", timeout=10)
                return
            screen.app.call_from_thread(screen.notify, f"{info.number} issued for order {info.marketplace_order_id}", title="Invoice")
            screen.app.call_from_thread(screen.reload)

        screen.run_worker(issue, thread=True, group="invoice-issue", exclusive=True, exit_on_error=False, description="Issuing an invoice")

    screen.app.push_screen(
        ConfirmDialog(f"Issue invoice {preview.number}?", details=details, field=hint, value=str(preview.next_number), yes="Yes, issue"),
        callback=done,
    )


def _resolve_and_run(screen: Any, what: Any, start: int | None) -> None:
    """Turn "all matching" (a filter) into ids in a worker, then show the bulk progress."""

    def resolve() -> None:
        if isinstance(what, list):
            ids = list(what)
        else:
            from shelfdesk.orders.queries import iter_order_ids

            ids = [i for batch in iter_order_ids(screen.ctx, what) for i in batch]
        screen.app.call_from_thread(screen.app.push_screen, BulkInvoiceProgress(ids, start), lambda _: screen.reload())

    screen.run_worker(
        resolve, thread=True, group="invoice-resolve", exclusive=True, exit_on_error=False, description="Listing the orders to invoice"
    )
