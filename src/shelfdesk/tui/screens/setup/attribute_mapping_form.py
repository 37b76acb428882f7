"""Map one channel attribute: a catalog column (with a default and a value map), or a constant.

The value map reads ``catalog value=accepted value`` pairs separated by commas
(``0=PREMIUM, 1=EXCELLENT``); for attributes with accepted values it starts
from the obvious matches among the column's most common values.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen
from shelfdesk.tui.screens.setup.store_form import form_row

CONSTANT = "(constant)"


def parse_value_map(text: str) -> dict[str, str]:
    """``"0=PREMIUM, 1=EXCELLENT"`` → ``{"0": "PREMIUM", "1": "EXCELLENT"}``; a pair without ``=`` is an error."""
    out: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        if "=" not in pair:
            raise ValueError(f"{pair!r} is not a pair (write catalog value=accepted value)")
        source, _, target = pair.partition("=")
        out[source.strip()] = target.strip()
    return out


def format_value_map(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def refused_values(spec: Any, values: list[str], value_map: dict[str, str]) -> list[str]:
    """The catalog values the attribute would still refuse through ``value_map`` (what to add to it).

    Looked up as :meth:`ColumnRule.resolve` does: exactly, then ignoring case.
    """
    folded = {key.casefold(): target for key, target in value_map.items()}
    mapped = {value: value_map.get(value.strip(), folded.get(value.strip().casefold(), value)) for value in values}
    return [value for value, target in mapped.items() if spec.check(target)[1] is not None]


def refused_text(refused: list[str]) -> str:
    return f"Not accepted yet: {', '.join(refused)} (add to the value map)" if refused else "Every common value is accepted now."


class ColumnForm(DialogScreen[dict[str, Any] | None]):
    CSS_PATH = ["setup_form.tcss", "attribute_mapping_form.tcss"]
    SCOPE: ClassVar[str] = "dialog.form"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, spec: Any, fields: list[str], values: list[str], rule: Any, suggestion: str | None) -> None:
        super().__init__()
        self.spec = spec
        self.fields = fields
        self.values = values
        self.rule = rule
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        from shelfdesk.catalog.column_mapping import describe_spec, suggest_value_map

        rule = self.rule
        column = (rule.column if rule else None) or self.suggestion
        source = CONSTANT if rule is not None and rule.constant is not None else (column or CONSTANT)
        value_map = (
            dict(rule.value_map) if rule and rule.value_map else (suggest_value_map(self.spec, self.values) if self.spec.choices else {})
        )
        options = [(name, name) for name in self.fields] + [("(constant value)", CONSTANT)]
        with Vertical(classes="setup-form", id="column-form"):
            yield Label(f"{self.spec.label} ({self.spec.name}) — {describe_spec(self.spec)}", classes="form-title", markup=False)
            yield form_row(
                "Catalog column",
                Select(
                    options,
                    value=source if source in dict(options).values() else CONSTANT,
                    allow_blank=False,
                    compact=True,
                    id="col-source",
                ),
            )
            # Compact inputs: a form row is one line high (a bordered input would show only its top edge).
            yield form_row(
                "Constant",
                Input(
                    rule.constant if rule and rule.constant is not None else "",
                    placeholder=self.spec.suggested_default or "used for every product",
                    compact=True,
                    id="col-constant",
                ),
            )
            yield form_row("Default if empty", Input(rule.default if rule and rule.default else "", compact=True, id="col-default"))
            # Focusing the value map does not select it: the usual edit appends a pair, typing must not replace it.
            yield form_row(
                "Value map",
                Input(format_value_map(value_map), placeholder="0=PREMIUM, 1=EXCELLENT", compact=True, select_on_focus=False, id="col-map"),
            )
            if self.values:
                yield Label("Common values: " + ", ".join(self.values[:10]), classes="form-hint", markup=False)
                refused = refused_values(self.spec, self.values[:10], value_map) if self.spec.choices else []
                if refused:
                    yield Label(refused_text(refused), classes="form-hint", id="col-refused", markup=False)
            yield Label("Enter/Tab next · ctrl+s saves · Esc cancels", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        if self.query("#col-refused"):  # values still refused: the value map is what to complete
            value_map = self.query_one("#col-map", Input)
            value_map.focus()
            value_map.cursor_position = len(value_map.value)
        else:
            self.query_one("#col-source", Select).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """The refused values follow the value map as it is typed."""
        hint = self.query("#col-refused")
        if event.input.id != "col-map" or not hint:
            return
        try:
            refused = refused_values(self.spec, self.values[:10], parse_value_map(event.value))
        except ValueError:  # a pair being typed
            return
        hint.first(Label).update(refused_text(refused))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "col-map":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        source = self.query_one("#col-source", Select).value
        constant = self.query_one("#col-constant", Input).value.strip()
        try:
            value_map = parse_value_map(self.query_one("#col-map", Input).value)
        except ValueError as exc:
            self.notify(str(exc), title="Value map", severity="error")
            return
        if source == CONSTANT:
            if not constant:
                self.notify("Type the constant, or choose a catalog column.", title="Mapping", severity="warning")
                return
            if self._refused("constant", constant):
                return
            self.dismiss({"constant": constant})
            return
        if constant:  # it would be dropped without a word: the column wins
            self.notify(
                f"The constant {constant!r} is used only with “(constant value)” as the catalog column: "
                "choose it there, or empty the constant.",
                title="Mapping",
                severity="warning",
            )
            return
        default = self.query_one("#col-default", Input).value.strip() or None
        if (default and self._refused("default", default)) or any(
            self._refused(f"value map {key!r} →", target) for key, target in value_map.items()
        ):
            return
        self.dismiss({"column": source, "default": default, "value_map": value_map})

    def _refused(self, label: str, value: str) -> bool:
        """Say why the attribute refuses ``value`` (the service's own check) and keep the form open, typed values and all."""
        problem = self.spec.check(value)[1]
        if problem:
            self.notify(f"{self.spec.name}: {label} {problem}", title="Mapping", severity="error")
        return problem is not None
