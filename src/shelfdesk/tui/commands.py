"""The one command table of the console (the Dolphie pattern).

Every key, ``:`` command and palette entry comes from :data:`COMMANDS`, so the
footer, the ``?`` help screen, the command line and the palette can never
disagree. To give a screen its own commands, add rows with ``scope`` set to the
screen's ``SCOPE`` and write the matching ``action_*`` method on the screen::

    Command(
        id="orders.accept",              # binding id: operators remap it in preferences [keymap]
        description="Accept",            # footer / help / palette wording
        action="accept_selected",        # runs OrdersScreen.action_accept_selected
        keys=("a",),                     # first key is the one shown; others are aliases
        scope="orders",                  # OrdersScreen.SCOPE
        group="orders",                  # palette shows "orders: Accept"
        help="Accept the marked orders (or the highlighted one)",
        names=("accept",),               # ":accept" on the command line
        footer=True,                     # at most ~6 keys in the footer, globals included
        writes=True,                     # greyed out and refused with --read-only
    )

Screens pick up their rows with ``BINDINGS = bindings_for("orders")``.

Scopes: ``APP`` rows are bound on the App (they work even inside dialogs, so
keep them to ctrl+c and the palette), ``GLOBAL`` rows are bound on every
shelfdesk screen, and any other scope belongs to the screen with that SCOPE.
Dialogs work the same way: ``DIALOG`` rows (Esc, F1) are bound on every
dialog (``screens/dialog.py``), and a scope starting with ``dialog.`` belongs
to one kind of dialog (``dialog.confirm``: y and n), so a dialog's footer and
its F1 help list exactly the keys that work in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from shelfdesk.tui.app import ShelfdeskApp

APP = "app"
GLOBAL = "global"
DIALOG = "dialog"
"""Rows bound on every dialog; ``dialog.*`` scopes belong to one kind of dialog."""


@dataclass(frozen=True)
class Command:
    """One thing an operator can do, however they ask for it (key, ``:``, palette)."""

    id: str
    """Binding id; the key of ``[keymap]`` in the preferences file."""
    description: str
    """Short wording for the footer and help (one or two words)."""
    action: str
    """Textual action run in the scope's namespace (the App for APP, else the screen)."""
    keys: tuple[str, ...] = ()
    """Keys in Textual's names; the first is shown, the rest are aliases. Empty: palette and ``:`` only."""
    scope: str = GLOBAL
    group: str = "app"
    """Palette prefix: hits read ``group: description`` (``go: Orders``)."""
    help: str = ""
    """One sentence for help, the palette and the footer tooltip."""
    names: tuple[str, ...] = ()
    """Names accepted on the ``:`` command line."""
    argument: str = ""
    """Name of the one argument the command takes (``:theme NAME``), or empty."""
    footer: bool = False
    writes: bool = False
    """Changes workspace data: greyed out and refused when the workspace is read-only."""
    priority: bool = False
    palette: bool = True

    @property
    def palette_text(self) -> str:
        return f"{self.group}: {self.description}"


def _go(view: str, title: str, number: str, letter: str, help_text: str, *aliases: str) -> Command:
    return Command(
        id=f"go.{view}",
        description=title,
        action=f"show_view('{view}')",
        keys=(number, letter),
        group="go",
        help=help_text,
        names=(view, *aliases),
    )


