"""The Care dialogs: a reply editor with saved replies, a problem, and a small form (item transfer, refund).

The reply editor is a TextArea: it works over SSH in any terminal (no mouse,
no clipboard needed), Tab leaves it for the saved replies, ctrl+s sends.
Saved replies are listed for the case's language first (ctrl+l shows the
next language); Enter on one puts its text where the cursor is, so a saved
reply can be completed before sending; ctrl+n keeps what is typed as a new
saved reply. Every dialog comes back with what was typed when the service
refuses it, the reason on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen

if TYPE_CHECKING:
    from shelfdesk.services.care import SavedReply


class ReplyDialog(DialogScreen[str]):
    """Returns the reply's text on ctrl+s (or Send), None on Esc."""

    SCOPE: ClassVar[str] = "dialog.care-reply"
    BINDINGS = bindings_for(SCOPE)
    CSS_PATH = "dialogs.tcss"
    HELP_TITLE = "reply"
    CANCEL_NOTE = "Closed: no reply was sent."

    def __init__(
        self, title: str, language: str, replies: Sequence[SavedReply], *, text: str = "", error: str = "", context: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.language = language
        self.replies = list(replies)
        self.text = text
        self.error = error
        self.context = context

    def languages(self) -> list[str]:
        """The case's language first, then the others that have saved replies."""
        return [self.language, *sorted({r.language for r in self.replies} - {self.language})]

    def compose(self) -> ComposeResult:
        with Vertical(id="care-reply", classes="care-dialog"):
            yield Label(self.title_text, classes="care-dialog-title", markup=False)
            if self.error:
                yield Label(self.error, classes="care-dialog-error", markup=False)
            if self.context:
                shown = self.context if len(self.context) <= 150 else self.context[:149] + "…"
                yield Label(f"Buyer: {shown}", id="care-reply-context", markup=False)
            yield Label("", id="care-reply-saved-title", markup=False)
            yield OptionList(id="care-reply-saved")
            yield TextArea(self.text, id="care-reply-text", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
            yield Label("ctrl+s sends · Tab: saved replies · Enter on one inserts it · Esc closes", classes="care-dialog-hint")

    def on_mount(self) -> None:
        super().on_mount()
        self._show_replies()
        editor = self.query_one(TextArea)
        editor.cursor_blink = False  # a blinking cursor is a repaint twice a second over SSH
        editor.focus()
        editor.move_cursor(editor.document.end)

    def _show_replies(self) -> None:
        mine = [r for r in self.replies if r.language == self.language]
        listing = self.query_one("#care-reply-saved", OptionList)
        listing.clear_options()
        listing.add_options([Option(f"{r.name} · {_first_line(r.body)}", id=str(r.id)) for r in mine])
        others = len(self.languages()) - 1
        more = f" · ctrl+l: {others} other language(s)" if others else ""
        label = (
            f"Saved replies ({self.language}): {len(mine)}{more}"
            if mine
            else f"No saved reply in {self.language} yet (ctrl+n keeps one){more}"
        )
        self.query_one("#care-reply-saved-title", Label).update(label)
        listing.display = bool(mine)
        if mine:
            listing.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a saved reply: its text goes in at the cursor, and the editor has the focus again."""
        event.stop()
        reply = next((r for r in self.replies if str(r.id) == event.option.id), None)
        if reply is None:
            return
        editor = self.query_one(TextArea)
        editor.insert(reply.body)
        editor.focus()

    def action_next_language(self) -> None:
        languages = self.languages()
        self.language = languages[(languages.index(self.language) + 1) % len(languages)]
        self._show_replies()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.app.notify("The reply is empty: type it, or pick a saved reply (Tab).", title="Reply", severity="warning")
            return
        self.dismiss(text)

    def action_save_reply(self) -> None:
        """ctrl+n: keep the text as a saved reply of the shown language, under a name asked for."""
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        text = self.query_one(TextArea).text.strip()
        if not text:
            self.app.notify("Type the reply to keep first.", title="Saved replies", severity="warning")
            return

        def named(name: str | None) -> None:
            if name:
                self._save_reply(name, self.language, text)
            elif name is not None:
                self.app.notify("A saved reply needs a name: nothing was kept.", title="Saved replies", severity="warning")

        self.app.push_screen(
            ConfirmDialog(
                f"Keep this text as a saved reply in {self.language}?",
                _first_line(text),
                yes="Keep it",
                field="Name (a reply of the same name and language is replaced)",
                placeholder="e.g. Acknowledge",
                cancelled="Not kept: the reply is still here.",
            ),
            callback=named,
        )

    @work(thread=True, group="care-save-reply", exit_on_error=False, description="Keeping a saved reply")
    def _save_reply(self, name: str, language: str, body: str) -> None:
        from shelfdesk.services.care import save_reply, saved_replies

        try:
            kept = save_reply(self.ctx, name, language, body)
        except Exception as exc:  # noqa: BLE001 - the service's refusal, said in its words
            self.app.call_from_thread(self.app.notify, str(exc), title="Saved replies", severity="error")
            return
        replies = saved_replies(self.ctx)
        self.app.call_from_thread(self._kept, kept, replies)

    def _kept(self, kept: SavedReply, replies: list[SavedReply]) -> None:
        self.replies = replies
        self._show_replies()
        self.app.notify(f"Saved reply {kept.name!r} ({kept.language}) kept.", title="Saved replies")


class ProblemDialog(DialogScreen[dict[str, str]]):
    """Returns ``{"problem_type", "message", "attachments"}`` (paths by commas) on ctrl+s, None on Esc."""

    SCOPE: ClassVar[str] = "dialog.care-form"
    BINDINGS = bindings_for(SCOPE)
    CSS_PATH = "dialogs.tcss"
    HELP_TITLE = "problem"
    CANCEL_NOTE = "Closed: no problem was declared."

    def __init__(self, title: str, types: Sequence[str], needing_files: Any, values: dict[str, str], error: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.types = list(types)
        self.needing_files = set(needing_files)
        self.values = values
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="care-problem", classes="care-dialog"):
            yield Label(self.title_text, classes="care-dialog-title", markup=False)
            if self.error:
                yield Label(self.error, classes="care-dialog-error", markup=False)
            options = [Option(t + ("  (files required)" if t in self.needing_files else ""), id=t) for t in self.types]
            yield OptionList(*options, id="care-problem-type")
            with Horizontal(classes="care-form-row"):
                yield Label("Message", classes="care-form-label")
                yield Input(self.values.get("message", ""), placeholder="optional", id="care-problem-message", compact=True)
            with Horizontal(classes="care-form-row"):
                yield Label("Files", classes="care-form-label")
                yield Input(self.values.get("attachments", ""), placeholder="paths, by commas", id="care-problem-files", compact=True)
            yield Label("↑↓ type · Tab fields · ctrl+s or Enter in Files declares · Esc closes", classes="care-dialog-hint")

    def on_mount(self) -> None:
        super().on_mount()
        listing = self.query_one(OptionList)
        wanted = self.values.get("problem_type", "OTHER")
        listing.highlighted = self.types.index(wanted) if wanted in self.types else 0
        listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#care-problem-message", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "care-problem-files":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        listing = self.query_one(OptionList)
        chosen = self.types[listing.highlighted] if listing.highlighted is not None else "OTHER"
        self.dismiss(
            {
                "problem_type": chosen,
                "message": self.query_one("#care-problem-message", Input).value.strip(),
                "attachments": self.query_one("#care-problem-files", Input).value.strip(),
            }
        )


class CareFormDialog(DialogScreen[dict[str, str]]):
    """A few one-line fields (an item transfer, a refund); Enter moves on and, in the last field, goes on."""

    SCOPE: ClassVar[str] = "dialog.care-form"
    BINDINGS = bindings_for(SCOPE)
    CSS_PATH = "dialogs.tcss"
    HELP_TITLE = "form"

    def __init__(
        self,
        title: str,
        fields: Sequence[tuple[str, str, str]],
        values: dict[str, str],
        error: str = "",
        *,
        go: str = "Send",
        about: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = list(fields)
        self.values = values
        self.error = error
        self.go = go
        self.about = list(about)

    def compose(self) -> ComposeResult:
        with Vertical(classes="care-dialog care-form"):
            yield Label(self.title_text, classes="care-dialog-title", markup=False)
            if self.error:
                yield Label(self.error, classes="care-dialog-error", markup=False)
            for line in self.about:
                yield Label(line, classes="care-dialog-about", markup=False)
            for key, label, hint in self.fields:
                with Horizontal(classes="care-form-row"):
                    yield Label(label, classes="care-form-label", markup=False)
                    yield Input(self.values.get(key, ""), placeholder=hint, id=f"care-form-{key}", compact=True, select_on_focus=False)
            with Horizontal(classes="care-form-buttons"):
                yield Button("Cancel", id="care-form-cancel")
                yield Button(self.go, id="care-form-go", variant="warning")

    def on_mount(self) -> None:
        super().on_mount()
        inputs = list(self.query(Input))
        for field in inputs:
            field.cursor_blink = False
        empty = [field for field in inputs if not field.value]
        target = empty[0] if empty else inputs[-1]
        target.focus()
        target.cursor_position = len(target.value)

    def _values(self) -> dict[str, str]:
        return {key: self.query_one(f"#care-form-{key}", Input).value.strip() for key, _, _ in self.fields}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"care-form-{self.fields[-1][0]}":
            self.action_save()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "care-form-go":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        self.dismiss(self._values())


def _first_line(text: str, width: int = 50) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
