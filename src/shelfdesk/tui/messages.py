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


# ---------------------------------------------------------------- publications


class PublicationsLoaded(Message):
    """A page of the publication history (``rows``: ``publishing.triage.PublicationRow``)."""

    def __init__(self, rows: list, *, running: list | None = None) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.rows = rows
        self.running = running or []


class PublicationItemsLoaded(Message):
    """A page of one publication's items, with the count matching the filter."""

    def __init__(self, publication: object, items: list, total: int, page: int) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.publication = publication
        self.items = items
        self.total = total
        self.page = page


class ErrorClustersLoaded(Message):
    """Failed items of a publication grouped by cause, largest first."""

    def __init__(self, publication: object, clusters: list) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.publication = publication
        self.clusters = clusters


class PublishProgress(Message):
    """A running publication reported progress (``publishing.engine.Progress``)."""

    def __init__(self, progress: object) -> None:
        super().__init__()
        self.progress = progress


class PublishFinished(Message):
    """A publication (or dry run) started from the console ended; ``error`` when it could not run."""

    def __init__(self, result: object | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error