COMMANDS: list[Command] = [
    # Bound on the App: work everywhere, even in a dialog.
    Command(
        id="app.quit",
        description="Quit",
        action="quit",
        keys=("ctrl+c",),
        scope=APP,
        help="Quit shelfdesk at once, from anywhere",
        names=("q", "quit"),
        priority=True,
    ),
    Command(
        id="app.palette",
        description="Palette",
        action="command_palette",
        keys=("ctrl+p",),
        scope=APP,
        help="Search every command and theme by name",
        priority=True,
        palette=False,
    ),
    # Screens opened by name from any screen (issue 8), with no key of their own.
    Command(
        id="open.invoices",
        description="Invoices",
        action="open_screen('invoices')",
        group="go",
        help="Invoices and credit notes: view, write the PDF, credit, edit a store's invoice settings",
        names=("invoices",),
    ),
    Command(
        id="open.webhooks",
        description="Webhooks",
        action="open_screen('webhooks')",
        group="go",
        help="Push notifications: subscriptions, delivery health, test, pause, retry, replay",
        names=("webhooks",),
    ),
    Command(
        id="app.theme",
        description="Theme",
        action="switch_theme",
        scope=APP,
        group="theme",
        help="Switch the colour theme; Tab after :theme lists them",
        names=("theme",),
        argument="NAME",
    ),
    # Bound on every shelfdesk screen.
    Command(
        id="help",
        description="Help",
        action="help",
        keys=("question_mark", "f1"),
        help="List the keys and commands of this screen",
        names=("help", "h"),
        footer=True,
    ),
    Command(
        id="command_line",
        description="Command",
        action="command_line",
        keys=("colon",),
        help="Type a command such as :orders, :jobs, :theme NAME or :q",
        footer=True,
        palette=False,
    ),
    Command(
        id="filter",
        description="Filter",
        action="filter",
        keys=("slash",),
        help="Filter the table of this screen; Esc clears it",
        names=("filter",),
        footer=True,
    ),
    Command(
        id="back",
        description="Back",
        action="back",
        keys=("escape",),
        help="Clear the filter, leave a detail screen or return to Orders; never quits",
        palette=False,
    ),
    Command(
        id="refresh",
        description="Refresh",
        action="refresh",
        keys=("R", "ctrl+r"),
        help="Reload this screen and the status bar now",
        names=("refresh",),
    ),
    Command(
        id="quit",
        description="Quit",
        action="quit",
        keys=("q",),
        help="Quit shelfdesk from a main screen (from a detail, Esc goes back)",
        footer=True,
        palette=False,
    ),
    # Publications (issue 5): the history, one run's items, its errors by cause, a plan, a SKU's history.
    Command(
        id="pub.open",
        description="Open",
        action="open_selected",
        keys=("enter",),
        scope="publications",
        group="publications",
        help="Open the highlighted publication: its items and outcomes",
    ),
    Command(
        id="pub.errors",
        description="Errors",
        action="show_errors",
        keys=("e",),
        scope="publications",
        group="publications",
        help="Failed items of the highlighted publication, grouped by cause",
        names=("errors",),
        footer=True,
    ),
    Command(
        id="pub.dry_run",
        description="Dry run",
        action="dry_run",
        keys=("d",),
        scope="publications",
        group="publications",
        help="Plan a publication of a channel's feed: what it would send, sending nothing",
        names=("dryrun", "plan"),
    ),
    Command(
        id="pub.publish",
        description="Publish",
        action="publish",
        keys=("p",),
        scope="publications",
        group="publications",
        help="Publish a channel's feed now (progress below; Esc cancels between batches)",
        names=("publish",),
        writes=True,
    ),
    Command(
        id="pub.republish",
        description="Re-publish failed",
        action="republish_failed",
        keys=("r",),
        scope="publications",
        group="publications",
        help="Send again only the failed items of the highlighted run",
        names=("republish",),
        writes=True,
    ),
    Command(
        id="pub.errors_only",
        description="Errors only",
        action="toggle_errors_only",
        keys=("z", "ctrl+z"),
        scope="publications",
        group="publications",
        help="Show only runs with failed or invalid items (toggle)",
    ),
    Command(
        id="pub.channel",
        description="Channel",
        action="next_channel",
        keys=("c",),
        scope="publications",
        group="publications",
        help="Show one channel's history, the next one, then all channels again",
    ),
    Command(
        id="pub.drift",
        description="Drift check",
        action="check_drift",
        keys=("D",),
        scope="publications",
        group="publications",
        help="Compare the marketplace's quantities and prices with what shelfdesk would send",
        names=("drift",),
        writes=True,
    ),
    Command(
        id="pub.correct",
        description="Push corrections",
        action="push_corrections",
        keys=("f",),
        scope="publications",
        group="publications",
        help="Send again what the highlighted drift check found different",
        writes=True,
    ),
    Command(
        id="pub.export",
        description="Export errors",
        action="export_errors",
        keys=("ctrl+s",),
        scope="publications",
        group="publications",
        help="Write the highlighted run's failed items to a CSV file (no secrets)",
    ),
    Command(
        id="pubitems.history",
        description="SKU history",
        action="sku_history",
        keys=("enter",),
        scope="publication",
        group="publication",
        help="What was sent for the highlighted SKU across publications",
        footer=True,
    ),
    Command(
        id="pubitems.stock",
        description="Set stock",
        action="set_stock",
        keys=("s",),
        scope="publication",
        group="publication",
        help="Set the highlighted SKU's stock; the stock pusher sends it within seconds",
        writes=True,
    ),
    Command(
        id="history.stock",
        description="Set stock",
        action="set_stock",
        keys=("s",),
        scope="product-history",
        group="history",
        help="Set this SKU's stock; the stock pusher sends it within seconds",
        writes=True,
        footer=True,
    ),
    Command(
        id="pubitems.errors_only",
        description="Errors only",
        action="toggle_errors_only",
        keys=("z", "ctrl+z"),
        scope="publication",
        group="publication",
        help="Show only failed items (toggle)",
        footer=True,
    ),
    Command(
        id="pubitems.errors",
        description="Errors",
        action="show_errors",
        keys=("e",),
        scope="publication",
        group="publication",
        help="This publication's failed items grouped by cause",
    ),
    Command(
        id="pubitems.republish",
        description="Re-publish failed",
        action="republish_failed",
        keys=("r",),
        scope="publication",
        group="publication",
        help="Send again only the failed items shown",
        writes=True,
    ),
    Command(
        id="pubitems.next",
        description="Next page",
        action="page(1)",
        keys=("right_square_bracket",),
        scope="publication",
        group="publication",
        help="The next page of items",
    ),
    Command(
        id="pubitems.previous",
        description="Previous page",
        action="page(-1)",
        keys=("left_square_bracket",),
        scope="publication",
        group="publication",
        help="The previous page of items",
    ),
    Command(
        id="pubitems.export",
        description="Export errors",
        action="export_errors",
        keys=("ctrl+s",),
        scope="publication",
        group="publication",
        help="Write the failed items shown to a CSV file (no secrets)",
    ),
    Command(
        id="puberr.items",
        description="Products",
        action="open_group",
        keys=("enter",),
        scope="publication-errors",
        group="errors",
        help="The products of the highlighted error group",
    ),
    Command(
        id="puberr.fix",
        description="Fix",
        action="fix_group",
        keys=("m",),
        scope="publication-errors",
        group="errors",
        help="Go to the mapping or exclusion that fixes the highlighted group",
        footer=True,
    ),
    Command(
        id="puberr.republish",
        description="Re-publish",
        action="republish_group",
        keys=("r",),
        scope="publication-errors",
        group="errors",
        help="Send again only the failed items of the highlighted group",
        writes=True,
        footer=True,
    ),
    Command(
        id="puberr.propose",
        description="Propose",
        action="propose_group",
        keys=("p",),
        scope="publication-errors",
        group="errors",
        help="Propose the group's products to the marketplace's catalog, which does not know them (reviewed, then listed)",
        writes=True,
        footer=True,
    ),
    Command(
        id="puberr.export",
        description="Export",
        action="export_group",
        keys=("ctrl+s",),
        scope="publication-errors",
        group="errors",
        help="Write the highlighted group's failed items to a CSV file (no secrets)",
    ),
    Command(
        id="pubplan.publish",
        description="Publish",
        action="publish_plan",
        keys=("p",),
        scope="publication-plan",
        group="plan",
        help="Publish this feed now (the plan is computed again just before sending)",
        writes=True,
        footer=True,
    ),
    # Orders (issue 6): the list, one order, the failed actions.
    Command(
        id="orders.open",
        description="Detail",
        action="open_order",
        keys=("enter",),
        scope="orders",
        group="orders",
        help="Open the highlighted order: lines, deadlines, history, actions",
    ),
    Command(
        id="orders.mark",
        description="Mark",
        action="toggle_mark",
        keys=("space",),
        scope="orders",
        group="orders",
        help="Mark or unmark the highlighted order for a bulk action",
        footer=True,
    ),
    Command(
        id="orders.mark_range",
        description="Mark range",
        action="mark_range",
        keys=("V",),
        scope="orders",
        group="orders",
        help="Mark every order between the last marked one and the cursor",
    ),
    Command(
        id="orders.mark_all",
        description="Mark all matching",
        action="mark_all",
        keys=("asterisk",),
        scope="orders",
        group="orders",
        help="Mark every order matching the filter (kept as the filter, even beyond this page)",
        names=("markall",),
    ),
    Command(
        id="orders.clear_marks",
        description="Clear marks",
        action="clear_marks",
        keys=("U",),
        scope="orders",
        group="orders",
        help="Unmark every order",
        names=("unmark",),
    ),
    Command(
        id="orders.accept",
        description="Accept",
        action="accept",
        keys=("a",),
        scope="orders",
        group="orders",
        help="Accept the marked orders, or the highlighted one (Leboncoin: confirm availability)",
        names=("accept",),
        writes=True,
    ),
    Command(
        id="orders.ship",
        description="Ship",
        action="ship",
        keys=("s",),
        scope="orders",
        group="orders",
        help="Ship the highlighted order: carrier, tracking, IMEI (Leboncoin: confirm shipping)",
        names=("ship",),
        writes=True,
    ),
    Command(
        id="orders.cancel",
        description="Cancel orders",
        action="cancel_orders",
        keys=("x",),
        scope="orders",
        group="orders",
        help="Cancel the marked orders, or the highlighted one (the buyer is refunded)",
        names=("cancel",),
        writes=True,
    ),
    Command(
        id="orders.bulk_ship",
        description="Bulk ship CSV",
        action="bulk_ship",
        keys=("B",),
        scope="orders",
        group="orders",
        help="Ship orders from a CSV file (order_id, carrier, tracking_number, imei) after a preview",
        names=("bulkship",),
        writes=True,
    ),
    Command(
        id="orders.fetch",
        description="Fetch orders",
        action="fetch",
        keys=("f",),
        scope="orders",
        group="orders",
        help="Harvest new and changed orders from every marketplace account now",
        names=("sync", "fetch"),
        writes=True,
    ),
    Command(
        id="orders.failed",
        description="Failed actions",
        action="failed_actions",
        keys=("F",),
        scope="orders",
        group="orders",
        help="Actions the marketplaces refused: retry or dismiss them",
        names=("failed",),
    ),
    Command(
        id="orders.status",
        description="Status filter",
        action="filter_status",
        keys=("t",),
        scope="orders",
        group="orders",
        help="Next status filter (all, New, InProgress …); :status New sets one",
        names=("status",),
        argument="STATUS",
    ),
    Command(
        id="orders.channel",
        description="Channel filter",
        action="filter_channel",
        keys=("c",),
        scope="orders",
        group="orders",
        help="Next channel filter; :channel NAME sets one",
        names=("channel",),
        argument="NAME",
    ),
    Command(
        id="orders.store",
        description="Store filter",
        action="filter_store",
        keys=("w",),
        scope="orders",
        group="orders",
        help="Next store filter; :store NAME sets one",
        names=("store",),
        argument="NAME",
    ),
    Command(
        id="orders.after",
        description="Bought after",
        action="filter_after",
        scope="orders",
        group="orders",
        help="Only orders bought on or after a date: :after 2026-02-01 (:after alone clears it)",
        names=("after",),
        argument="DATE",
    ),
    Command(
        id="orders.before",
        description="Bought before",
        action="filter_before",
        scope="orders",
        group="orders",
        help="Only orders bought before a date: :before 2026-03-01 (:before alone clears it)",
        names=("before",),
        argument="DATE",
    ),
    Command(
        id="orders.reset",
        description="Clear filters",
        action="reset_filters",
        keys=("X",),
        scope="orders",
        group="orders",
        help="Drop every filter of the orders list",
        names=("reset",),
    ),
    Command(
        id="orders.next",
        description="Next page",
        action="page(1)",
        keys=("right_square_bracket",),
        scope="orders",
        group="orders",
        help="Older orders (also: down on the last row)",
    ),
    Command(
        id="orders.previous",
        description="Previous page",
        action="page(-1)",
        keys=("left_square_bracket",),
        scope="orders",
        group="orders",
        help="Newer orders (also: up on the first row)",
    ),
    Command(
        id="orders.export",
        description="Export CSV",
        action="export",
        keys=("ctrl+s",),
        scope="orders",
        group="orders",
        help="Write the filtered orders to a CSV file (one row per line; no secrets)",
        names=("export",),
    ),
    Command(
        id="order.accept",
        description="Accept",
        action="accept",
        keys=("a",),
        scope="order",
        group="order",
        help="Accept this order (Leboncoin: confirm availability)",
        writes=True,
        footer=True,
    ),
    Command(
        id="order.ship",
        description="Ship",
        action="ship",
        keys=("s",),
        scope="order",
        group="order",
        help="Ship this order: carrier, tracking, IMEI (Leboncoin: confirm shipping)",
        writes=True,
        footer=True,
    ),
    Command(
        id="order.cancel",
        description="Cancel order",
        action="cancel_order",
        keys=("x",),
        scope="order",
        group="order",
        help="Cancel this order (the buyer is refunded)",
        writes=True,
    ),
    Command(
        id="order.retry",
        description="Retry",
        action="retry",
        keys=("r",),
        scope="order",
        group="order",
        help="Send this order's failed action again (the marketplace is read first)",
        writes=True,
    ),
    Command(
        id="order.dismiss",
        description="Dismiss",
        action="dismiss_failed",
        keys=("d",),
        scope="order",
        group="order",
        help="Give up this order's failed action",
        writes=True,
    ),
    Command(
        id="order.payload",
        description="Raw payload",
        action="toggle_payload",
        keys=("p",),
        scope="order",
        group="order",
        help="Show or hide what the marketplace sent, as it sent it",
    ),
    Command(
        id="actions.retry",
        description="Retry",
        action="retry",
        keys=("r",),
        scope="order-actions",
        group="actions",
        help="Send the highlighted failed action again (the marketplace is read first)",
        writes=True,
        footer=True,
    ),
    Command(
        id="actions.dismiss",
        description="Dismiss",
        action="dismiss_failed",
        keys=("d",),
        scope="order-actions",
        group="actions",
        help="Give up the highlighted failed action",
        writes=True,
        footer=True,
    ),
    Command(
        id="actions.open",
        description="Order",
        action="open_order",
        keys=("enter",),
        scope="order-actions",
        group="actions",
        help="Open the order of the highlighted action",
    ),
    Command(
        id="alerts",
        description="Alerts",
        action="alerts",
        keys=("exclamation_mark",),
        help="List every alert, critical first; Enter goes to the channel, job, publication or order to fix",
        names=("alerts",),
    ),
    Command(
        id="due",
        description="Due",
        action="due",
        keys=("D",),
        names=("due",),
        help="Everything due before a marketplace penalises it, most urgent first; Enter opens the order",
    ),
    Command(
        id="due.open",
        description="Go to",
        action="open_due",
        keys=("enter",),
        scope="due",
        group="due",
        help="Open the order (its detail, with its actions) or the account the highlighted deadline is about",
        footer=True,
    ),
    # Jobs (issue 7): the jobs, one job's runs, one run, the alert list.
    Command(
        id="jobs.history",
        description="Runs",
        action="open_history",
        keys=("enter",),
        scope="jobs",
        group="jobs",
        help="Runs of the highlighted job, newest first; Enter on a run shows its error",
    ),
    Command(
        id="jobs.run_now",
        description="Run now",
        action="run_now",
        keys=("r",),
        scope="jobs",
        group="jobs",
        help="Run the highlighted job now, under its lease (if another process is running it, that run wins)",
        names=("run",),
        writes=True,
        footer=True,
    ),
    Command(
        id="jobs.pause",
        description="Pause/resume",
        action="toggle_pause",
        keys=("p",),
        scope="jobs",
        group="jobs",
        help="Pause the highlighted job, or resume it: for every console and worker, and across restarts",
        names=("pause",),
        writes=True,
    ),
    Command(
        id="jobs.schedule",
        description="Schedule",
        action="edit_schedule",
        keys=("e",),
        scope="jobs",
        group="jobs",
        help="Change how often the highlighted job runs (30s, 5m, 2h, 1d)",
        names=("schedule",),
        writes=True,
    ),
    Command(
        id="jobs.pause_all",
        description="Pause all",
        action="pause_all",
        scope="jobs",
        group="jobs",
        help="Pause every job: no console or worker starts one until resumed",
        names=("pauseall",),
        writes=True,
    ),
    Command(
        id="jobs.resume_all",
        description="Resume all",
        action="resume_all",
        scope="jobs",
        group="jobs",
        help="Resume every paused job",
        names=("resumeall",),
        writes=True,
    ),
    Command(
        id="jobruns.open",
        description="Run detail",
        action="open_run",
        keys=("enter",),
        scope="job-runs",
        group="runs",
        help="The highlighted run in full: counts, error and traceback",
        footer=True,
    ),
    Command(
        id="jobruns.run_now",
        description="Run now",
        action="run_now",
        keys=("r",),
        scope="job-runs",
        group="runs",
        help="Run this job now, under its lease",
        writes=True,
    ),
    Command(
        id="alerts.open",
        description="Go to",
        action="open_alert",
        keys=("enter",),
        scope="alerts",
        group="alerts",
        help="Open the channel, job, publication or order the highlighted alert is about",
        footer=True,
    ),
    # Invoices and push notifications (issue 8): their screens' own keys (opened by name above).
    Command(
        id="invoices.view",
        description="View",
        action="view_invoice",
        keys=("enter",),
        scope="invoices",
        group="invoices",
        help="Show the highlighted invoice in full",
        footer=True,
    ),
    Command(
        id="invoices.pdf",
        description="Write PDF",
        action="write_pdf",
        keys=("w",),
        scope="invoices",
        group="invoices",
        help="Write the highlighted invoice's PDF into the workspace's exports folder",
        names=("pdf",),
        footer=True,
    ),
    Command(
        id="invoices.credit",
        description="Credit note",
        action="credit",
        keys=("c",),
        scope="invoices",
        group="invoices",
        help="Cancel the highlighted invoice with a credit note (asks for the reason)",
        names=("credit",),
        writes=True,
    ),
    Command(
        id="invoices.settings",
        description="Settings",
        action="edit_settings",
        keys=("e",),
        scope="invoices",
        group="invoices",
        help="Edit the invoice settings of the highlighted invoice's store in $EDITOR",
        names=("settings",),
        writes=True,
    ),
    Command(
        id="invoices.upload",
        description="Upload again",
        action="upload",
        keys=("u",),
        scope="invoices",
        group="invoices",
        help="Queue the upload of the highlighted invoice to its marketplace again",
        writes=True,
    ),
    Command(
        id="webhooks.deliveries",
        description="Deliveries",
        action="open_deliveries",
        keys=("enter",),
        scope="webhooks",
        group="webhooks",
        help="The highlighted subscription's queue and delivery log",
        footer=True,
    ),
    Command(
        id="webhooks.test",
        description="Test",
        action="test",
        keys=("t",),
        scope="webhooks",
        group="webhooks",
        help="POST a signed ping to the highlighted subscription now",
        names=("ping",),
        writes=True,
        footer=True,
    ),
    Command(
        id="webhooks.pause",
        description="Pause/resume",
        action="toggle_pause",
        keys=("p",),
        scope="webhooks",
        group="webhooks",
        help="Pause the highlighted subscription (events keep queuing) or resume it",
        writes=True,
    ),
    Command(
        id="webhooks.retry",
        description="Retry now",
        action="retry",
        keys=("r",),
        scope="webhooks",
        group="webhooks",
        help="Make every waiting delivery of the highlighted subscription due now (resumes it)",
        writes=True,
    ),
    Command(
        id="deliveries.replay",
        description="Replay",
        action="replay",
        keys=("x",),
        scope="webhook-deliveries",
        group="deliveries",
        help="Deliver the highlighted event again",
        names=("replay",),
        writes=True,
        footer=True,
    ),
    Command(
        id="deliveries.log",
        description="Log/queue",
        action="toggle_log",
        keys=("l",),
        scope="webhook-deliveries",
        group="deliveries",
        help="Switch between the queue and the attempt log (status, duration, error)",
        footer=True,
    ),
    Command(
        id="deliveries.retry",
        description="Retry now",
        action="retry",
        keys=("r",),
        scope="webhook-deliveries",
        group="deliveries",
        help="Make every waiting delivery due now (resumes the subscription)",
        writes=True,
    ),
    Command(
        id="orders.invoice",
        description="Invoice",
        action="invoice",
        keys=("I",),
        scope="orders",
        group="orders",
        help="Issue invoices: for the marked orders (from a chosen number, with progress) or the "
        "highlighted one (its number shown, and changeable, before confirming)",
        names=("invoice",),
        writes=True,
    ),
    Command(
        id="orders.invoices",
        description="Invoices",
        action="open_invoices",
        keys=("i",),
        scope="orders",
        group="orders",
        help="The highlighted order's invoices and credit notes: view, write the PDF, credit",
    ),
    Command(
        id="orders.invoiced",
        description="Invoice filter",
        action="filter_invoiced",
        keys=("dollar_sign",),
        scope="orders",
        group="orders",
        help="Next invoice filter (all, invoiced, not invoiced); :invoiced yes|no|all",
        names=("invoiced",),
        argument="yes|no|all",
    ),
    # Navigation: one number and one capital letter per main screen.
    _go("stores", "Stores", "1", "S", "Stores: channels, readiness and catalog imports"),
    _go("mappings", "Mappings", "2", "M", "Mappings: categories, columns and exclusions per channel"),
    _go("publications", "Publications", "3", "P", "Publications: feed history and errors", "pubs"),
    _go("orders", "Orders", "4", "O", "Orders: every marketplace account's orders"),
    _go("jobs", "Jobs", "5", "J", "Jobs: scheduled sync jobs and their runs"),
    _go("care", "Care", "6", "C", "Care: after-sales cases, what is due first; reply, refund, declare a problem or a transfer"),
    # Stores (issue 4): stores and channels, catalog imports, connection tests.
    Command(
        id="stores.add_store",
        description="Add store",
        action="add_store",
        keys=("a",),
        scope="stores",
        group="stores",
        help="Create a store (name, country, currency, catalog source)",
        names=("addstore",),
        writes=True,
    ),
    Command(
        id="stores.add_channel",
        description="Add channel",
        action="add_channel",
        keys=("c",),
        scope="stores",
        group="stores",
        help="Publish the highlighted store to a marketplace market (account, token, options)",
        names=("addchannel",),
        writes=True,
    ),
    Command(
        id="stores.import",
        description="Import",
        action="import_catalog",
        keys=("i",),
        scope="stores",
        group="stores",
        help="Import the highlighted store's catalog (progress below; Esc cancels)",
        names=("import",),
        writes=True,
        footer=True,
    ),
    Command(
        id="stores.test",
        description="Test",
        action="test_connection",
        keys=("t",),
        scope="stores",
        group="stores",
        help="Test the highlighted channel's connection (the marketplace's credentials check)",
        names=("testconn",),
        writes=True,
    ),
    Command(
        id="stores.edit",
        description="Edit",
        action="edit_selected",
        keys=("e",),
        scope="stores",
        group="stores",
        help="Edit the highlighted store (name, source) or channel (API settings, options)",
        writes=True,
    ),
    Command(
        id="stores.token",
        description="Replace token",
        action="replace_token",
        keys=("T",),
        scope="stores",
        group="stores",
        help="Type the renewed token of the highlighted channel's account (resets its expiry)",
        names=("token",),
        writes=True,
    ),
    Command(
        id="stores.report",
        description="Import report",
        action="import_report",
        keys=("x",),
        scope="stores",
        group="stores",
        help="The highlighted store's last import: counts and every rejected row with its line",
        names=("report",),
    ),
    Command(
        id="stores.products",
        description="Products",
        action="browse_products",
        keys=("b",),
        scope="stores",
        group="stores",
        help="Browse the highlighted store's products: stock, price, and per channel its mapping, exclusions and last publication",
        names=("products",),
    ),
    Command(
        id="stores.mappings",
        description="Mappings",
        action="open_mappings",
        keys=("enter",),
        scope="stores",
        group="stores",
        help="Open the highlighted channel's mappings",
    ),
    Command(
        id="stores.activate",
        description="Activate",
        action="activate",
        keys=("A",),
        scope="stores",
        group="stores",
        help="Turn publication on for the highlighted channel (only when its three lights are green)",
        names=("activate",),
        writes=True,
    ),
    # Mappings (issue 4): categories, columns, exclusions and readiness of one channel.
    Command(
        id="mappings.pane",
        description="Next pane",
        action="next_pane",
        keys=("v",),
        scope="mappings",
        group="mappings",
        help="Categories → Columns → Exclusions → Readiness",
        footer=True,
    ),
    Command(
        id="mappings.next_channel",
        description="Next channel",
        action="switch_channel(1)",
        keys=("right_square_bracket",),
        scope="mappings",
        group="mappings",
        help="Show the next channel",
    ),
    Command(
        id="mappings.previous_channel",
        description="Previous channel",
        action="switch_channel(-1)",
        keys=("left_square_bracket",),
        scope="mappings",
        group="mappings",
        help="Show the previous channel",
    ),
    Command(
        id="mappings.map",
        description="Map",
        action="map_selected",
        keys=("m",),
        scope="mappings",
        group="mappings",
        help="Map the highlighted category or attribute (Enter does it too)",
        names=("map",),
        writes=True,
    ),
    Command(
        id="mappings.suggest",
        description="Suggestions",
        action="apply_suggestions",
        keys=("s",),
        scope="mappings",
        group="mappings",
        help="Preview the suggested mappings of this pane; tick the ones to map",
        names=("suggest",),
        writes=True,
    ),
    Command(
        id="mappings.clear",
        description="Clear",
        action="clear_selected",
        keys=("d",),
        scope="mappings",
        group="mappings",
        help="Remove the highlighted mapping, or the highlighted exclusion rule (asks first)",
        writes=True,
    ),
    Command(
        id="mappings.add_rule",
        description="Add rule",
        action="add_rule",
        keys=("a",),
        scope="mappings",
        group="mappings",
        help="Add an exclusion rule (AND with a group, or a new OR group); the count updates live",
        names=("rule",),
        writes=True,
    ),
    Command(
        id="mappings.toggle_rule",
        description="Enable/disable",
        action="toggle_rule",
        keys=("space",),
        scope="mappings",
        group="mappings",
        help="Turn the highlighted exclusion rule on or off",
        writes=True,
    ),
    Command(
        id="mappings.exclude",
        description="Exclude product",
        action="exclude_product",
        keys=("x",),
        scope="mappings",
        group="mappings",
        help="Keep one product (by SKU) out of this channel",
        names=("exclude",),
        writes=True,
    ),
    Command(
        id="mappings.unmapped",
        description="Unmapped only",
        action="toggle_unmapped",
        keys=("z", "ctrl+z"),
        scope="mappings",
        group="mappings",
        help="Show only unmapped categories and failing attributes (toggle)",
    ),
    Command(
        id="mappings.activate",
        description="Activate",
        action="activate",
        keys=("A",),
        scope="mappings",
        group="mappings",
        help="Turn publication on (only when the three lights are green)",
        writes=True,
    ),
    # Care (issue 18): the cases, what is due first; one case on one timeline; replies, problems, transfers, refunds.
    Command(
        id="care.open",
        description="Open",
        action="open_case",
        keys=("enter",),
        scope="care",
        group="care",
        help="Open the highlighted case: its order, lines, IMEI/serial, invoice and every message",
        footer=True,
    ),
    Command(
        id="care.state",
        description="State filter",
        action="filter_state",
        keys=("t",),
        scope="care",
        group="care",
        help="Next state filter (open, closed, all); :casestate open sets one",
        names=("casestate",),
        argument="STATE",
    ),
    Command(
        id="care.channel",
        description="Channel filter",
        action="filter_channel",
        keys=("c",),
        scope="care",
        group="care",
        help="Next channel filter; :casechannel NAME sets one",
        names=("casechannel",),
        argument="NAME",
    ),
    Command(
        id="care.reset",
        description="Clear filters",
        action="reset_filters",
        keys=("X",),
        scope="care",
        group="care",
        help="Drop every filter of the cases list (open cases are shown again)",
        names=("casereset",),
    ),
    Command(
        id="care.reply",
        description="Reply",
        action="reply",
        keys=("r",),
        scope="care",
        group="care",
        help="Write to the buyer (a saved reply in the case's language is one key away); sent through the outbox",
        names=("reply",),
        footer=True,
        writes=True,
    ),
    Command(
        id="care.refund",
        description="Refund",
        action="refund",
        keys=("dollar_sign",),
        scope="care",
        group="care",
        help="Refund a line, in full or in part after shipping; the confirmation names the amount and the buyer",
        names=("refund",),
        footer=True,
        writes=True,
    ),
    Command(
        id="care.problem",
        description="Problem",
        action="problem",
        keys=("p",),
        scope="care",
        group="care",
        help="Declare a problem to Back Market (wrong item, damaged package …), with files when the type needs them",
        names=("problem",),
        writes=True,
    ),
    Command(
        id="care.transfer",
        description="Transfer",
        action="transfer",
        keys=("T",),
        scope="care",
        group="care",
        help="Declare an item sent back to the buyer: carrier, tracking number, what was done",
        names=("transfer",),
        writes=True,
    ),
    Command(
        id="care.order",
        description="Order",
        action="open_case_order",
        keys=("o",),
        scope="care",
        group="care",
        help="Open the case's order: lines, deadlines, history, actions",
    ),
    Command(
        id="care.invoices",
        description="Invoices",
        action="case_invoices",
        keys=("i",),
        scope="care",
        group="care",
        help="The order's invoices and credit notes (a refund issues a credit note)",
    ),
    Command(
        id="care.fetch",
        description="Fetch cases",
        action="fetch",
        keys=("f",),
        scope="care",
        group="care",
        help="Harvest Care cases and orders now (within the day's Care budget)",
        names=("fetchcare",),
        writes=True,
    ),
    Command(
        id="case.reply",
        description="Reply",
        action="reply",
        keys=("r",),
        scope="care.case",
        group="care",
        help="Write to the buyer (a saved reply in the case's language is one key away); sent through the outbox",
        footer=True,
        writes=True,
    ),
    Command(
        id="case.refund",
        description="Refund",
        action="refund",
        keys=("dollar_sign",),
        scope="care.case",
        group="care",
        help="Refund a line, in full or in part after shipping; the confirmation names the amount and the buyer",
        footer=True,
        writes=True,
    ),
    Command(
        id="case.problem",
        description="Problem",
        action="problem",
        keys=("p",),
        scope="care.case",
        group="care",
        help="Declare a problem to Back Market (wrong item, damaged package …), with files when the type needs them",
        writes=True,
    ),
    Command(
        id="case.transfer",
        description="Transfer",
        action="transfer",
        keys=("T",),
        scope="care.case",
        group="care",
        help="Declare an item sent back to the buyer: carrier, tracking number, what was done",
        writes=True,
    ),
    Command(
        id="case.order",
        description="Order",
        action="open_case_order",
        keys=("o",),
        scope="care.case",
        group="care",
        help="Open the case's order: lines, deadlines, history, actions",
    ),
    Command(
        id="case.invoices",
        description="Invoices",
        action="case_invoices",
        keys=("i",),
        scope="care.case",
        group="care",
        help="The order's invoices and credit notes (a refund issues a credit note)",
    ),
    Command(
        id="case.fetch",
        description="Fetch cases",
        action="fetch",
        keys=("f",),
        scope="care.case",
        group="care",
        help="Harvest Care cases and orders now (within the day's Care budget)",
        writes=True,
    ),
    Command(
        id="case.attachments",
        description="Attachments",
        action="download_attachments",
        keys=("A",),
        scope="care.case",
        group="care",
        help="Download the case's attachments into the workspace (once each) and name the folder",
    ),
    Command(
        id="care_form.send",
        description="Send",
        action="save",
        keys=("ctrl+s",),
        scope="dialog.care-form",
        group="care",
        help="Go on with what the form holds (Enter in the last field does it too)",
        footer=True,
    ),
    Command(
        id="reply.send",
        description="Send",
        action="save",
        keys=("ctrl+s",),
        scope="dialog.care-reply",
        group="care",
        help="Send the reply (it is queued, then sent; the case shows it synchronizing until Back Market has it)",
        footer=True,
    ),
    Command(
        id="reply.saved",
        description="Save as reply",
        action="save_reply",
        keys=("ctrl+n",),
        scope="dialog.care-reply",
        group="care",
        help="Keep what is typed as a saved reply in the case's language",
        footer=True,
    ),
    Command(
        id="reply.language",
        description="Language",
        action="next_language",
        keys=("ctrl+l",),
        scope="dialog.care-reply",
        group="care",
        help="Show the saved replies of the next language (the case's own first)",
        footer=True,
    ),
    # Dialogs: every one closes with Esc and lists its keys with F1; each kind adds its own.
    Command(
        id="dialog.cancel",
        description="Cancel",
        action="cancel",
        keys=("escape",),
        scope=DIALOG,
        group="dialog",
        help="Close the dialog without doing anything (it says so)",
        footer=True,
        palette=False,
    ),
    Command(
        id="dialog.help",
        description="Keys",
        action="help",
        keys=("f1",),
        scope=DIALOG,
        group="dialog",
        help="List the keys of this dialog",
        footer=True,
        palette=False,
    ),
    Command(
        id="confirm.yes",
        description="Yes",
        action="confirm",
        keys=("y",),
        scope="dialog.confirm",
        group="dialog",
        help="Go ahead (Enter on the focused button does the same; No is focused first)",
        footer=True,
        palette=False,
    ),
    Command(
        id="confirm.no",
        description="No",
        action="refuse",
        keys=("n",),
        scope="dialog.confirm",
        group="dialog",
        help="Do nothing",
        footer=True,
        palette=False,
    ),
    Command(
        id="form.save",
        description="Save",
        action="save",
        keys=("ctrl+s",),
        scope="dialog.form",
        group="dialog",
        help="Save what the form holds (Enter in the last field does it too)",
        footer=True,
        palette=False,
    ),
    Command(
        id="columns_form.save",
        description="Import",
        action="save",
        keys=("ctrl+s",),
        scope="dialog.columns",
        group="dialog",
        help="Import the catalog with these column roles",
        footer=True,
        palette=False,
    ),
    Command(
        id="import_report.next",
        description="Next page",
        action="next_page",
        keys=("right_square_bracket",),
        scope="dialog.import-report",
        group="dialog",
        help="The next 500 rejected rows",
        footer=True,
        palette=False,
    ),
    Command(
        id="import_report.first",
        description="First page",
        action="first_page",
        keys=("left_square_bracket",),
        scope="dialog.import-report",
        group="dialog",
        help="Back to the first rejected row",
        footer=True,
        palette=False,
    ),
    Command(
        id="import_report.force",
        description="Import anyway",
        action="force",
        keys=("f",),
        scope="dialog.import-report",
        group="dialog",
        help="Store this refused or truncated import after reading why",
        footer=True,
        palette=False,
    ),
    Command(
        id="results.close",
        description="Close",
        action="cancel",
        keys=("enter",),
        scope="dialog.results",
        group="dialog",
        help="Back to the orders",
        footer=True,
        palette=False,
    ),
    Command(
        id="category_picker.list",
        description="List",
        action="to_list",
        keys=("down",),
        scope="dialog.category-picker",
        group="dialog",
        help="Move from the search field to the list",
        palette=False,
    ),
    Command(
        id="command_line.complete",
        description="Complete",
        action="complete",
        keys=("tab",),
        scope="dialog.command-line",
        group="dialog",
        help="Complete the command or its argument",
        priority=True,
        footer=True,
        palette=False,
    ),
    Command(
        id="help.close",
        description="Close",
        action="cancel",
        keys=("q", "question_mark"),
        scope="dialog.help",
        group="dialog",
        help="Close the help",
        footer=True,
        palette=False,
    ),
    Command(
        id="suggestions.apply",
        description="Map ticked",
        action="save",
        keys=("ctrl+s",),
        scope="dialog.suggestions",
        group="dialog",
        help="Map the ticked proposals",
        footer=True,
        palette=False,
    ),
    Command(
        id="suggestions.all",
        description="All/none",
        action="toggle_all",
        keys=("a",),
        scope="dialog.suggestions",
        group="dialog",
        help="Tick every proposal, or none",
        footer=True,
        palette=False,
    ),
    Command(
        id="path.complete",
        description="Complete path",
        action="complete_path",
        keys=("tab",),
        scope="dialog.path",
        group="dialog",
        help="Complete the file name typed so far (Tab again lists)",
        priority=True,
        footer=True,
        palette=False,
    ),
]
"""The table. Order matters: it is the order of help, footer and palette."""


