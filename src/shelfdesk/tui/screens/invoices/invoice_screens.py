"""Invoices in the console (``:invoices``, or ``i`` on an order): list, view, write the PDF, credit, settings.

The list reads in a thread worker; the highlighted invoice is shown as text
below it (what the PDF says). Issued invoices never change, so "correct" is
a credit note (``c``, with its reason). ``e`` opens the store's invoice
settings as a TOML document in ``$EDITOR`` (the console suspends itself
meanwhile); an invalid document changes nothing and says why.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from shelfdesk.formatting import money, when
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import InvoicesLoaded, OperationDone
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow, keyed


class InvoicesScreen(ShelfdeskScreen):
    """Invoices and credit notes, newest first (of one order when opened from it)."""

    SCOPE = "invoices"
    TITLE = "Invoices"
    CSS_PATH = "invoice_screens.tcss"
    BINDINGS = bindings_for(SCOPE)
    FILTERABLE = True

    def __init__(self, order_id: int | None = None, order_label: str | None = None) -> None:
        super().__init__()
        self.order_id = order_id
        self.order_label = order_label
        self.invoices: list[Any] = []

    def compose_body(self) -> ComposeResult:
        yield Label("Invoices · loading…", id="invoices-title", markup=False)
        yield DataWindow(
            keyed([("Number", 12), ("Kind", 7), ("Issued", 16), ("Order", 12), ("Total", 11), ("Upload", 13)]),
            id="invoices-table",
            zebra_stripes=False,
        )
        with VerticalScroll(id="invoices-detail"):
            yield Static("", id="invoices-text", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load(self.filter_text)

    def apply_filter(self, text: str) -> None:
        self._load(text)

    @work(thread=True, group="invoices", exclusive=True, exit_on_error=False, description="Reading invoices")
    def _load(self, search: str) -> None:
        from shelfdesk.invoices.service import list_invoices

        order = f"#{self.order_id}" if self.order_id is not None else None
        self.post_message(InvoicesLoaded(list_invoices(self.ctx, order=order, search=search or None, limit=500)))

    def on_invoices_loaded(self, message: InvoicesLoaded) -> None:
        if message.detail:
            self.query_one("#invoices-text", Static).update(message.detail)
            return
        self.invoices = list(message.invoices)
        self.query_one(DataWindow).show(
            [
                (
                    i.number,
                    [
                        i.number,
                        "credit" if i.kind == "credit_note" else "invoice",
                        when(i.issued_at),
                        i.marketplace_order_id,
                        money(i.total, i.currency),
                        i.upload_state or ("—" if i.kind == "invoice" else ""),
                    ],
                )
                for i in self.invoices
            ]
        )
        scope = f" of order {self.order_label or self.order_id}" if self.order_id is not None else ""
        match = f" matching {self.filter_text!r}" if self.filter_text else ""
        title = f"Invoices{scope} · {len(self.invoices):,}{match}"
        if not self.invoices:
            title += " · none yet: I on the Orders screen issues them (or shelfdesk invoices generate)"
        self.query_one("#invoices-title", Label).update(title)
        self._show_current()

    def current(self) -> Any | None:
        key = self.query_one(DataWindow).current_key
        return next((i for i in self.invoices if i.number == key), None)

    def _show_current(self) -> None:
        invoice = self.current()
        if invoice is None:
            self.query_one("#invoices-text", Static).update("")
            return
        self._detail(invoice.number)

    @work(thread=True, group="invoice-detail", exclusive=True, exit_on_error=False, description="Reading an invoice")
    def _detail(self, number: str) -> None:
        self.post_message(InvoicesLoaded([], detail=invoice_text(self.ctx, number)))

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_current()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_view_invoice()

    # ------------------------------------------------------------ actions

    def action_view_invoice(self) -> None:
        if (invoice := self.current()) is not None:
            self.app.push_screen(InvoiceViewScreen(invoice.number))

    def action_write_pdf(self) -> None:
        if (invoice := self.current()) is not None:
            self.run_operation("Write PDF", pdf_writer(self.ctx, invoice.number))

    def action_credit(self) -> None:
        from shelfdesk.invoices.service import credit_invoice
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        invoice = self.current()
        if invoice is None:
            return
        if invoice.kind != "invoice" or invoice.credited_by:
            self.notify(f"{invoice.number} cannot be credited (a credit note, or already cancelled).", title="Credit note")
            return

        def done(reason: str | None) -> None:
            if reason is None:
                return
            self.run_operation("Credit note", lambda: f"{credit_invoice(self.ctx, invoice.number, reason).number} cancels {invoice.number}")

        details = [
            f"Order {invoice.marketplace_order_id}, total {money(invoice.total, invoice.currency)}.",
            "The invoice itself never changes; a credit note with the next number cancels it.",
        ]
        self.app.push_screen(
            ConfirmDialog(
                f"Cancel {invoice.number} with a credit note?",
                details=details,
                field="Reason (printed on the credit note):",
                yes="Yes, credit",
            ),
            callback=done,
        )

    def action_upload(self) -> None:
        from shelfdesk.invoices.service import queue_upload_for

        if (invoice := self.current()) is not None:
            self.run_operation("Upload", lambda: f"upload of {invoice.number} queued (action {queue_upload_for(self.ctx, invoice.number)})")

    def action_edit_settings(self) -> None:
        invoice = self.current()
        self._settings_document(invoice.store_name if invoice is not None and invoice.store_name else None)

    @work(thread=True, group="invoice-settings", exclusive=True, exit_on_error=False, description="Reading invoice settings")
    def _settings_document(self, store: str | None) -> None:
        from shelfdesk.invoices.settings import get_settings, list_settings, settings_document

        info = get_settings(self.ctx, store) if store else next(iter(list_settings(self.ctx)), None)
        if info is None:
            self.post_message(OperationDone("Invoice settings", "no store yet: add one first", severity="warning", reload=False))
            return
        self.app.call_from_thread(self._edit, info.store_name, settings_document(info))

    def _edit(self, store: str, document: str) -> None:
        from shelfdesk.editor import EditorError, edit_text

        try:
            with self.app.suspend():
                edited = edit_text(document, suffix=".toml")
        except EditorError as exc:
            self.notify(str(exc), title="Invoice settings", severity="error")
            return
        if edited == document:
            self.notify("No change.", title="Invoice settings")
            return
        self._save_settings(store, edited)

    @work(thread=True, group="invoice-settings", exclusive=True, exit_on_error=False, description="Saving invoice settings")
    def _save_settings(self, store: str, edited: str) -> None:
        from shelfdesk.invoices.errors import InvoiceError
        from shelfdesk.invoices.settings import parse_settings_document, update_settings

        try:
            info = update_settings(self.ctx, store, parse_settings_document(edited))
        except InvoiceError as exc:
            self.post_message(OperationDone("Invoice settings", f"nothing changed: {exc}", severity="error", reload=False))
            return
        missing = info.problems()
        text = f"{store}: saved" + (f"; still missing {', '.join(missing)}" if missing else "")
        self.post_message(OperationDone("Invoice settings", text, severity="warning" if missing else "information"))


def pdf_writer(ctx: Any, number: str) -> Any:
    """The work of ``w``: write the invoice's PDF into the workspace's exports folder (run in a worker)."""

    def write() -> str:
        from shelfdesk.invoices.service import write_invoice

        folder = ctx.paths.exports_dir / "invoices"
        folder.mkdir(parents=True, exist_ok=True)
        return f"{number} written to {write_invoice(ctx, number, folder)}"

    return write


def invoice_text(ctx: Any, number: str, width: int = 76) -> str:
    """The invoice as the console shows it: the document as text, then its upload state and fingerprint."""
    from shelfdesk.invoices.render import render_text
    from shelfdesk.invoices.service import get_invoice

    detail = get_invoice(ctx, number)
    text = render_text(detail.document, width)
    info = detail.info
    extra = []
    if info.credited_by:
        extra.append(f"cancelled by credit note {info.credited_by}")
    if info.upload_state:
        extra.append(f"upload {info.upload_state}" + (f": {info.upload_error}" if info.upload_error else ""))
    extra.append(f"PDF {detail.pdf_size:,} bytes · sha256 {detail.pdf_sha256[:16]}…")
    return text + "\n\n" + " · ".join(extra)


class InvoiceViewScreen(ShelfdeskScreen):
    """One invoice in full, as text; ``w`` writes its PDF."""

    SCOPE = "invoices"
    TITLE = "Invoice"
    CSS_PATH = "invoice_screens.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="invoice-view"):
            yield Static("loading…", id="invoice-view-text", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="invoice-view", exclusive=True, exit_on_error=False, description="Reading an invoice")
    def _load(self) -> None:
        self.post_message(InvoicesLoaded([], detail=invoice_text(self.ctx, self.number, width=max(60, self.app.size.width - 4))))

    def on_invoices_loaded(self, message: InvoicesLoaded) -> None:
        self.query_one("#invoice-view-text", Static).update(message.detail)

    def disabled_reason(self, action: str) -> str | None:
        if action in ("credit", "upload", "view_invoice", "edit_settings"):
            return "From the invoices list (Esc): here the invoice is only read and written out."
        return super().disabled_reason(action)

    def action_write_pdf(self) -> None:
        self.run_operation("Write PDF", pdf_writer(self.ctx, self.number))
