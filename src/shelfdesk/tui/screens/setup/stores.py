"""The Stores screen: stores and their channels with readiness lights, imports and connection tests.

One table lists each store followed by its channels (indented). The panel
under it describes the highlighted row: a store's source, column roles and
last import; a channel's account, options and the reasons behind each red
light. Keys add a store (``a``) or a channel (``c``), import a catalog (``i``,
with a progress bar; Esc cancels between batches; ``x`` then lists the
rejected rows), test a connection (``t``), replace a token (``T``) and open a
channel's mappings (Enter). All database and network work runs in thread
workers that post messages back.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar, Static

from shelfdesk.formatting import short_when
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import ImportFinished, ImportProgressed, Severity, StoresLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow

if TYPE_CHECKING:
    from shelfdesk.catalog.readiness import Readiness
    from shelfdesk.services.stores import ChannelLine, StoreSummary

COLUMNS = [
    ("name", "Store / channel", 27),
    ("products", "Products", 8),
    ("imported", "Last import", 13),
    ("lights", "Cat Map API", 11),
    ("state", "State", 10),
]


def light_marks(readiness: Readiness | None) -> str:
    """``✓   ✗   ✓`` under "Cat Map API"; status as text, never colour alone."""
    if readiness is None:
        return "?   ?   ?"
    return "   ".join("✓" if light.ok else "✗" for light in readiness.lights)


def readiness_lines(readiness: Readiness | None) -> list[str]:
    """One line per light: ``Categories: red — 2 categories unmapped (803 products)``."""
    if readiness is None:
        return ["Readiness not computed yet (R recomputes it)."]
    lines = []
    for light in readiness.lights:
        detail = "; ".join(light.reasons) if light.reasons else ("; ".join(light.warnings) or "")
        mark = "✓ green" if light.ok else "✗ red"
        lines.append(f"{light.label}: {mark}" + (f" — {detail}" if detail else ""))
    return lines


class StoresScreen(ShelfdeskScreen):
    """Stores and their channels, with readiness and catalog imports."""

    SCOPE = "stores"
    VIEW = "stores"
    TITLE = "Stores"
    CSS_PATH = "stores.tcss"
    FILTERABLE: ClassVar[bool] = True
    BINDINGS = bindings_for(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.stores: dict[int, StoreSummary] = {}
        self.channels: dict[int, ChannelLine] = {}
        self.importing: str | None = None
        self._cancel = threading.Event()
        #: What the last import of each store started here was given, for forcing it from its report.
        self._last_values: dict[int, dict[str, Any]] = {}
        #: Extra keyword arguments for the import service (tests pass an HTTP transport).
        self.import_options: dict[str, Any] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("Stores", id="stores-title", markup=False)
        yield DataWindow(COLUMNS, id="stores-table")
        yield Static("", id="stores-detail", markup=False)
        with Horizontal(id="stores-progress"):
            yield ProgressBar(total=None, show_eta=False, id="stores-bar")
            yield Label("", id="stores-progress-text", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    # ------------------------------------------------------------ data

    def refresh_data(self) -> None:
        self._load()

    def apply_filter(self, text: str) -> None:
        self._show()

    def action_refresh(self) -> None:
        """R: recompute every channel's lights, then reload (the base refresh only reloads)."""
        self.shell.count_alerts()
        self.reload_now()

    def reload_now(self) -> None:
        """Shown again after a change (a mapping, an activation) or after R: the lights are computed afresh."""
        self._data_seen = self.shell.data_version
        self._load(recompute=True)

    @work(thread=True, group="stores", exclusive=True, exit_on_error=False, description="Loading stores")
    def _load(self, recompute: bool = False) -> None:
        from shelfdesk.services.channels import refresh_readiness
        from shelfdesk.services.stores import list_stores

        if recompute:
            refresh_readiness(self.ctx)
        self.post_message(StoresLoaded(list_stores(self.ctx)))

    def on_stores_loaded(self, message: StoresLoaded) -> None:
        self.stores = {s.id: s for s in message.stores}
        self.channels = {c.id: c for s in message.stores for c in s.channels}
        self._show()

    def _show(self) -> None:
        needle = self.filter_text.casefold()
        rows: list[tuple[str, list[str]]] = []
        for store in self.stores.values():
            channels = [c for c in store.channels if needle in f"{c.name} {c.market} {c.account_name}".casefold()]
            if needle and needle not in store.name.casefold() and not channels:
                continue
            rows.append((f"s{store.id}", self._store_cells(store)))
            shown = store.channels if needle in store.name.casefold() else channels
            rows.extend((f"c{c.id}", self._channel_cells(c)) for c in shown)
        self.query_one(DataWindow).show(rows)
        count = sum(len(s.channels) for s in self.stores.values())
        title = f"Stores · {len(self.stores):,} store{'s' if len(self.stores) != 1 else ''} · {count:,} channel{'s' if count != 1 else ''}"
        if self.filter_text:
            title += f" · filter “{self.filter_text}”"
        self.query_one("#stores-title", Label).update(title)
        self._describe()

    def _store_cells(self, s: StoreSummary) -> list[str]:
        last = s.last_import
        imported = "never"
        if last is not None:
            imported = short_when(last.started_at) + (" !" if last.error or last.rejected else "")
        return [f"{s.name} ({s.country})", f"{s.products:,}", imported, "", ""]

    def _channel_cells(self, c: ChannelLine) -> list[str]:
        ready = c.readiness is not None and c.readiness.ready
        state = "publishing" if c.active else ("ready" if ready else "not ready")
        return [f"  {c.name}", "", "", light_marks(c.readiness), state]

    @property
    def selected(self) -> tuple[str, int] | None:
        key = self.query_one(DataWindow).current_key
        return (key[0], int(key[1:])) if key else None

    def _selected_store(self) -> StoreSummary | None:
        sel = self.selected
        if sel is None:
            return None
        if sel[0] == "s":
            return self.stores.get(sel[1])
        channel = self._selected_channel()
        return next((s for s in self.stores.values() if channel in s.channels), None)

    def _selected_channel(self) -> ChannelLine | None:
        sel = self.selected
        return self.channels.get(sel[1]) if sel and sel[0] == "c" else None

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._describe()

    def on_data_table_row_selected(self, _: Any) -> None:
        self.action_open_mappings()

    def _describe(self) -> None:
        detail = self.query_one("#stores-detail", Static)
        if not self.stores:
            detail.update("No stores yet. Press a to add one, then i to import its catalog and c to add a channel.")
            return
        channel = self._selected_channel()
        if channel is not None:
            lines = [
                f"{channel.name} · {channel.marketplace} {channel.market} · account {channel.account_name}"
                + (" · publishing" if channel.active else "")
            ]
            lines += readiness_lines(channel.readiness)
            lines.append("t test connection · T replace token · e edit · ⏎ mappings · A activate")
            detail.update("\n".join(lines))
            return
        store = self._selected_store()
        if store is None:
            detail.update("")
            return
        from shelfdesk.secrets import mask_url

        roles = ", ".join(f"{k}={v}" for k, v in store.column_roles.items() if k != "extra") or "detected at import"
        lines = [
            f"{store.name} · {store.country} {store.currency} · {store.products:,} products, {store.gone:,} gone",
            f"Source: {mask_url(store.catalog_source) if store.catalog_source else 'none yet (i asks for one)'}",
            f"Columns: {roles} · b browses its products",
        ]
        last = store.last_import
        if last is not None:
            text = (
                f"Last import {last.started_at:%Y-%m-%d %H:%M}: {last.rows_read:,} read, {last.stored:,} stored, "
                f"{last.rejected:,} rejected, {last.gone:,} gone"
            )
            if last.error:
                text += f" — {last.error}"
            lines.append(text + (" · x lists rejected rows" if last.rejected else ""))
        detail.update("\n".join(lines))

    # ------------------------------------------------------------ forms

    def action_add_store(self) -> None:
        from shelfdesk.tui.screens.setup.store_form import StoreForm

        self.app.push_screen(StoreForm(), self._store_form_done)

    def _store_form_done(self, values: dict[str, Any] | None) -> None:
        if values is not None:
            self._save_store(values)

    def _save_store(self, values: dict[str, Any]) -> None:
        from shelfdesk.services.stock import parse_quantity, set_store_safety
        from shelfdesk.services.stores import create_store, update_store
        from shelfdesk.services.working_time import set_store_working_time

        def save() -> str:
            safety = parse_quantity(str(values.get("safety_stock", "0")), "safety stock")
            if values.get("id"):
                if "cutoff_hour" in values:  # first: a bad hour or day refuses the form before anything is saved
                    set_store_working_time(self.ctx, values["id"], cutoff_hour=values["cutoff_hour"], working_days=values["working_days"])
                store = update_store(self.ctx, values["id"], name=values["name"], catalog_source=values["source"])
            else:
                store = create_store(self.ctx, values["name"], values["country"], values["currency"], catalog_source=values["source"])
            if safety != store.safety_stock:
                set_store_safety(self.ctx, store.id, safety)
            return f"Store {store.name} saved."

        self.run_operation("Store", save, retry=("store", values))

    def action_add_channel(self) -> None:
        store = self._selected_store()
        if store is None:
            self.notify("Add a store first (a), then its channels.", title="Channels", severity="warning")
            return
        self._open_channel_form({"store_id": store.id, "store_name": store.name, "country": store.country})

    def _open_channel_form(self, initial: dict[str, Any], error: str | None = None) -> None:
        self._channel_form_data(initial, error)

    @work(thread=True, group="stores-setup", exit_on_error=False, description="Listing accounts")
    def _channel_form_data(self, initial: dict[str, Any], error: str | None) -> None:
        from shelfdesk.services.accounts import list_accounts

        accounts = [(a.id, str(a.marketplace), a.name) for a in list_accounts(self.ctx)]
        self.app.call_from_thread(self._push_channel_form, initial, accounts, error)

    def _push_channel_form(self, initial: dict[str, Any], accounts: list[tuple[int, str, str]], error: str | None) -> None:
        from shelfdesk.tui.screens.setup.channel_form import ChannelForm

        self.app.push_screen(ChannelForm(initial, accounts, error), self._channel_form_done)

    def _channel_form_done(self, values: dict[str, Any] | None) -> None:
        if values is not None:
            self._save_channel(values)

    def _save_channel(self, values: dict[str, Any]) -> None:
        from shelfdesk.tui.screens.setup.channel_form import save_channel

        self.run_operation("Channel", lambda: save_channel(self.ctx, values), retry=("channel", values))

    def action_edit_selected(self) -> None:
        channel = self._selected_channel()
        if channel is not None:
            self._edit_channel(channel.id)
            return
        store = self._selected_store()
        if store is None:
            self.notify("Nothing highlighted.", title="Edit", severity="warning")
            return
        from shelfdesk.tui.screens.setup.store_form import StoreForm

        values = {
            "id": store.id,
            "name": store.name,
            "country": store.country,
            "currency": store.currency,
            "source": store.catalog_source or "",
            "safety_stock": store.safety_stock,
            **({"cutoff_hour": store.working_time.cutoff_hour, "working_days": store.working_time.days_text} if store.working_time else {}),
        }
        self.app.push_screen(StoreForm(values), self._store_form_done)

    @work(thread=True, group="stores-setup", exit_on_error=False, description="Reading the channel")
    def _edit_channel(self, channel_id: int) -> None:
        from shelfdesk.tui.screens.setup.channel_form import channel_values

        values = channel_values(self.ctx, channel_id)
        self.app.call_from_thread(self._open_channel_form, values, None)

    def action_replace_token(self) -> None:
        channel = self._selected_channel()
        if channel is None:
            self.notify("Highlight a channel to replace its account's token.", title="Token", severity="warning")
            return
        from shelfdesk.tui.screens.setup.token_form import TokenForm

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._save_token(channel.account_id, values)

        self.app.push_screen(TokenForm(channel.account_name), done)

    def _save_token(self, account_id: int, values: dict[str, str]) -> None:
        from shelfdesk.services.accounts import replace_token

        def save() -> str:
            account = replace_token(self.ctx, account_id, token=values.get("token") or None, token_env=values.get("token_env") or None)
            return f"Token of {account.name} replaced ({account.credential}); test it with t."

        self.run_operation("Token", save)

    def operation_refused(self, kind: str, values: dict[str, Any], *, error: str) -> None:
        """A refused store or channel comes back in its form, with what was typed and why."""
        if kind == "channel":
            self._open_channel_form(values, error)
        elif kind == "store":
            from shelfdesk.tui.screens.setup.store_form import StoreForm

            self.app.push_screen(StoreForm(values, error), self._store_form_done)

    # ------------------------------------------------------------ connection test and activation

    def action_test_connection(self) -> None:
        channel = self._selected_channel()
        if channel is None:
            self.notify("Highlight a channel to test its connection.", title="Test", severity="warning")
            return
        self.notify(f"Testing {channel.name}…", title="Test", timeout=3)
        self._test(channel.id, channel.name)

    def _test(self, channel_id: int, name: str) -> None:
        from shelfdesk.services.channels import test_channel_connection

        def test() -> tuple[str, Severity]:
            result = test_channel_connection(self.ctx, channel_id)
            verdict = "connection ok" if result.ok else "connection failed"
            return f"{name}: {verdict} — {result.message}", "information" if result.ok else "error"

        self.run_operation("Connection test", test)

    def action_activate(self) -> None:
        channel = self._selected_channel()
        if channel is None:
            self.notify("Highlight a channel to activate its publication.", title="Activate", severity="warning")
            return
        self._activate(channel.id)

    def _activate(self, channel_id: int) -> None:
        from shelfdesk.services.channels import activate_channel

        self.run_operation("Activate", lambda: f"{activate_channel(self.ctx, channel_id).name}: publication active.")

    def action_browse_products(self) -> None:
        """``b``: the highlighted store's products, each with what its channels make of it."""
        from shelfdesk.tui.screens.setup.product_browser import ProductBrowserScreen

        store = self._selected_store()
        if store is None:
            self.notify("No store yet: a adds one, then i imports its catalog.", title="Products", severity="warning")
            return
        self.app.push_screen(ProductBrowserScreen(store.id, store.name))

    def action_open_mappings(self) -> None:
        channel = self._selected_channel()
        if channel is None:
            store = self._selected_store()
            if store is not None and not store.channels:
                self.notify("This store has no channel yet: c adds one.", title="Mappings", severity="warning")
            return
        from shelfdesk.tui.screens.setup.mappings import MappingsScreen

        MappingsScreen.wanted_channel = channel.id
        self.shell.show_view("mappings")

    # ------------------------------------------------------------ import

    def action_import_catalog(self) -> None:
        store = self._selected_store()
        if store is None:
            self.notify("Add a store first (a).", title="Import", severity="warning")
            return
        if self.importing:
            self.notify(f"An import of {self.importing} is running (Esc cancels it).", title="Import", severity="warning")
            return
        self._ask_import(store.id, store.name, {"source": store.catalog_source or ""})

    def _ask_import(self, store_id: int, name: str, values: dict[str, Any], error: str | None = None) -> None:
        """The import form; after a refused source it comes back with what was typed and why."""
        from shelfdesk.tui.screens.setup.import_form import ImportForm

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self._preview(store_id, name, values)

        form = ImportForm(name, values.get("source") or "", format=values.get("format"), error=error)
        self.app.push_screen(form, done)

    @work(thread=True, group="stores-import", exclusive=True, exit_on_error=False, description="Reading the feed's columns")
    def _preview(self, store_id: int, name: str, values: dict[str, Any]) -> None:
        """The column-detection step: columns, samples and roles, shown before anything is imported."""
        from shelfdesk.catalog.errors import CatalogError
        from shelfdesk.catalog.feed_preview import preview_feed

        try:
            preview = preview_feed(
                self.ctx, store_id, values.get("source") or None, format=values.get("format") or None, **self.import_options
            )
        except CatalogError as exc:  # nothing imported yet: the form again, with the typed source
            self.app.call_from_thread(self._ask_import, store_id, name, values, str(exc))
            return
        self.app.call_from_thread(self._push_columns, store_id, name, values, preview)

    def _push_columns(self, store_id: int, name: str, values: dict[str, Any], preview: Any) -> None:
        from shelfdesk.tui.screens.setup.import_columns_form import ColumnsForm

        def done(roles: dict[str, str] | None) -> None:
            if roles is not None:
                self._start_import(store_id, name, {**values, "roles": roles})

        self.app.push_screen(ColumnsForm(name, preview), done)

    def _start_import(self, store_id: int, name: str, values: dict[str, Any]) -> None:
        self._last_values[store_id] = {k: v for k, v in values.items() if k != "force"}
        self.importing = name
        self._cancel.clear()
        self.query_one("#stores-progress").display = True
        bar = self.query_one("#stores-bar", ProgressBar)
        bar.update(total=None, progress=0)
        self.query_one("#stores-progress-text", Label).update(f"Importing {name}… Esc cancels")
        self._import(store_id, name, values)

    @work(thread=True, group="stores-import", exclusive=True, exit_on_error=False, description="Importing the catalog")
    def _import(self, store_id: int, name: str, values: dict[str, Any]) -> None:
        from shelfdesk.catalog.errors import CatalogError
        from shelfdesk.catalog.importer import import_catalog

        try:
            result = import_catalog(
                self.ctx,
                store_id,
                values.get("source") or None,
                format=values.get("format") or None,
                roles=values.get("roles"),
                progress=lambda p: self.post_message(ImportProgressed(name, p)),
                should_cancel=self._cancel.is_set,
                force=bool(values.get("force")),
                **self.import_options,
            )
        except CatalogError as exc:
            self.post_message(ImportFinished(name, None, str(exc)))
            return
        from shelfdesk.services.channels import refresh_readiness

        refresh_readiness(self.ctx, store_id)  # new categories or columns change the lights
        self.post_message(ImportFinished(name, result))

    def on_import_progressed(self, message: ImportProgressed) -> None:
        p: Any = message.progress
        bar = self.query_one("#stores-bar", ProgressBar)
        if p.bytes_total:
            bar.update(total=p.bytes_total, progress=p.bytes_read)
        self.query_one("#stores-progress-text", Label).update(
            f"{'Checking' if p.phase == 'checking' else 'Writing'} · {p.rows_read:,} rows · {p.stored:,} stored · "
            f"{p.rejected:,} rejected · Esc cancels"
        )

    def on_import_finished(self, message: ImportFinished) -> None:
        self.importing = None
        self.query_one("#stores-progress").display = False
        self._cancel.clear()
        result: Any = message.result
        if result is None:
            self.notify(message.error or "import failed", title=f"Import {message.store_name}", severity="error", timeout=10)
        else:
            text = f"{result.rows_read:,} read, {result.stored:,} stored, {result.rejected:,} rejected, {result.gone:,} flagged gone"
            if result.error:
                text += f" — {result.error}"
                if result.needs_force:
                    text += " (x shows the report; f there imports it anyway)"
            elif result.rejected:
                text += " — x lists the rejected rows"
            self.notify(text, title=f"Import {message.store_name}", severity="error" if result.error else "information", timeout=10)
        self.refresh_data()

    def action_back(self) -> None:
        if self.importing:
            self._cancel.set()
            self.query_one("#stores-progress-text", Label).update("Cancelling after the current batch…")
            return
        super().action_back()

    def action_import_report(self) -> None:
        store = self._selected_store()
        if store is None or store.last_import is None:
            self.notify("This store has no import yet (i imports).", title="Import report", severity="warning")
            return
        from shelfdesk.tui.screens.setup.import_report import ImportReportScreen

        def done(force: bool | None) -> None:
            if force and not self.importing:  # the same source, format and roles, stored this time
                values = self._last_values.get(store.id, {})
                self._start_import(store.id, store.name, {**values, "force": True})

        self.app.push_screen(ImportReportScreen(store.name, store.last_import), done)