def _table(table: Sequence[Command] | None) -> Sequence[Command]:
    return COMMANDS if table is None else table


def commands_for(scopes: Iterable[str], table: Sequence[Command] | None = None) -> list[Command]:
    """Rows of ``scopes``, in table order."""
    wanted = set(scopes)
    return [cmd for cmd in _table(table) if cmd.scope in wanted]


def is_dialog_scope(scope: str) -> bool:
    return scope == DIALOG or scope.startswith(DIALOG + ".")


def visible_scopes(scope: str) -> tuple[str, ...]:
    """Scopes an operator can reach from a screen (or dialog) whose SCOPE is ``scope``."""
    if is_dialog_scope(scope):
        return (APP, DIALOG) if scope == DIALOG else (APP, DIALOG, scope)
    return (APP, GLOBAL) if scope in (APP, GLOBAL) else (APP, GLOBAL, scope)


def bindings_for(scope: str, table: Sequence[Command] | None = None) -> list[BindingType]:
    """Textual bindings for the rows of ``scope`` that have keys."""
    return [
        Binding(
            ",".join(cmd.keys),
            cmd.action,
            cmd.description,
            show=cmd.footer,
            priority=cmd.priority,
            tooltip=cmd.help,
            id=cmd.id,
        )
        for cmd in commands_for([scope], table)
        if cmd.keys
    ]


