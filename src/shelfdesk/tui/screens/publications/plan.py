"""The plan of a dry run: the exact change each product would get, with counts, nothing sent.

Create, update with old → new price and quantity, zero, and what is skipped
and why, as the engine planned it (the next real run sends exactly this, a
test holds it). ``p`` publishes the same feed now; the engine plans again
just before sending, so it sends what is true then.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Label, Static

from shelfdesk.formatting import NONE, amount_text
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import MAX_ROWS, DataWindow, cut_middle

SKU_WIDTH = 22
COLUMNS = [("sku", "SKU", SKU_WIDTH), ("do", "Would", 11), ("change", "Change", 26), ("why", "Why", 11)]


def plan_lines(plan: Any) -> list[str]:
    """The plan's counts, as the operator reads them."""
    actions = ", ".join(f"{n:,} {a}" for a, n in plan.action_counts().items()) or "nothing"
    lines = [
        f"would send {actions}"
        + (f" · queued {len(plan.queued):,} (quota {plan.quota:,})" if plan.queued else "")
        + f" · invalid {len(plan.invalid):,} · excluded {plan.excluded:,}"
    ]
    skipped = " · ".join(f"{n:,} {reason}" for reason, n in plan.skipped.most_common(2))
    if skipped:
        lines.append(f"skipped: {skipped}")
    lines += [f"! {w}" for w in plan.warnings[:1]]
    return lines


class PublicationPlanScreen(ShelfdeskScreen):
    """A dry run's result: counts, then one row per product it would touch."""

    SCOPE = "publication-plan"
    VIEW = "publications"
    TITLE = "Plan (dry run)"
    CSS_PATH = "plan.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result

    def compose_body(self) -> ComposeResult:
        plan = self.result.plan
        record = f"#{self.result.publication_id}" if self.result.publication_id else "not recorded (read-only)"
        yield Label(f"Dry run {record} · {plan.channel.label} · {plan.kind} {plan.mode} · nothing sent", id="plan-title", markup=False)
        yield Static("\n".join(plan_lines(plan)), id="plan-counts", markup=False)
        yield DataWindow(COLUMNS, id="plan-table")
        yield Static("", id="plan-item", markup=False)

    def on_mount(self) -> None:
        plan = self.result.plan
        rows: list[tuple[str, list[str]]] = []
        for label, items in (("", plan.to_send), ("queued", plan.queued), ("invalid", plan.invalid), ("held", plan.held)):
            for item in items:
                if len(rows) >= MAX_ROWS:
                    break
                rows.append(
                    (f"{label}:{item.sku}", [cut_middle(item.sku, SKU_WIDTH), label or str(item.action), _change(item), item.reason or ""])
                )
        self.query_one(DataWindow).show(rows)
        self._show_item()

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._show_item()

    def _show_item(self) -> None:
        """The highlighted row whole, under the table: the SKU and Why columns cut long values."""
        table = self.query_one(DataWindow)
        key = table.current_key
        text = ""
        if key is not None:
            _, would, change, why = table.cells(key)
            sku = key.split(":", 1)[1]  # whole: the cell may be cut
            text = " · ".join(part for part in (f"{sku}: {would}", change, why) if part)
        self.query_one("#plan-item", Static).update(text)

    def action_publish_plan(self) -> None:
        from shelfdesk.tui.screens.publications.run_list import PublicationsScreen

        plan = self.result.plan
        home = self.app.screen_stack[0]
        if isinstance(home, PublicationsScreen):
            self.app.pop_screen()
            home.start(plan.channel.id, str(plan.kind), str(plan.mode), dry_run=False, only_skus=list(plan.only_skus) or None)


def _change(item: Any) -> str:
    parts = []
    if item.new_price is not None:
        parts.append(f"{amount_text(item.old_price) or NONE}→{amount_text(item.new_price)}")
    if item.new_quantity is not None:
        parts.append(f"qty {'—' if item.old_quantity is None else item.old_quantity}→{item.new_quantity}")
    return " ".join(parts)
