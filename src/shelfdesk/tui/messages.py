"""Typed messages of the console shell.

Thread workers never touch widgets: they post one of these (``post_message``
is thread-safe) and the main thread updates the screen. Tests assert on them
through ``run_test(message_hook=...)`` rather than on pixels.
"""

from __future__ import annotations

from textual.message import Message


class AlertsCounted(Message):
    """The status worker counted the open alerts of the workspace."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count


class FilterChanged(Message):
    """The operator edited (or cleared, with ``text == ""``) the filter of the current screen."""

    def __init__(self, text: str, *, submitted: bool = False) -> None:
        super().__init__()
        self.text = text
        self.submitted = submitted
