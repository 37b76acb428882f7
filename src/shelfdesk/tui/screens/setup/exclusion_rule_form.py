"""Add an exclusion rule; the number of products it would exclude updates as it is typed.

A rule joins an existing group (AND with its rules) or starts a new group
(OR with the others). The live count runs the same SQL as the saved rules,
in a thread worker, for the rules as they would be after saving.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select

from shelfdesk.domain import ExclusionOperator
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import ExclusionCounted
from shelfdesk.tui.screens.dialog import DialogScreen
from shelfdesk.tui.screens.setup.store_form import form_row

NEW_GROUP = -1


class RuleForm(DialogScreen[dict[str, Any] | None]):
    CSS_PATH = ["setup_form.tcss", "exclusion_rule_form.tcss"]
    SCOPE: ClassVar[str] = "dialog.form"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, channel_id: int, fields: list[str], groups: list[int]) -> None:
        super().__init__()
        self.channel_id = channel_id
        self.fields = fields
        self.groups = groups
        self.request = 0

    def compose(self) -> ComposeResult:
        from shelfdesk.catalog.exclusions import OPERATOR_LABELS

        groups = [("new group (OR)", NEW_GROUP), *((f"group {g} (AND)", g) for g in self.groups)]
        with Vertical(classes="setup-form", id="rule-form"):
            yield Label("Add an exclusion rule", classes="form-title", markup=False)
            yield form_row(
                "Field", Select([(f, f) for f in self.fields], value=self.fields[0], allow_blank=False, compact=True, id="rule-field")
            )
            yield form_row(
                "Operator",
                Select(
                    [(label, op.value) for op, label in OPERATOR_LABELS.items()],
                    value=ExclusionOperator.equals.value,
                    allow_blank=False,
                    compact=True,
                    id="rule-operator",
                ),
            )
            yield form_row("Value", Input(placeholder="value (a regular expression for 'matches')", compact=True, id="rule-value"))
            yield form_row("Group", Select(groups, value=NEW_GROUP, allow_blank=False, compact=True, id="rule-group"))
            yield Label("", id="rule-count", markup=False)
            yield Label("Enter/ctrl+s adds · Esc cancels", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.query_one("#rule-field", Select).focus()
        self._recount()

    def _candidate(self) -> dict[str, Any]:
        group = self.query_one("#rule-group", Select).value
        return {
            "field": self.query_one("#rule-field", Select).value,
            "operator": self.query_one("#rule-operator", Select).value,
            "value": self.query_one("#rule-value", Input).value,
            "group": None if group == NEW_GROUP else group,
        }

    def on_input_changed(self, _: Input.Changed) -> None:
        self._recount()

    def on_select_changed(self, _: Select.Changed) -> None:
        self._recount()

    def _recount(self) -> None:
        self.request += 1
        self._count(self._candidate(), self.request)

    @work(thread=True, group="rule-count", exclusive=True, exit_on_error=False, description="Counting exclusions")
    def _count(self, candidate: dict[str, Any], request: int) -> None:
        from shelfdesk.catalog.errors import CatalogError
        from shelfdesk.catalog.exclusions import Rule, channel_rules, check_rule, count_excluded

        ctx = self.ctx
        rules = channel_rules(ctx, self.channel_id)
        try:
            rule = check_rule(candidate["field"], candidate["operator"], candidate["value"])
        except CatalogError as exc:
            self.post_message(ExclusionCounted(str(exc), request))
            return
        group = candidate["group"] if candidate["group"] is not None else max((r.group_no for r in rules), default=-1) + 1
        rules.append(Rule(rule.field, rule.operator, rule.value, group))
        self.post_message(ExclusionCounted(count_excluded(ctx, self.channel_id, rules), request))

    def on_exclusion_counted(self, message: ExclusionCounted) -> None:
        if message.request != self.request:
            return  # an older count, overtaken by typing
        count: Any = message.count
        text = (
            count
            if isinstance(count, str)
            else (f"With this rule: {count.excluded:,} of {count.total:,} products excluded ({count.kept:,} kept)")
        )
        self.query_one("#rule-count", Label).update(text)

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        from shelfdesk.catalog.errors import CatalogError
        from shelfdesk.catalog.exclusions import check_rule

        candidate = self._candidate()
        try:
            check_rule(candidate["field"], candidate["operator"], candidate["value"])
        except CatalogError as exc:
            self.notify(str(exc), title="Rule", severity="warning")
            return
        self.dismiss(candidate)
