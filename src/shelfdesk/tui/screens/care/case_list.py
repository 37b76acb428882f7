"""The Care screen (``6``): after-sales cases, what is due first.

The list comes from :func:`shelfdesk.services.care.list_cases` in a thread
worker: cases sorted by when their next answer or resolution is due (late
ones in bold), filtered like Orders by state (``t``), channel (``c``) and
text (``/``: case, order, buyer, SKU or problem). The line under the table
tells the highlighted case in words; Enter opens it on one timeline. Reply,
refund, problem and transfer work from here too, on the highlighted case
(see :mod:`.case_actions`). While an action is synchronizing the list reloads
itself, so "sync" goes away once the marketplace shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widgets import DataTable, Label, Static

from shelfdesk.formatting import money
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import CareCasesLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.care.case_actions import CaseActions
from shelfdesk.tui.widgets.data_window import DataWindow, keyed
from shelfdesk.tui.widgets.empty_state import EmptyState

if TYPE_CHECKING:
    from shelfdesk.services.care import CaseRow

#: Widths at 80 columns (each cell has one space of padding either side).
COLUMNS = keyed([("Due", 9), ("Case", 9), ("State", 6), ("Order", 8), ("Buyer", 11), ("Wants", 7), ("Last", 5), ("Chan.", 5)])
STATES: list[str | None] = [None, "open", "closed"]
#: While something synchronizes, the list reads the workspace again this often (the Care job harvests meanwhile).
SYNC_RELOAD_SECONDS = 15.0
WHO = {"buyer": "buyer", "merchant": "you", "backmarket": "BM", "shelfdesk": "you"}


def due_cell(row: CaseRow, now: datetime) -> Text:
    """Time left before the next answer or resolution is due; late in bold."""
    from shelfdesk.deadlines import format_left

    if row.due_at is None or row.state != "open":
        return Text("—", style="dim")
    left = row.due_at - now
    return Text(format_left(left), style="bold" if left.total_seconds() < 0 else "")


def describe(row: CaseRow, now: datetime) -> str:
    """The highlighted case in words, under the table (three lines)."""
    from shelfdesk.deadlines import format_left

    first = f"Case {row.case_id} · {row.channel or row.marketplace} · order {row.order_ref or '—'} · {row.buyer or 'buyer unknown'}"
    label = f" · return label {row.return_label}" if row.return_label else ""
    refunded = f" · refunded {money(row.refunded)}" if row.refunded else ""
    second = f"{row.problem or 'no issue given'} · wants {row.resolution or '—'}{label} · {row.messages} message(s){refunded}"
    if row.state != "open":
        third = "Closed." + (" An action is still synchronizing." if row.synchronizing else "")
    elif row.due_at is not None:
        third = f"{(row.due_what or 'answer').capitalize()} due {row.due_at:%Y-%m-%d %H:%M} UTC ({format_left(row.due_at - now)})"
        third += " · an action is synchronizing" if row.synchronizing else ""
    else:
        third = "Nothing due." + (" An action is synchronizing." if row.synchronizing else "")
    return "\n".join((first, second, third))


class CareScreen(CaseActions, ShelfdeskScreen):
    """After-sales cases of every Back Market account, what is due first."""

    SCOPE = "care"
    VIEW = "care"
    TITLE = "Care"
    CSS_PATH = "case_list.tcss"
    BINDINGS = bindings_for(SCOPE)
    FILTERABLE = True

    def __init__(self) -> None:
        super().__init__()
        self.cases: list[CaseRow] = []
        self.state: str | None = None
        self.channel: str | None = None
        self.channels: list[str] = []
        self._request = 0
        self._loaded = False
        self._sync_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Care · loading…", id="care-title", markup=False)
        yield Label("", id="care-counts", markup=False)
        yield EmptyState(
            "No Care cases yet",
            "When a buyer opens an after-sales case on Back Market (a faulty device, a parcel that never came, a "
            "refund request), it appears here with its order and every message, what is due first; you reply, "
            "refund, declare a problem or an item sent back from the keyboard.",
            "Press f to fetch cases now; the Care job also fetches them on its schedule.",
            id="care-empty",
        )
        yield DataWindow(COLUMNS, id="care-table", zebra_stripes=False, cursor_foreground_priority="renderable")
        yield Static("", id="care-detail", markup=False)

    def on_mount(self) -> None:
        self.query_one("#care-empty").display = False
        self.reload_now()

    @property
    def table(self) -> DataWindow:
        return self.query_one(DataWindow)

    # ------------------------------------------------------------ loading

    def refresh_data(self) -> None:
        self._request += 1
        self._load(self.state, self.channel, self.filter_text.strip(), self._request)

    @work(thread=True, group="care-list", exclusive=True, exit_on_error=False, description="Listing Care cases")
    def _load(self, state: str | None, channel: str | None, text: str, request: int) -> None:
        from shelfdesk.orders.queries import lookups
        from shelfdesk.services.care import list_cases

        cases = list_cases(self.ctx, state=state, channel=channel, text=text or None)
        self.post_message(CareCasesLoaded(cases, list(lookups(self.ctx).channels.values()), request))

    def on_care_cases_loaded(self, message: CareCasesLoaded) -> None:
        if message.request != self._request:
            return  # a newer filter's list is on its way
        self._loaded = True
        self.cases = message.cases
        self.channels = message.channels
        now = self.ctx.clock.now()
        self.table.show([(row.case_id, self._cells(row, now)) for row in self.cases])
        self._show_title(now)
        self._show_detail()
        self._watch_sync()

    def _cells(self, row: CaseRow, now: datetime) -> list[Any]:
        state = Text("sync", style="italic") if row.synchronizing else Text(row.state, style="dim" if row.state == "closed" else "")
        return [
            due_cell(row, now),
            row.case_id,
            state,
            row.order_ref or "—",
            row.buyer or "—",
            (row.resolution or "—").title().replace("_", " "),
            WHO.get(row.last_message_from or "", row.last_message_from or "—"),
            row.channel or row.marketplace,
        ]

    def _show_title(self, now: datetime) -> None:
        filters = [self.state or "all states", self.channel or "all channels"]
        if self.filter_text.strip():
            filters.append(f"text {self.filter_text.strip()!r}")
        self.query_one("#care-title", Label).update(f"Care · {len(self.cases):,} case(s) · " + " · ".join(filters))
        open_cases = [c for c in self.cases if c.state == "open"]
        late = sum(1 for c in open_cases if c.due_at is not None and c.due_at < now)
        day = sum(1 for c in open_cases if c.due_at is not None and 0 <= (c.due_at - now).total_seconds() < 86400)
        syncing = sum(1 for c in self.cases if c.synchronizing)
        counts = [(len(open_cases), "open"), (len(self.cases) - len(open_cases), "closed"), (late, "late"), (day, "due within 24 h")]
        counts.append((syncing, "synchronizing"))
        self.query_one("#care-counts", Label).update("  ".join(f"{what} {n}" for n, what in counts if n) or "no case")
        empty = not self.cases and self.state is None and self.channel is None and not self.filter_text.strip()
        self.query_one("#care-empty").display = empty
        self.table.display = not empty
        self.query_one("#care-detail").display = not empty

    def current(self) -> CaseRow | None:
        key = self.table.current_key
        return next((c for c in self.cases if c.case_id == key), None) if key is not None else None

    def case_ref(self) -> str | None:
        row = self.current()
        return row.case_id if row is not None else None

    def _show_detail(self) -> None:
        row = self.current()
        self.query_one("#care-detail", Static).update("" if row is None else describe(row, self.ctx.clock.now()))

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_case()

    def _watch_sync(self) -> None:
        """Read again in a while when something is synchronizing (until the marketplace shows it)."""
        if self._sync_timer is not None:
            self._sync_timer.stop()
            self._sync_timer = None
        if any(c.synchronizing for c in self.cases) and self.is_attached:
            self._sync_timer = self.set_timer(SYNC_RELOAD_SECONDS, self.reload_now)

    def on_screen_resume(self) -> None:
        if self._loaded:
            self.reload_now()

    # ------------------------------------------------------------ filters

    def apply_filter(self, text: str) -> None:
        self.reload_now()

    def action_filter_state(self, value: str | None = None) -> None:
        if value is None:
            self.state = STATES[(STATES.index(self.state) + 1) % len(STATES)]
        else:
            wanted = value.strip().casefold()
            if wanted in ("all", "any", ""):
                self.state = None
            elif wanted in ("open", "closed"):
                self.state = wanted
            else:
                self.notify(f"Unknown state {value!r}: open, closed or all", title="Filter", severity="error")
                return
        self.reload_now()

    def action_filter_channel(self, value: str | None = None) -> None:
        if value is None:
            choices: list[str | None] = [None, *self.channels]
            self.channel = choices[(choices.index(self.channel) + 1) % len(choices)] if self.channel in choices else None
        else:
            wanted = value.strip().casefold()
            if wanted in ("all", "any", ""):
                self.channel = None
            else:
                match = next((c for c in self.channels if c.casefold() == wanted), None)
                if match is None:
                    self.notify(f"No channel {value!r}: {', '.join(self.channels) or 'none yet'}", title="Filter", severity="error")
                    return
                self.channel = match
        self.reload_now()

    def action_reset_filters(self) -> None:
        self.state = self.channel = None
        if self.filter_text:
            self.filter_text = ""
            from shelfdesk.tui.widgets.filter_bar import FilterBar

            self.query_one(FilterBar).clear()
        self.reload_now()

    # ------------------------------------------------------------ the case

    def action_open_case(self) -> None:
        from shelfdesk.tui.screens.care.case_view import CaseScreen

        ref = self.case_ref()
        if ref is not None:
            self.app.push_screen(CaseScreen(ref))