def find_command(action: str, scopes: Iterable[str], table: Sequence[Command] | None = None) -> Command | None:
    """The row whose action is ``action`` (the name, before any parameters)."""
    for cmd in commands_for(scopes, table):
        if cmd.action.split("(", 1)[0] == action:
            return cmd
    return None


def view_commands(table: Sequence[Command] | None = None) -> list[Command]:
    """The navigation rows, in the order of the number keys."""
    return [cmd for cmd in _table(table) if cmd.id.startswith("go.")]


def view_name(cmd: Command) -> str:
    return cmd.id.split(".", 1)[1]


# ---------------------------------------------------------------- command line


class CommandLineError(ValueError):
    """What the operator typed after ``:`` is not a command; the message says what to do."""


@dataclass(frozen=True)
class Completion:
    """Result of Tab on the command line: the new text and what still matches."""

    text: str
    candidates: list[str] = field(default_factory=list)


def _named(scope: str, table: Sequence[Command] | None) -> dict[str, Command]:
    named: dict[str, Command] = {}
    for cmd in commands_for(visible_scopes(scope), table):
        for name in cmd.names:
            named.setdefault(name, cmd)
    return named


def resolve_name(word: str, scope: str, table: Sequence[Command] | None = None) -> Command:
    """The command called ``word``, or the only one whose name starts with it."""
    named = _named(scope, table)
    key = word.lower()
    if key in named:
        return named[key]
    matches = sorted({name for name in named if name.startswith(key)})
    commands = {named[name].id for name in matches}
    if len(commands) == 1:
        return named[matches[0]]
    if matches:
        listed = ", ".join(f":{name}" for name in matches)
        raise CommandLineError(f":{word} is ambiguous ({listed}); type more letters or press Tab")
    raise CommandLineError(f"Unknown command :{word}. Press Tab after : to list commands, or ? for help.")


