"""The Mappings screen: one channel's categories, columns, exclusions and readiness.

``[``/``]`` switch channel, ``v`` cycles the four panes. *Categories* lists the
store's categories unmapped first, largest first, with the marketplace leaf,
its cost and whether it needs an IMEI/serial; ``m`` (or Enter) opens a
searchable picker of leaves with suggestions first, ``s`` maps every
unmapped one to its suggestion. *Columns* lists the channel's attributes
(mandatory flagged) with their source and how many products fail each, over
the whole not-excluded catalog; ``m`` maps one to a column, a constant or a
value map. *Exclusions* lists the rules by group (AND within, OR across) with
the live count; ``a`` adds one (its count updates as it is typed), ``x``
excludes one product, space toggles, ``d`` deletes. *Readiness* shows the
three lights with their reasons; ``A`` activates publication when all are
green. Everything is read and written in thread workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.widgets import Label, Static, TabbedContent, TabPane

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import MappingChannelsLoaded, MappingPaneLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.setup.stores import readiness_lines
from shelfdesk.tui.widgets.data_window import MAX_ROWS, DataWindow

PANES = ("categories", "columns", "exclusions", "readiness")
CATEGORY_COLUMNS = [
    ("merchant", "Merchant category", 26),
    ("products", "Products", 8),
    ("target", "Marketplace category", 24),
    ("cost", "Cost", 6),
    ("imei", "IMEI", 4),
]
COLUMN_COLUMNS = [
    ("attribute", "Attribute", 15),
    ("need", "Need", 5),
    ("source", "Source", 26),
    ("sample", "Sample", 14),
    ("fails", "Fails", 8),
]
RULE_COLUMNS = [("group", "Group", 6), ("rule", "Rule", 56), ("on", "On", 4)]


def cost_text(row: Any) -> str:
    if row.commission is not None:
        return f"{row.commission.normalize():f}%"
    if row.insertion_fee is not None:
        return f"€{row.insertion_fee}"
    return ""


class MappingsScreen(ShelfdeskScreen):
    """Category mapping, column mapping, exclusions and readiness per channel."""

    SCOPE = "mappings"
    VIEW = "mappings"
    TITLE = "Mappings"
    CSS_PATH = "mappings.tcss"
    FILTERABLE: ClassVar[bool] = True
    BINDINGS = bindings_for(SCOPE)
    #: The channel to show next (set by the Stores screen's Enter, or :meth:`open_on`).
    wanted_channel: ClassVar[int | None] = None
    #: The pane, the row to highlight in it, and what to say once a change is saved (see :meth:`open_on`).
    AUTO_FOCUS = "#categories-table"
    """The table, not the tab bar: the cursor shows on the first row as soon as Mappings opens."""
    wanted_pane: ClassVar[str | None] = None
    wanted_row: ClassVar[str | None] = None
    wanted_note: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.channels: list[Any] = []
        self.channel_id: int | None = None
        self.unmapped_only = False
        self.data: dict[str, Any] = {}
        self._highlight: tuple[str, str] | None = None  #: (pane, row key) to move the cursor to once loaded
        self.after_save: str | None = None  #: told after each saved change (how to get back to the errors)

    @classmethod
    def open_on(cls, channel_id: int, *, pane: str | None = None, row: str | None = None, note: str | None = None) -> None:
        """Ask the Mappings screen to show ``channel_id`` on ``pane`` with ``row`` highlighted (an attribute
        name on Columns, a merchant category on Categories) the next time it shows; ``note`` is said after
        each saved change. The caller then goes to the Mappings view (``show_view("mappings")``)."""
        cls.wanted_channel, cls.wanted_pane, cls.wanted_row, cls.wanted_note = channel_id, pane, row, note

    def compose_body(self) -> ComposeResult:
        yield Label("Mappings", id="map-title", markup=False)
        with TabbedContent(id="map-tabs"):
            with TabPane("Categories", id="categories"):
                yield DataWindow(CATEGORY_COLUMNS, id="categories-table")
                yield Static("", id="categories-detail", markup=False)
            with TabPane("Columns", id="columns"):
                yield DataWindow(COLUMN_COLUMNS, id="columns-table")
                yield Static("", id="columns-detail", markup=False)
            with TabPane("Exclusions", id="exclusions"):
                yield Label("", id="exclusions-count", markup=False)
                yield DataWindow(RULE_COLUMNS, id="exclusions-table")
            with TabPane("Readiness", id="readiness"):
                yield Static("", id="readiness-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if MappingsScreen.wanted_channel is not None:  # a jump from elsewhere (Stores, an error group)
            self.refresh_data()

    # ------------------------------------------------------------ data

    @property
    def pane(self) -> str:
        return self.query_one(TabbedContent).active or "categories"

    def refresh_data(self) -> None:
        self._load_channels()

    def apply_filter(self, text: str) -> None:
        self._load_pane(self.pane)

    @work(thread=True, group="mappings-channels", exclusive=True, exit_on_error=False, description="Listing channels")
    def _load_channels(self) -> None:
        from shelfdesk.services.channels import list_channels

        self.post_message(MappingChannelsLoaded(list_channels(self.ctx)))

    def on_mapping_channels_loaded(self, message: MappingChannelsLoaded) -> None:
        self.channels = message.channels
        ids = [c.id for c in self.channels]
        wanted, pane, row, note = (
            MappingsScreen.wanted_channel,
            MappingsScreen.wanted_pane,
            MappingsScreen.wanted_row,
            MappingsScreen.wanted_note,
        )
        MappingsScreen.wanted_channel = MappingsScreen.wanted_pane = MappingsScreen.wanted_row = None
        MappingsScreen.wanted_note = None
        if wanted in ids:
            if wanted != self.channel_id:
                self.data.clear()
            self.channel_id = wanted
            self.after_save = note
            if pane in PANES:
                self.query_one(TabbedContent).active = pane
                tables = self.query_one(f"#{pane}").query(DataWindow)
                if tables:
                    tables.first().focus()
                self._highlight = (pane, row) if row else None
        elif self.channel_id not in ids:
            self.channel_id = ids[0] if ids else None
        self._title()
        for pane in PANES:
            self._load_pane(pane)

    def _title(self) -> None:
        channel = self.channel
        if channel is None:
            text = "Mappings · no channel yet: add one on the Stores screen (1, then c)"
        else:
            position = f"{self.channels.index(channel) + 1}/{len(self.channels)}"
            text = f"Mappings · {channel.name} — {channel.store_name} · channel {position} ([ ])"
            if self.unmapped_only:
                text += " · unmapped only"
            if self.filter_text:
                text += f" · filter “{self.filter_text}”"
        self.query_one("#map-title", Label).update(text)

    @property
    def channel(self) -> Any:
        return next((c for c in self.channels if c.id == self.channel_id), None)

    def _load_pane(self, pane: str) -> None:
        if self.channel_id is None:
            self._clear_panes()
            return
        loader = {
            "categories": self._load_categories,
            "columns": self._load_columns,
            "exclusions": self._load_exclusions,
            "readiness": self._load_readiness,
        }[pane]
        loader(self.channel_id, self.filter_text, self.unmapped_only)

    def _clear_panes(self) -> None:
        for table in self.query(DataWindow):
            table.show([])
        self.query_one("#categories-detail", Static).update("")
        self.query_one("#readiness-detail", Static).update("No channel to show.")

    @work(thread=True, group="mappings-categories", exclusive=True, exit_on_error=False, description="Loading categories")
    def _load_categories(self, channel_id: int, search: str, unmapped_only: bool) -> None:
        from shelfdesk.catalog.category_mapping import merchant_categories

        rows = merchant_categories(self.ctx, channel_id, search=search, unmapped_only=unmapped_only, limit=MAX_ROWS)
        self.post_message(MappingPaneLoaded(channel_id, "categories", rows))

    @work(thread=True, group="mappings-columns", exclusive=True, exit_on_error=False, description="Previewing columns")
    def _load_columns(self, channel_id: int, search: str, unmapped_only: bool) -> None:
        from shelfdesk.catalog.column_mapping import attribute_rows, preview

        rows = attribute_rows(self.ctx, channel_id)
        result = preview(self.ctx, channel_id, samples=1)
        if search:
            rows = [r for r in rows if search.casefold() in f"{r.spec.name} {r.spec.label}".casefold()]
        if unmapped_only:
            rows = [r for r in rows if not r.mapped or result.failures.get(r.spec.name)]
        self.post_message(MappingPaneLoaded(channel_id, "columns", (rows, result)))

    @work(thread=True, group="mappings-exclusions", exclusive=True, exit_on_error=False, description="Counting exclusions")
    def _load_exclusions(self, channel_id: int, search: str, unmapped_only: bool) -> None:
        from shelfdesk.catalog.exclusions import channel_rules, count_excluded

        rules = channel_rules(self.ctx, channel_id)
        self.post_message(MappingPaneLoaded(channel_id, "exclusions", (rules, count_excluded(self.ctx, channel_id, rules))))

    @work(thread=True, group="mappings-readiness", exclusive=True, exit_on_error=False, description="Checking readiness")
    def _load_readiness(self, channel_id: int, search: str, unmapped_only: bool) -> None:
        from shelfdesk.catalog.readiness import compute_readiness

        self.post_message(MappingPaneLoaded(channel_id, "readiness", compute_readiness(self.ctx, channel_id)))

    def on_mapping_pane_loaded(self, message: MappingPaneLoaded) -> None:
        if message.channel_id != self.channel_id:
            return  # an answer for a channel the operator already left
        self.data[message.pane] = message.data
        getattr(self, f"_show_{message.pane}")(message.data)
        if self._highlight is not None and self._highlight[0] == message.pane:
            table = self.query_one(f"#{message.pane}-table", DataWindow)
            key = self._highlight[1]
            self._highlight = None
            if key in {str(k.value) for k in table.rows}:
                table.move_cursor(row=table.get_row_index(key))

    def _show_categories(self, rows: list[Any]) -> None:
        self.query_one("#categories-table", DataWindow).show(
            [
                (
                    r.label,
                    [
                        r.label,
                        f"{r.products:,}",
                        r.channel_category_path or ("— " + r.problem if r.problem else "unmapped"),
                        cost_text(r),
                        "yes" if r.requires_imei_or_serial else "",
                    ],
                )
                for r in rows
            ]
        )
        self._describe_category()

    def _show_columns(self, data: tuple[list[Any], Any]) -> None:
        rows, result = data
        sample = result.rows[0].values if result.rows else {}
        cells = []
        for r in rows:
            need = "yes" if r.spec.mandatory else ("if" if r.spec.required_when else "")
            source = r.rule.source_text() if r.mapped else (f"unmapped (suggest {r.suggestion})" if r.suggestion else "unmapped")
            value, problem = sample.get(r.spec.name, (None, None))
            fails = result.failures.get(r.spec.name, 0)
            cells.append((r.spec.name, [r.spec.name, need, source, value or (problem or ""), f"{fails:,}" if fails else "0"]))
        self.query_one("#columns-table", DataWindow).show(cells)
        self._describe_column()

    def _show_exclusions(self, data: tuple[list[Any], Any]) -> None:
        rules, count = data
        self.query_one("#exclusions-count", Label).update(
            f"{count.excluded:,} of {count.total:,} products excluded ({count.kept:,} kept) · rules in one group: AND, "
            "groups: OR · a add · x exclude a SKU · space on/off · d delete"
        )
        cells = [
            (str(r.id), [f"{r.group_no}", ("manual: " if r.is_manual else "") + r.describe(), "on" if r.enabled else "off"]) for r in rules
        ]
        self.query_one("#exclusions-table", DataWindow).show(cells)

    def _show_readiness(self, readiness: Any) -> None:
        lines = readiness_lines(readiness)
        for light in readiness.lights:
            lines.extend(f"  warning: {w}" for w in light.warnings[:3])
        channel = self.channel
        state = (
            "Publication is active."
            if channel is not None and channel.activated_at
            else (
                "All three lights are green: A activates publication."
                if readiness.ready
                else "Publication can be activated once all three lights are green."
            )
        )
        self.query_one("#readiness-detail", Static).update("\n".join([*lines, "", state]))

    def _describe_category(self) -> None:
        row = self._selected("categories")
        detail = self.query_one("#categories-detail", Static)
        if row is None:
            rows = self.data.get("categories") or []
            detail.update("No products in this store yet: import its catalog on the Stores screen." if not rows else "")
            return
        if row.path is None:
            detail.update("Products without a category cannot be mapped: give them one in the catalog feed.")
        elif row.mapped:
            detail.update(
                f"{row.label} → {row.channel_category_path} ({row.channel_category_id})"
                + (" · lines need an IMEI or serial number at shipping" if row.requires_imei_or_serial else "")
            )
        else:
            detail.update(f"{row.label}: {row.products:,} products wait for a category · m picks one · s maps all to suggestions")

    def _describe_column(self) -> None:
        from shelfdesk.catalog.column_mapping import describe_spec

        row = self._selected("columns")
        detail = self.query_one("#columns-detail", Static)
        if row is None:
            detail.update("")
            return
        result = self.data["columns"][1]
        from shelfdesk.catalog.attributes import attribute_set

        channel = self.channel
        attrs = attribute_set(channel.marketplace) if channel is not None else None
        lines = [f"{row.spec.label}: {describe_spec(row.spec, attrs)}"]
        if row.spec.help:
            lines.append(row.spec.help)
        failures = result.failures.get(row.spec.name)
        if failures:
            lines.append(f"{failures:,} of {result.products:,} products fail, e.g. {result.examples.get(row.spec.name)}")
        detail.update("\n".join(lines))

    def _selected(self, pane: str) -> Any:
        table = self.query_one(f"#{pane}-table", DataWindow)
        key = table.current_key
        if key is None or pane not in self.data:
            return None
        if pane == "categories":
            return next((r for r in self.data[pane] if r.label == key), None)
        if pane == "columns":
            return next((r for r in self.data[pane][0] if r.spec.name == key), None)
        return next((r for r in self.data[pane][0] if str(r.id) == key), None)

    def on_data_table_row_highlighted(self, event: Any) -> None:
        if event.data_table.id == "categories-table":
            self._describe_category()
        elif event.data_table.id == "columns-table":
            self._describe_column()

    def on_data_table_row_selected(self, _: Any) -> None:
        self.action_map_selected()

    # ------------------------------------------------------------ navigation

    def action_next_pane(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = PANES[(PANES.index(self.pane) + 1) % len(PANES)]
        tables = self.query_one(f"#{tabs.active}").query(DataWindow)
        if tables:
            tables.first().focus()

    def action_switch_channel(self, step: int) -> None:
        if not self.channels:
            return
        ids = [c.id for c in self.channels]
        index = ids.index(self.channel_id) if self.channel_id in ids else 0
        self.channel_id = ids[(index + step) % len(ids)]
        self.after_save = None  # the way back to an error group was about the other channel
        self.data.clear()
        self._title()
        for pane in PANES:
            self._load_pane(pane)

    def action_toggle_unmapped(self) -> None:
        self.unmapped_only = not self.unmapped_only
        self._title()
        self._load_pane("categories")
        self._load_pane("columns")

    def _need_channel(self) -> int | None:
        if self.channel_id is None:
            self.notify("No channel yet: add one on the Stores screen.", title="Mappings", severity="warning")
        return self.channel_id

    # ------------------------------------------------------------ actions

    def action_map_selected(self) -> None:
        channel_id = self._need_channel()
        if channel_id is None:
            return
        pane = self.pane
        row = self._selected(pane) if pane in ("categories", "columns") else None
        if row is None:
            if pane in ("categories", "columns"):
                self.notify("Nothing highlighted to map.", title="Map", severity="warning")
            return
        if pane == "categories":
            if row.path is None:
                self.notify("Products without a category cannot be mapped.", title="Map", severity="warning")
                return
            self._open_category_picker(channel_id, row.path)
        else:
            self._open_column_form(channel_id, row.spec.name)

    @work(thread=True, group="mappings-form", exit_on_error=False, description="Preparing the category picker")
    def _open_category_picker(self, channel_id: int, merchant: str) -> None:
        from shelfdesk.catalog.categories import category_tree
        from shelfdesk.catalog.category_mapping import channel_info, suggest_for

        info = channel_info(self.ctx, channel_id)
        leaves = category_tree(info.marketplace).leaves()
        suggestions = suggest_for(self.ctx, channel_id, merchant, 3)
        self.app.call_from_thread(self._push_category_picker, channel_id, merchant, leaves, suggestions)

    def _push_category_picker(self, channel_id: int, merchant: str, leaves: list[Any], suggestions: list[Any]) -> None:
        from shelfdesk.tui.screens.setup.category_picker import CategoryPicker

        def done(leaf_id: str | None) -> None:
            if leaf_id is not None:
                self._write("category", lambda: self._set_category(channel_id, merchant, leaf_id))

        self.app.push_screen(CategoryPicker(merchant, leaves, suggestions), done)

    def _set_category(self, channel_id: int, merchant: str, leaf_id: str) -> str:
        from shelfdesk.catalog.category_mapping import set_category_mapping

        row = set_category_mapping(self.ctx, channel_id, merchant, leaf_id)
        return f"{merchant} → {row.channel_category_path}"

    @work(thread=True, group="mappings-form", exit_on_error=False, description="Preparing the column form")
    def _open_column_form(self, channel_id: int, attribute: str) -> None:
        from shelfdesk.catalog.category_mapping import channel_info
        from shelfdesk.catalog.column_mapping import attribute_rows, catalog_fields, channel_rules, distinct_values

        row = next(r for r in attribute_rows(self.ctx, channel_id) if r.spec.name == attribute)
        fields = catalog_fields(self.ctx, channel_info(self.ctx, channel_id).store_id)
        column = (row.rule.column if row.rule else None) or row.suggestion
        values = distinct_values(self.ctx, channel_id, column, 12) if column and row.spec.choices else []
        self.app.call_from_thread(
            self._push_column_form, channel_id, row, fields, values, channel_rules(self.ctx, channel_id).get(attribute)
        )

    def _push_column_form(self, channel_id: int, row: Any, fields: list[str], values: list[str], rule: Any) -> None:
        from shelfdesk.tui.screens.setup.attribute_mapping_form import ColumnForm

        def done(result: dict[str, Any] | None) -> None:
            if result is not None:
                self._write("column", lambda: self._set_column(channel_id, row.spec.name, result))

        self.app.push_screen(ColumnForm(row.spec, fields, values, rule, row.suggestion), done)

    def _set_column(self, channel_id: int, attribute: str, values: dict[str, Any]) -> str:
        from shelfdesk.catalog.column_mapping import set_mapping

        rule = set_mapping(
            self.ctx,
            channel_id,
            attribute,
            column=values.get("column"),
            constant=values.get("constant"),
            default=values.get("default"),
            value_map=values.get("value_map"),
        )
        return f"{attribute} ← {rule.source_text()}"

    def action_apply_suggestions(self) -> None:
        channel_id = self._need_channel()
        if channel_id is None:
            return
        self._propose(channel_id, "columns" if self.pane == "columns" else "categories")

    @work(thread=True, group="mappings-suggest", exclusive=True, exit_on_error=False, description="Finding suggestions")
    def _propose(self, channel_id: int, pane: str) -> None:
        """Read the proposals off the event loop, then show them to tick before anything is mapped."""
        from shelfdesk.catalog.category_mapping import category_proposals
        from shelfdesk.catalog.column_mapping import column_proposals

        proposals = column_proposals(self.ctx, channel_id) if pane == "columns" else category_proposals(self.ctx, channel_id)
        self.app.call_from_thread(self._show_proposals, channel_id, pane, proposals)

    def _show_proposals(self, channel_id: int, pane: str, proposals: list[Any]) -> None:
        from shelfdesk.tui.screens.setup.suggestions_dialog import SuggestionsDialog

        if not proposals:
            noun = "attributes" if pane == "columns" else "categories"
            self.notify(f"No suggestion for the unmapped {noun}: map them one by one with m.", title="Suggestions")
            return
        count = len(proposals)
        noun = ("attribute" if count == 1 else "attributes") if pane == "columns" else ("category" if count == 1 else "categories")
        title = f"{count} {noun} to map to a suggestion: tick those to map"

        def chosen(names: list[str] | None) -> None:
            if names is None:
                return
            if pane == "columns":
                self._write("suggestions", lambda: self._suggest_columns(channel_id, names))
            else:
                self._write("suggestions", lambda: self._suggest_categories(channel_id, names))

        self.app.push_screen(SuggestionsDialog(title, proposals, unit="products" if pane != "columns" else ""), chosen)

    def _suggest_categories(self, channel_id: int, names: list[str]) -> str:
        from shelfdesk.catalog.category_mapping import apply_suggestions

        done = apply_suggestions(self.ctx, channel_id, only=names)
        return f"{len(done)} categor{'y' if len(done) == 1 else 'ies'} mapped to suggestions" if done else "No suggestion to apply."

    def _suggest_columns(self, channel_id: int, names: list[str]) -> str:
        from shelfdesk.catalog.column_mapping import apply_suggestions

        done = apply_suggestions(self.ctx, channel_id, only=names)
        return f"Mapped {', '.join(done)}" if done else "No suggestion to apply."

    def action_clear_selected(self) -> None:
        channel_id = self._need_channel()
        pane = self.pane
        row = self._selected(pane) if pane != "readiness" else None
        if channel_id is None or row is None:
            return
        if pane == "categories" and row.path:
            from shelfdesk.catalog.category_mapping import clear_category_mapping

            self._write("clear", lambda: (clear_category_mapping(self.ctx, channel_id, row.path), f"{row.label} unmapped")[1])
        elif pane == "columns":
            from shelfdesk.catalog.column_mapping import clear_mapping

            self._write("clear", lambda: (clear_mapping(self.ctx, channel_id, row.spec.name), f"{row.spec.name} unmapped")[1])
        elif pane == "exclusions":
            from shelfdesk.catalog.exclusions import delete_rule
            from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

            def delete() -> str:
                delete_rule(self.ctx, row.id)
                return f"Rule {row.describe()} deleted"

            def answered(answer: str | None) -> None:
                if answer is not None:
                    self._write("clear", delete)

            # A rule is typed by hand and no undo brings it back: ask first (mappings are re-picked in a key).
            self.app.push_screen(ConfirmDialog(f"Delete the exclusion rule {row.describe()}?", yes="Yes, delete"), answered)

    def action_toggle_rule(self) -> None:
        row = self._selected("exclusions") if self.pane == "exclusions" else None
        if row is None:
            return
        from shelfdesk.catalog.exclusions import set_rule_enabled

        def toggle() -> str:
            set_rule_enabled(self.ctx, row.id, not row.enabled)
            return f"{row.describe()} {'off' if row.enabled else 'on'}"

        self._write("rule", toggle)

    def action_add_rule(self) -> None:
        channel_id = self._need_channel()
        if channel_id is None:
            return
        self._open_rule_form(channel_id)

    @work(thread=True, group="mappings-form", exit_on_error=False, description="Preparing the rule form")
    def _open_rule_form(self, channel_id: int) -> None:
        from shelfdesk.catalog.category_mapping import channel_info
        from shelfdesk.catalog.column_mapping import catalog_fields
        from shelfdesk.catalog.exclusions import channel_rules

        fields = catalog_fields(self.ctx, channel_info(self.ctx, channel_id).store_id)
        groups = sorted({r.group_no for r in channel_rules(self.ctx, channel_id) if not r.is_manual})
        self.app.call_from_thread(self._push_rule_form, channel_id, fields, groups)

    def _push_rule_form(self, channel_id: int, fields: list[str], groups: list[int]) -> None:
        from shelfdesk.tui.screens.setup.exclusion_rule_form import RuleForm

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self._write("rule", lambda: self._add_rule(channel_id, values))

        self.app.push_screen(RuleForm(channel_id, fields, groups), done)

    def _add_rule(self, channel_id: int, values: dict[str, Any]) -> str:
        from shelfdesk.catalog.exclusions import add_rule

        rule = add_rule(self.ctx, channel_id, values["field"], values["operator"], values.get("value"), group_no=values.get("group"))
        return f"Rule {rule.describe()} added to group {rule.group_no}"

    def action_exclude_product(self) -> None:
        channel_id = self._need_channel()
        if channel_id is None:
            return
        from shelfdesk.tui.screens.setup.exclude_sku_prompt import SkuPrompt

        def done(sku: str | None) -> None:
            if sku:
                from shelfdesk.catalog.exclusions import exclude_product

                self._write("exclude", lambda: (exclude_product(self.ctx, channel_id, sku), f"{sku} excluded by hand")[1])

        self.app.push_screen(SkuPrompt(), done)

    def action_activate(self) -> None:
        channel_id = self._need_channel()
        if channel_id is None:
            return
        from shelfdesk.services.channels import activate_channel

        self._write("activate", lambda: f"{activate_channel(self.ctx, channel_id).name}: publication active.")

    # ------------------------------------------------------------ writes

    def _write(self, what: str, change: Callable[[], str]) -> None:
        """Run one service call; refusals come back as a toast with the service's words."""
        after = self.after_save  # read here: the worker runs on another thread

        def write() -> str:
            text = change()
            return f"{text}. {after}" if after else text

        self.run_operation(what.capitalize(), write)
