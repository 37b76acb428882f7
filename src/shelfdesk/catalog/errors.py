"""Errors of the catalog layer, worded for the operator who has to fix the feed or the input."""

from __future__ import annotations


class CatalogError(ValueError):
    """Bad input to a catalog service (unknown store, non-leaf category …); the message says what to do."""


class SourceError(CatalogError):
    """The catalog source cannot be fetched or opened (missing file, HTTP error, too large, timeout)."""


class FeedError(CatalogError):
    """The feed cannot be read past ``line``: rows before it were read, the rest could not be.

    Raised for damage a reader cannot skip over (an XML syntax error, a broken
    JSON array, an undecodable byte), as opposed to one bad row, which is
    reported and skipped.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.reason = message


class SetupError(CatalogError):
    """Bad store, account or channel settings (unknown market, second Back Market country …)."""


class FeedTruncated(FeedError):
    """The file ends inside a record (a JSON array never closed, a CSV line without its line ending …).

    A download cut short looks exactly like this, so an import treats it as
    "not the whole catalog": nothing is overwritten and nothing flagged gone.
    """