def parse_command_line(text: str, scope: str, table: Sequence[Command] | None = None) -> tuple[Command, str | None]:
    """Split ``:word argument`` into its command and argument."""
    text = text.strip().removeprefix(":").strip()
    if not text:
        raise CommandLineError("Type a command after the colon, for example :orders (Tab lists them).")
    word, _, rest = text.partition(" ")
    cmd = resolve_name(word, scope, table)
    argument = rest.strip() or None
    if argument and not cmd.argument:
        raise CommandLineError(f":{word} takes no argument")
    return cmd, argument


def complete_command_line(
    text: str,
    scope: str,
    choices: Callable[[Command], list[str]],
    table: Sequence[Command] | None = None,
) -> Completion:
    """Complete the word under the cursor (command name, then its argument).

    One match completes it; several complete their common prefix and list them.
    """
    stripped = text.lstrip()
    if " " in stripped:
        word, _, partial_arg = stripped.partition(" ")
        try:
            cmd = resolve_name(word, scope, table)
        except CommandLineError:
            return Completion(text)
        options = sorted(c for c in choices(cmd) if c.lower().startswith(partial_arg.strip().lower()))
        return common_completion(f"{word} ", partial_arg.strip(), options)
    names = sorted(_named(scope, table))
    options = [name for name in names if name.startswith(stripped.lower())]
    completion = common_completion("", stripped, options)
    if len(options) == 1 and _named(scope, table)[options[0]].argument:
        return Completion(completion.text + " ", completion.candidates)
    return completion


