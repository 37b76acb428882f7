"""Streaming readers for catalog feeds: CSV, JSON (array or lines) and XML.

Each reader takes a binary file and :class:`~shelfdesk.catalog.detect.FeedOptions`
and yields, one at a time, :class:`RawRow` (a row's values as text, keyed by
column) or :class:`RowError` (a row that could not be read, with its line), so
an import holds one row at a time whatever the feed's size. Damage a reader
cannot step over raises :class:`~shelfdesk.catalog.errors.FeedError` naming
the line; the rows yielded before it stay good.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from shelfdesk.catalog.detect import FeedOptions

#: Longest raw text kept for a row that could not be parsed (reports stay small).
RAW_SNIPPET = 500


@dataclass(frozen=True)
class RawRow:
    """One product as read: ``line`` is where it starts in the file (1-based)."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class RowError:
    """A row that could not be read at all (a broken JSON line, too many CSV fields)."""

    line: int
    reason: str
    raw: dict[str, Any] = field(default_factory=dict)
    #: What could be read of the row by column, best effort (a CSV record with the wrong field count):
    #: the import takes the SKU from it so the product is not flagged gone for one damaged line.
    values: dict[str, str] = field(default_factory=dict)


class CountingFile(io.RawIOBase):
    """A read-only binary file that counts the bytes read, for progress bars."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def read_rows(binary: BinaryIO, options: FeedOptions) -> Iterator[RawRow | RowError]:
    """Rows of ``binary`` in the format ``options`` names."""
    if options.format == "csv":
        from shelfdesk.catalog.readers.csv_reader import read_csv

        return read_csv(binary, options)
    if options.format == "json":
        from shelfdesk.catalog.readers.json_reader import read_json_array

        return read_json_array(binary, options)
    if options.format == "jsonl":
        from shelfdesk.catalog.readers.json_reader import read_json_lines

        return read_json_lines(binary, options)
    if options.format == "xml":
        from shelfdesk.catalog.readers.xml_reader import read_xml

        return read_xml(binary, options)
    from shelfdesk.catalog.errors import FeedError

    raise FeedError(f"unknown feed format {options.format!r} (csv, json, jsonl or xml)")


def snippet(text: str) -> str:
    """``text`` cut to :data:`RAW_SNIPPET` characters for a report."""
    return text if len(text) <= RAW_SNIPPET else text[:RAW_SNIPPET] + "…"
