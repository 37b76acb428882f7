"""What an operator does on a case, from the Care list or the case screen: the same keys, the same flows.

Each flow asks in a dialog (a reply in a text editor that works over SSH, a
problem, an item transfer, a refund whose confirmation names the amount and
the buyer), then queues the action through the Care service, which writes it
to the outbox, and sends it at once, all in a thread worker through
``run_operation``: the console never waits on the network. A refusal from
the service (an empty reply, an amount above what is left) brings the dialog
back with what was typed and the reason. The case then shows the action
"synchronizing" until Back Market's own state shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work

from shelfdesk.formatting import money
from shelfdesk.tui.messages import Severity

if TYPE_CHECKING:
    from shelfdesk.services.care import CaseDetail, QueuedAction, RefundQuote

T = TypeVar("T")

#: How long sending one action may wait on the marketplace's limits before it is left to the outbox sweep.
SEND_WAIT = 60.0


def checked(call: Callable[[], T]) -> T:
    """Run a Care service call; its refusal (``CareError``) becomes the ``ValueError`` the action runner shows as the reason."""
    from shelfdesk.services.care import CareError

    try:
        return call()
    except CareError as exc:
        raise ValueError(str(exc)) from exc


def case_language(detail: CaseDetail) -> str:
    """The language saved replies are offered in: the case's market (``fr-fr`` → ``fr``), French when unknown."""
    code = str(detail.raw.get("country_code") or detail.country or "").strip().lower()
    return code[:2] if len(code) >= 2 and code[:2].isalpha() else "fr"


def sent_sentence(ctx: Any, queued: QueuedAction) -> str | tuple[str, Severity]:
    """Send the queued action now and say where it stands (it stays visible on the case either way)."""
    from shelfdesk.services.care import send_actions

    if not queued.created:
        return f"{queued.summary}: already queued, nothing sent twice."
    states = send_actions(ctx, {queued.action_id}, max_wait=SEND_WAIT)
    if states.get("failed"):
        return f"{queued.summary}: refused by the marketplace (the case shows why).", "error"
    if states.get("confirmed"):
        return f"{queued.summary}: done, the marketplace shows it."
    if states.get("synchronizing") or states.get("sent"):
        return f"{queued.summary}: sent; the case shows it synchronizing until the marketplace does."
    return f"{queued.summary}: queued; it is sent as soon as the marketplace answers.", "warning"