def common_completion(prefix: str, typed: str, options: list[str]) -> Completion:
    """``prefix`` + the one option, or the options' common prefix (listed), or what was typed."""
    if not options:
        return Completion(prefix + typed)
    if len(options) == 1:
        return Completion(prefix + options[0], options)
    common = options[0]
    for option in options[1:]:
        while not option.startswith(common):
            common = common[:-1]
    return Completion(prefix + (common if len(common) > len(typed) else typed), options)


# ---------------------------------------------------------------- help


@dataclass(frozen=True)
class HelpRow:
    keys: str
    name: str
    description: str
    enabled: bool


def help_sections(app: ShelfdeskApp, scope: str, title: str) -> list[tuple[str, list[HelpRow]]]:
    """Rows for the ``?`` screen: this screen's own commands first, then the rest."""

    def rows(commands: Iterable[Command]) -> list[HelpRow]:
        result = []
        for cmd in commands:
            name = f":{cmd.names[0]}" + (f" {cmd.argument}" if cmd.argument else "") if cmd.names else ""
            result.append(HelpRow(app.keys_display(cmd), name, cmd.help or cmd.description, not app.is_disabled(cmd)))
        return result

    if is_dialog_scope(scope):
        # Under a dialog only its own keys and the App's work: the screens' keys wait behind it.
        own = commands_for([scope, DIALOG] if scope != DIALOG else [DIALOG])
        return [(title, rows(own)), ("Everywhere", rows(c for c in commands_for([APP]) if c.keys))]
    own = [c for c in commands_for([scope]) if scope not in (APP, GLOBAL)]
    general = [c for c in commands_for([GLOBAL, APP]) if not c.id.startswith("go.")]
    sections = []
    if own:
        sections.append((title, rows(own)))
    sections.append(("Screens", rows(view_commands())))
    sections.append(("Everywhere", rows(general)))
    return sections


