"""Choosing what to publish (or plan): a channel's feed and mode, from a keyboard list.

One line per channel, feed and mode ("Refurb Paris / Back Market France ·
offers · update"), only for feeds switched on; a channel whose publication
is not activated yet is offered for a dry run only (publishing shows it
greyed, saying why). Enter chooses, Esc cancels.
The channels are read in a thread worker; nothing is sent from here.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from shelfdesk.tui.screens.dialog import DialogScreen


class PublishDialog(DialogScreen[tuple[int, str, str] | None]):
    """Returns ``(channel id, feed, mode)`` or None."""

    CSS_PATH = "publish_dialog.tcss"

    def __init__(self, *, dry_run: bool, channel_id: int | None = None) -> None:
        super().__init__()
        self.dry_run = dry_run
        self.channel_id = channel_id
        self.choices: list[tuple[int, str, str]] = []

    def compose(self) -> ComposeResult:
        verb = "Plan (dry run, sends nothing)" if self.dry_run else "Publish now"
        with Vertical(id="publish-dialog"):
            yield Label(f"{verb}: choose a channel's feed", id="publish-title", markup=False)
            yield OptionList(id="publish-options")
            yield Label("Enter chooses · Esc cancels · update sends what changed, full sends everything", id="publish-hint", markup=False)

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, group="publish-dialog", exclusive=True, exit_on_error=False, description="Listing channels")
    def _load(self) -> None:
        from shelfdesk.publishing.channel import list_channels

        channels = list_channels(self.ctx)
        self.app.call_from_thread(self._show, channels)

    def _show(self, channels: list) -> None:
        options = self.query_one(OptionList)
        first = None
        for channel in channels:
            if not self.dry_run and not channel.active:  # only planned until its publication is activated
                options.add_option(Option(f"{channel.label} · not activated (A on Mappings)", disabled=True))
                continue
            for feed in channel.feeds:
                for mode in channel.modes:
                    self.choices.append((channel.id, feed, mode))
                    options.add_option(Option(f"{channel.label} · {feed} · {mode}"))
                    if first is None and (self.channel_id is None or channel.id == self.channel_id):
                        first = len(self.choices) - 1
        if not self.choices:
            options.add_option(Option("No channel with a feed switched on (see Stores)", disabled=True))
        else:
            options.highlighted = first or 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.choices):
            self.dismiss(self.choices[event.option_index])
