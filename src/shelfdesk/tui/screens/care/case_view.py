"""One Care case on one timeline: the buyer, the order and its invoice, the lines with IMEI/serial and what
is left to refund, then every message and every action of ours, oldest first, with their state.

Loaded in a thread worker; the actions (reply, refund, problem, transfer) are
the list's (:mod:`.case_actions`). While one of ours is synchronizing the case
reads itself again every few seconds, so it shows the moment the marketplace
does.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from shelfdesk.formatting import money
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import CareCaseLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.care.case_actions import CaseActions, checked
from shelfdesk.tui.screens.care.case_list import SYNC_RELOAD_SECONDS

if TYPE_CHECKING:
    from shelfdesk.services.care import CaseDetail

#: How the timeline names who wrote.
SENDERS = {"buyer": "buyer", "merchant": "you", "backmarket": "Back Market", "shelfdesk": "shelfdesk"}
WAITING = ("pending", "sending", "sent", "synchronizing")


def _when(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M") if value else "—"


def render_case(d: CaseDetail, now: datetime) -> Text:
    """The whole case as text: statuses in words, the theme colours only headings."""
    from shelfdesk.deadlines import format_left

    c = d.case
    out = Text()

    def heading(title: str) -> None:
        out.append(f"\n{title}\n", style="bold underline")

    def line(label: str, value: str) -> None:
        out.append(f"{label:<10}", style="bold")
        out.append(f"{value}\n")

    out.append(f"Care case {c.case_id}", style="bold")
    sync = "  [synchronizing]" if c.synchronizing else ""
    out.append(f"  (#{c.id}) · {c.state} · {c.channel or c.marketplace}{sync}\n")
    if c.state == "open" and c.due_at is not None:
        left = c.due_at - now
        what = (c.due_what or "answer").capitalize()
        out.append(f"{what} due {c.due_at:%Y-%m-%d %H:%M} UTC ({format_left(left)})\n", style="bold" if left.total_seconds() < 0 else "")
    line("Buyer", " · ".join(x for x in (c.buyer, d.buyer_email, d.country) if x) or "—")
    order = f"{c.order_ref or '—'} · {d.order_status or 'not harvested yet'} · {money(d.order_total)} {d.currency}"
    line("Order", order + f" · invoice {d.invoice or 'none yet'}")
    label = f" · return label {c.return_label}" if c.return_label else ""
    line("Wants", f"{c.resolution or '—'}{label} · opened {_when(c.opened_at)}")
    if d.refunds:
        total = sum((r.amount for r in d.refunds if r.state != "failed"), start=type(d.refunds[0].amount)(0))
        line("Refunded", f"{money(total)} {d.currency} in {len(d.refunds)} refund(s)")

    heading(f"Lines ({len(d.lines)})")
    for l in d.lines:
        ident = " · ".join(x for x in (f"IMEI {l.imei}" if l.imei else "", f"S/N {l.serial_number}" if l.serial_number else "") if x)
        out.append(f"  {l.sku or l.line_ref}  x{l.quantity}  {money(l.unit_price)}  {l.status or l.marketplace_status or '—'}")
        out.append(f"  {ident}\n" if ident else "\n")
        if l.title:
            out.append(f"    {l.title}\n", style="dim")
        refund = f"refunded {money(l.refunded)} · left {money(l.refundable)}"
        refund += f" · refund type {'/'.join(map(str, l.refund_types))}" if l.refund_types else " · no refund possible now"
        reason = f" · return reason {l.return_reason}" if l.return_reason else ""
        out.append(f"    {refund}{reason}\n")
        claim = " · ".join(x for x in (", ".join(l.issues), l.warranty or "", l.claim_state or "") if x)
        if claim:
            out.append(f"    {claim}\n", style="italic")

    # Our reply, once the marketplace shows it, is the merchant's message itself: shown once.
    written = {m.body.strip() for m in d.timeline if m.sender == "merchant"}
    timeline = [m for m in d.timeline if not (m.kind == "action" and m.state == "confirmed" and m.body.strip() in written)]
    heading(f"Timeline ({len(timeline)})")
    for m in timeline:
        who = SENDERS.get(m.sender, m.sender)
        state = f"  [{'done' if m.state == 'confirmed' else m.state}]" if m.state else ""
        note = "  (informative)" if m.informative else ""
        out.append(f"  {_when(m.at)}  {who}{note}", style="bold" if m.sender == "buyer" else "")
        out.append(f"{state}\n", style="italic")
        for text in (m.body.strip() or "(no text)").splitlines():
            out.append(f"    {text}\n")
        for attachment in m.attachments:
            where = f" → {attachment.local_path}" if attachment.local_path else " (A downloads it)"
            out.append(f"    📎 {attachment.name}{where}\n", style="dim")
    failed = [a for a in d.actions if a.state == "failed"]
    if failed:
        heading("Refused")
        for a in failed:
            out.append(f"  #{a.id} {a.kind} · {a.summary} — {a.error or 'no reason given'}\n")

    if d.refunds:
        heading(f"Refunds ({len(d.refunds)})")
        for r in d.refunds:
            note = f" · credit note {r.credit_note}" if r.credit_note else ""
            out.append(
                f"  {_when(r.created_at)}  {money(r.amount)} {r.currency} · {r.sku or r.line_ref or '—'} · {r.source} · {r.state}{note}\n"
            )
    return out


class CaseScreen(CaseActions, ShelfdeskScreen):
    """One case; Esc goes back to the list."""

    SCOPE = "care.case"
    VIEW = "care"
    TITLE = "Care case"
    CSS_PATH = "case_view.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.detail: CaseDetail | None = None
        self._sync_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="case-scroll"):
            yield Static(f"Case {self.ref} · loading…", id="case-text", markup=False)

    def on_mount(self) -> None:
        self.reload_now()

    def case_ref(self) -> str | None:
        return self.ref

    def loaded_case(self) -> CaseDetail | None:
        return self.detail

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="care-case", exclusive=True, exit_on_error=False, description="Reading the case")
    def _load(self) -> None:
        from shelfdesk.services.care import get_case

        try:
            self.post_message(CareCaseLoaded(checked(lambda: get_case(self.ctx, self.ref))))
        except ValueError as exc:
            self.post_message(CareCaseLoaded(None, str(exc)))

    def on_care_case_loaded(self, message: CareCaseLoaded) -> None:
        text = self.query_one("#case-text", Static)
        if message.detail is None:
            text.update(f"Case {self.ref} cannot be shown: {message.error}")
            return
        self.detail = message.detail
        text.update(render_case(message.detail, self.ctx.clock.now()))
        if self._sync_timer is not None:
            self._sync_timer.stop()
            self._sync_timer = None
        waiting = message.detail.case.synchronizing or any(a.state in WAITING for a in message.detail.actions)
        if waiting and self.is_attached:
            self._sync_timer = self.set_timer(SYNC_RELOAD_SECONDS, self.reload_now)

    def action_download_attachments(self) -> None:
        if self.detail is None or not self.detail.attachments:
            self.notify("This case has no attachment.", title="Attachments")
            return
        self._download([a.id for a in self.detail.attachments])

    @work(thread=True, group="care-attachments", exclusive=True, exit_on_error=False, description="Downloading attachments")
    def _download(self, ids: list[int]) -> None:
        from shelfdesk.services.care import download_attachment

        try:
            paths = [checked(partial(download_attachment, self.ctx, i)) for i in ids]
        except ValueError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Attachments", severity="error")
            return
        folder = paths[0].parent if paths else ""
        self.app.call_from_thread(self.notify, f"{len(paths)} attachment(s) in {folder}", title="Attachments")
        self.app.call_from_thread(self.reload_now)