# ---------------------------------------------------------------- palette


class CommandTableProvider(Provider):
    """Palette entries built from the table for the screen the palette was opened on."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("ShelfdeskApp", self.app)
        scope = app.command_scope()
        entries: list[tuple[str, str, Callable[[], object]]] = []
        for cmd in commands_for(visible_scopes(scope)):
            if not cmd.palette:
                continue
            keys = app.keys_display(cmd)
            note = "[read-only] " if app.is_disabled(cmd) else ""
            help_text = f"{note}{cmd.help}" + (f"  ({keys})" if keys else "")
            if cmd.argument:
                for choice in app.argument_choices(cmd):
                    entries.append((f"{cmd.group}: {choice}", help_text, partial(app.run_command, cmd, choice)))
            else:
                entries.append((cmd.palette_text, help_text, partial(app.run_command, cmd, None)))
        return entries

    async def discover(self) -> Hits:
        """Shown before typing: this screen's commands, then screens, then the rest.

        Themes stay out (there are twenty) and Quit comes last, so an early
        Enter never quits.
        """
        entries = [e for e in self._entries() if not e[0].startswith("theme: ")]
        scope = cast("ShelfdeskApp", self.app).command_scope()
        own = {c.palette_text for c in commands_for([scope]) if scope not in (APP, GLOBAL)}
        views = {c.palette_text for c in view_commands()}
        quits = {c.palette_text for c in COMMANDS if c.action == "quit"}

        def rank(entry: tuple[str, str, Callable[[], object]]) -> int:
            text = entry[0]
            return 0 if text in own else 1 if text in views else 3 if text in quits else 2

        for text, help_text, callback in sorted(entries, key=rank):
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)
