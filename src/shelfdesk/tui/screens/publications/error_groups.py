"""Triage: a publication's failed items grouped by cause, largest first.

Each group reads like "Grade: missing — 132 products", with where the fix is.
Enter opens the group's products, ``m`` goes to the mapping or exclusion that
fixes it (the Mappings screen), ``r`` re-publishes only the group's failed
items once fixed, ``p`` proposes products the marketplace's catalog does not
know (Back Market reviews them, then lists them), ctrl+s exports the group as CSV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import ErrorClustersLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow

if TYPE_CHECKING:
    from shelfdesk.publishing.triage import ErrorCluster

COLUMNS = [("count", "Products", 8), ("cause", "Cause", 42), ("origin", "Refused by", 12), ("attribute", "Attribute", 9)]


class PublicationErrorsScreen(ShelfdeskScreen):
    """Failed items of one publication, grouped by normalized message or code."""

    SCOPE = "publication-errors"
    VIEW = "publications"
    TITLE = "Errors by cause"
    CSS_PATH = "error_groups.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, publication_id: int) -> None:
        super().__init__()
        self.publication_id = publication_id
        self.clusters: dict[str, ErrorCluster] = {}
        self.publication: Any = None

    def compose_body(self) -> ComposeResult:
        yield Label("", id="errors-title", markup=False)
        yield DataWindow(COLUMNS, id="errors-table")
        yield Static("", id="errors-fix", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="publication-errors", exclusive=True, exit_on_error=False, description="Grouping errors")
    def _load(self) -> None:
        from shelfdesk.publishing.triage import error_clusters, get_publication

        self.post_message(
            ErrorClustersLoaded(get_publication(self.ctx, self.publication_id), error_clusters(self.ctx, self.publication_id))
        )

    def on_error_clusters_loaded(self, message: ErrorClustersLoaded) -> None:
        pub: Any = message.publication
        self.publication = pub
        clusters: list[ErrorCluster] = message.clusters
        self.clusters = {c.key: c for c in clusters}
        rows = []
        for c in clusters:
            origin = "shelfdesk" if c.invalid == c.count else "marketplace" if c.invalid == 0 else "both"
            count = f"{c.count:,} ✓" if c.all_resolved else f"{c.count:,}"  # ✓: all published since
            rows.append((c.key, [count, c.cause, origin, c.attribute or "—"]))
        self.query_one(DataWindow).show(rows)
        failed = sum(c.count for c in clusters)
        self.query_one("#errors-title", Label).update(
            f"#{pub.id} {pub.store} / {pub.channel} · {pub.kind} · {failed:,} failed in {len(clusters)} group"
            + ("s" if len(clusters) != 1 else "")
        )
        self._show_fix()
        self.refresh_bindings()
        if not clusters:
            self.query_one("#errors-fix", Static).update("No failed items in this publication.")

    def _show_fix(self) -> None:
        cluster = self.selected
        if cluster is not None and cluster.all_resolved:
            self.query_one("#errors-fix", Static).update(
                f"{cluster.label}\nResolved: all {cluster.count:,} were published successfully by a later run."
            )
        elif cluster is not None and (cluster.proposable or cluster.code == "product-in-review"):
            since = f" ({cluster.resolved:,} published since)" if cluster.resolved else ""
            self.query_one("#errors-fix", Static).update(f"{cluster.label}\n{cluster.fix[0].upper()}{cluster.fix[1:]}{since}.")
        elif cluster is not None:
            since = f" ({cluster.resolved:,} published since)" if cluster.resolved else ""
            self.query_one("#errors-fix", Static).update(
                f"{cluster.label}\nFix: {cluster.fix} (m goes there); once fixed, r re-publishes these {cluster.count:,}{since}"
            )

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._show_fix()
        self.refresh_bindings()

    def on_data_table_row_selected(self, _: Any) -> None:
        """Enter on the table (the table's own binding shadows the screen's)."""
        self.action_open_group()

    def disabled_reason(self, action: str) -> str | None:
        reason = super().disabled_reason(action)
        if reason or action not in ("open_group", "fix_group", "republish_group", "export_group", "propose_group"):
            return reason
        cluster = self.selected
        if cluster is None:
            return "No error group here: this publication has no failed items." if not self.clusters else "No group highlighted."
        if action in ("fix_group", "republish_group", "propose_group") and cluster.all_resolved:
            return f"Resolved: all {cluster.count:,} products of this group were published successfully since."
        if action == "propose_group" and not cluster.proposable:
            return "Only products the marketplace's catalog does not know (an unknown EAN) are proposed."
        return None

    @property
    def selected(self) -> ErrorCluster | None:
        key = self.query_one(DataWindow).current_key
        return self.clusters.get(key) if key else None

    def action_open_group(self) -> None:
        from shelfdesk.tui.screens.publications.run_items import PublicationDetailScreen

        cluster = self.selected
        if cluster is not None:
            self.app.push_screen(PublicationDetailScreen(self.publication_id, error_key=cluster.key))

    def action_fix_group(self) -> None:
        """Open the Mappings screen on this channel, on the pane and row that hold the fix."""
        from shelfdesk.tui.screens.setup.mappings import MappingsScreen

        cluster = self.selected
        if cluster is None or self.publication is None:
            return
        pub = self.publication
        if cluster.attribute == "category":
            pane, row = "categories", None  # unmapped categories are listed first, largest first
        elif cluster.attribute:
            pane, row = "columns", cluster.attribute
        else:
            pane, row = "exclusions", None
        back = f"3 returns to #{pub.id}'s errors, r re-publishes the group"
        MappingsScreen.open_on(pub.channel_id, pane=pane, row=row, note=back)
        self.notify(f"{cluster.fix}. Then {back}.", title=f"Fix: {cluster.cause}"[:70], timeout=10)
        self.shell.show_view("mappings")

    def _home(self) -> Any:
        from shelfdesk.tui.screens.publications.run_list import PublicationsScreen

        bottom = self.app.screen_stack[0]
        return bottom if isinstance(bottom, PublicationsScreen) else None

    def action_republish_group(self) -> None:
        cluster, home = self.selected, self._home()
        if cluster is not None and home is not None:
            home.confirm_republish(self.publication_id, cluster.key)

    def action_propose_group(self) -> None:
        cluster, home = self.selected, self._home()
        if cluster is not None and home is not None and self.publication is not None:
            home.confirm_proposal(self.publication_id, cluster.key)

    def action_export_group(self) -> None:
        cluster, home = self.selected, self._home()
        if cluster is not None and home is not None:
            home.export(self.publication_id, cluster.key)
