"""The column-detection step of an import: the feed's columns with sample values, and which one
plays each role (SKU, EAN, title, brand, category, price, stock). Columns without a role are kept
on each product as extra attributes. ctrl+s imports with these roles, Esc cancels."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Select, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen
from shelfdesk.tui.screens.setup.store_form import form_row

NONE = ""


class ColumnsForm(DialogScreen[dict[str, str] | None]):
    CSS_PATH = ["setup_form.tcss", "import_columns_form.tcss"]
    SCOPE: ClassVar[str] = "dialog.columns"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, store_name: str, preview: Any) -> None:
        super().__init__()
        self.store_name = store_name
        self.preview = preview

    def compose(self) -> ComposeResult:
        from shelfdesk.catalog.columns import ROLE_LABELS, ROLES

        p = self.preview
        choices = [("(none)", NONE), *((c.name, c.name) for c in p.columns)]
        with Vertical(classes="setup-form", id="columns-form"):
            yield Label(f"Import into {self.store_name}: {len(p.columns)} columns found", classes="form-title", markup=False)
            options = ", ".join(f"{k} {v!r}" for k, v in p.options.items() if k != "quotechar")
            yield Label(f"{options} · roles {'as saved' if p.saved_roles else 'suggested'}", classes="form-hint", markup=False)
            with VerticalScroll(id="columns-fields"):
                for role in ROLES:
                    yield form_row(
                        ROLE_LABELS[role],
                        Select(choices, value=p.roles.get(role, NONE), allow_blank=False, compact=True, id=f"role-{role}"),
                    )
                lines = [f"{c.name}: {' | '.join(c.samples) or '(empty)'}" for c in p.columns]
                yield Static("\n".join(lines), id="columns-samples", markup=False)
            for problem in p.problems[:2]:
                yield Label(problem, classes="form-error", markup=False)
            yield Label("Tab next role · Enter opens a role's list · ctrl+s imports · Esc cancels", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#role-sku", Select).focus()

    def action_save(self) -> None:
        from shelfdesk.catalog.columns import ROLES

        chosen = {role: self.query_one(f"#role-{role}", Select).value for role in ROLES}
        roles = {role: str(column) for role, column in chosen.items() if column}
        if "sku" not in roles:
            self.notify("Choose the column that holds the SKU.", title="Columns", severity="warning")
            return
        used = list(roles.values())
        if len(used) != len(set(used)):
            self.notify("One column cannot play two roles.", title="Columns", severity="warning")
            return
        self.dismiss(roles)