class CaseActions:
    """Mixin of the Care list and the case screen (both ``ShelfdeskScreen``\\s).

    The screen says which case is under the cursor (:meth:`case_ref`) and, when
    it has it loaded, the whole case (:meth:`loaded_case`).
    """

    # What the host screen (a ``ShelfdeskScreen``) provides; annotations only, so they resolve to the screen's own at run time.
    ctx: Any
    app: Any
    shell: Any
    notify: Callable[..., None]
    run_operation: Callable[..., None]
    reload_now: Callable[[], None]

    def case_ref(self) -> str | None:
        raise NotImplementedError

    def loaded_case(self) -> CaseDetail | None:
        return None

    # ------------------------------------------------------------ the case, loaded when needed

    def _with_case(self, then: Callable[[CaseDetail], None]) -> None:
        ref = self.case_ref()
        if ref is None:
            self.notify("There is no case here.", title="Care")
            return
        detail = self.loaded_case()
        if detail is not None and detail.case.case_id == ref:
            then(detail)
            return
        self._fetch_case(ref, then)

    @work(thread=True, group="care-case-for-action", exclusive=True, exit_on_error=False, description="Reading the case")
    def _fetch_case(self, ref: str, then: Callable[[CaseDetail], None]) -> None:
        from shelfdesk.services.care import get_case

        try:
            detail = checked(lambda: get_case(self.ctx, ref))
        except ValueError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Care", severity="error")
            return
        self.app.call_from_thread(then, detail)

    # ------------------------------------------------------------ reply

    def action_reply(self) -> None:
        self._with_case(self._ask_reply)

    def _ask_reply(self, detail: CaseDetail, text: str = "", error: str = "") -> None:
        self._load_replies(detail, text, error)

    @work(thread=True, group="care-replies", exclusive=True, exit_on_error=False, description="Reading saved replies")
    def _load_replies(self, detail: CaseDetail, text: str, error: str) -> None:
        from shelfdesk.services.care import saved_replies

        replies = saved_replies(self.ctx)
        self.app.call_from_thread(self._open_reply, detail, replies, text, error)

    def _open_reply(self, detail: CaseDetail, replies: list[Any], text: str, error: str) -> None:
        from shelfdesk.tui.screens.care.dialogs import ReplyDialog

        ref = detail.case.case_id

        def done(answer: str | None) -> None:
            if answer:
                self.run_operation(
                    "Reply",
                    lambda: sent_sentence(self.ctx, checked(lambda: _queue_reply(self.ctx, ref, answer))),
                    retry=("reply", {"ref": ref, "text": answer}),
                )

        dialog = ReplyDialog(
            f"Reply on case {ref} to {detail.case.buyer or 'the buyer'}",
            case_language(detail),
            replies,
            text=text,
            error=error,
            context=_last_buyer_message(detail),
        )
        self.app.push_screen(dialog, callback=done)

    # ------------------------------------------------------------ problem

    def action_problem(self) -> None:
        self._with_case(self._ask_problem)

    def _ask_problem(self, detail: CaseDetail, values: dict[str, str] | None = None, error: str = "") -> None:
        from shelfdesk.services.care import PROBLEM_TYPES, PROBLEMS_NEEDING_ATTACHMENT
        from shelfdesk.tui.screens.care.dialogs import ProblemDialog

        ref = detail.case.case_id

        def done(answer: dict[str, str] | None) -> None:
            if answer is None:
                return
            paths = [Path(p.strip()).expanduser() for p in answer["attachments"].split(",") if p.strip()]
            self.run_operation(
                "Problem",
                lambda: sent_sentence(
                    self.ctx, checked(lambda: _queue_problem(self.ctx, ref, answer["problem_type"], answer["message"] or None, paths))
                ),
                retry=("problem", {"ref": ref, **answer}),
            )

        dialog = ProblemDialog(f"Declare a problem on case {ref}", PROBLEM_TYPES, PROBLEMS_NEEDING_ATTACHMENT, values or {}, error)
        self.app.push_screen(dialog, callback=done)

    # ------------------------------------------------------------ item transfer

    def action_transfer(self) -> None:
        self._with_case(self._ask_transfer)

    def _ask_transfer(self, detail: CaseDetail, values: dict[str, str] | None = None, error: str = "") -> None:
        from shelfdesk.tui.screens.care.dialogs import CareFormDialog

        ref = detail.case.case_id

        def done(answer: dict[str, str] | None) -> None:
            if answer is None:
                return
            self.run_operation(
                "Transfer",
                lambda: sent_sentence(
                    self.ctx,
                    checked(
                        lambda: _queue_transfer(self.ctx, ref, answer["carrier"], answer["tracking"], answer["action"].upper() or None)
                    ),
                ),
                retry=("transfer", {"ref": ref, **answer}),
            )

        fields = (
            ("carrier", "Carrier", "Colissimo, UPS, DHL Express …"),
            ("tracking", "Tracking number", "the parcel going back to the buyer"),
            ("action", "What was done", "REPAIR, REPLACE or NOTHING"),
        )
        title = f"Item sent back to {detail.case.buyer or 'the buyer'} (case {ref})"
        self.app.push_screen(CareFormDialog(title, fields, values or {}, error, go="Declare"), callback=done)

    # ------------------------------------------------------------ refund

    def action_refund(self) -> None:
        self._with_case(self._ask_refund)

    def _ask_refund(self, detail: CaseDetail, values: dict[str, str] | None = None, error: str = "") -> None:
        from shelfdesk.tui.screens.care.dialogs import CareFormDialog

        lines = [line for line in detail.lines if line.refundable > 0 and line.refund_types]
        if not lines:
            self.notify("Nothing is left to refund on this case's lines.", title="Refund", severity="warning")
            return
        first = lines[0]
        values = values or {"line": first.sku or first.line_ref, "amount": ""}
        about = [
            f"{line.sku or line.line_ref}: {money(line.unit_price)} x{line.quantity} · refunded {money(line.refunded)} · "
            f"left {money(line.refundable)} {line.currency}"
            for line in lines
        ]
        partial = "a part after shipping, or" if any(6 in line.refund_types for line in lines) else "only"
        fields = (
            ("line", "Line (SKU)", "the line to refund"),
            ("amount", "Amount", f"{partial} empty for all that is left"),
        )

        def done(answer: dict[str, str] | None) -> None:
            if answer is not None:
                self._quote_refund(detail, answer)

        title = f"Refund on case {detail.case.case_id} · {detail.case.buyer or 'the buyer'}"
        self.app.push_screen(CareFormDialog(title, fields, values, error, go="Next", about=about), callback=done)

    @work(thread=True, group="care-refund-quote", exclusive=True, exit_on_error=False, description="Checking the refund")
    def _quote_refund(self, detail: CaseDetail, values: dict[str, str]) -> None:
        from shelfdesk.services.care import quote_refund

        try:
            quote = checked(lambda: quote_refund(self.ctx, detail.case.case_id, values["line"] or None, values["amount"] or None))
        except ValueError as exc:
            self.app.call_from_thread(self._ask_refund, detail, values, str(exc))
            return
        self.app.call_from_thread(self._confirm_refund, detail, quote, values)

    def _confirm_refund(self, detail: CaseDetail, quote: RefundQuote, values: dict[str, str]) -> None:
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        ref = detail.case.case_id
        left = quote.refundable - quote.amount

        def done(answer: str | None) -> None:
            if answer is not None:
                self.run_operation(
                    "Refund",
                    lambda: sent_sentence(self.ctx, checked(lambda: _queue_refund(self.ctx, ref, values["line"] or None, quote.amount))),
                    retry=("refund", {"ref": ref, **values}),
                )

        self.app.push_screen(
            ConfirmDialog(
                quote.sentence() + "?",
                details=[
                    f"Left to refund on the line: {quote.refundable} {quote.currency} now, {left} {quote.currency} after.",
                    "A refund cannot be taken back; a credit note follows it when the order has an invoice.",
                ],
                yes=f"Yes, refund {quote.amount} {quote.currency}",
                cancelled="Not confirmed: nothing was refunded.",
            ),
            callback=done,
        )

    # ------------------------------------------------------------ a refused action comes back with what was typed

    def operation_refused(self, kind: str, values: dict[str, object], *, error: str) -> None:
        ref = str(values.get("ref") or "")
        typed = {k: str(v) for k, v in values.items() if k != "ref"}
        again: dict[str, Callable[[CaseDetail], None]] = {
            "reply": lambda d: self._ask_reply(d, typed.get("text", ""), error),
            "problem": lambda d: self._ask_problem(d, typed, error),
            "transfer": lambda d: self._ask_transfer(d, typed, error),
            "refund": lambda d: self._ask_refund(d, typed, error),
        }
        if kind in again and ref:
            self._fetch_case(ref, again[kind])

    # ------------------------------------------------------------ where the case leads

    def action_open_case_order(self) -> None:
        self._with_case(self._open_order)

    def _open_order(self, detail: CaseDetail) -> None:
        from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen

        if detail.case.order_id is None:
            self.notify(
                f"Order {detail.case.order_ref or ''} is not harvested yet: f fetches orders and cases.", title="Order", severity="warning"
            )
            return
        self.app.push_screen(OrderDetailScreen(detail.case.order_id))

    def action_case_invoices(self) -> None:
        self._with_case(self._open_invoices)

    def _open_invoices(self, detail: CaseDetail) -> None:
        from shelfdesk.tui.screens.invoices.invoice_screens import InvoicesScreen

        if detail.case.order_id is None:
            self.notify("The case's order is not harvested yet, so it has no invoice here.", title="Invoices", severity="warning")
            return
        self.app.push_screen(InvoicesScreen(detail.case.order_id, detail.case.order_ref))

    # ------------------------------------------------------------ harvest

    def action_fetch(self) -> None:
        self.notify("Fetching Care cases and orders…", title="Care")
        self._harvest()

    @work(exclusive=True, group="care-harvest", exit_on_error=False, description="Fetching Care cases")
    async def _harvest(self) -> None:
        import asyncio

        from shelfdesk.jobs.manual import harvest_now
        from shelfdesk.services.care import harvest_care

        results = await asyncio.to_thread(harvest_care, self.ctx, force=True)
        orders = await harvest_now(self.ctx, self.app.run_key)
        new = sum(r.cases_new for r in results)
        changed = sum(r.cases_updated for r in results)
        messages = sum(r.messages_new for r in results)
        notes = [f"{r.account}: {r.error}" for r in results if r.error] + [r.budget_note for r in results if r.skipped_for_budget]
        orders_changed = sum(len(m.result.stored.updated) + len(m.result.stored.created) for m in orders if m.result is not None)
        text = f"{new} new case(s), {changed} changed, {messages} new message(s); {orders_changed} order(s) new or changed"
        severity = "warning" if notes else "information"
        self.notify(
            "; ".join([text, *notes]) if results else "No Back Market account to fetch cases from.", title="Care", severity=severity
        )
        self.shell.data_changed()
        self.reload_now()


def _last_buyer_message(detail: CaseDetail) -> str:
    """The buyer's latest words, shown above the editor so the reply answers them."""
    for message in reversed(detail.timeline):
        if message.sender == "buyer" and message.body.strip():
            return message.body.strip()
    return ""


def _queue_reply(ctx: Any, ref: str, text: str) -> QueuedAction:
    from shelfdesk.services.care import queue_reply

    return queue_reply(ctx, ref, text)


def _queue_problem(ctx: Any, ref: str, problem_type: str, message: str | None, paths: list[Path]) -> QueuedAction:
    from shelfdesk.services.care import queue_problem

    return queue_problem(ctx, ref, problem_type, message, attachments=paths)


def _queue_transfer(ctx: Any, ref: str, carrier: str, tracking: str, action: str | None) -> QueuedAction:
    from shelfdesk.services.care import queue_transfer

    return queue_transfer(ctx, ref, carrier, tracking, action)


def _queue_refund(ctx: Any, ref: str, line: str | None, amount: Any) -> QueuedAction:
    from shelfdesk.services.care import queue_refund

    return queue_refund(ctx, ref, line, amount)
