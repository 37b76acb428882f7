"""CSV feeds: a header row, then one product per record (quoted fields may span lines)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from shelfdesk.catalog.errors import FeedError
from shelfdesk.catalog.readers import RawRow, RowError, snippet

if TYPE_CHECKING:
    from shelfdesk.catalog.detect import FeedOptions

#: Longest single field accepted (a product description can be long; a runaway quote is not).
FIELD_LIMIT = 1 << 20


def header_names(cells: list[str]) -> list[str]:
    """Clean header names: trimmed, blanks named ``column_N``, repeats suffixed `` (2)``."""
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff") or f"column_{index}"
        base, n = name, 2
        while name.casefold() in seen:
            name, n = f"{base} ({n})", n + 1
        seen.add(name.casefold())
        names.append(name)
    return names


def read_csv(binary: BinaryIO, options: FeedOptions) -> Iterator[RawRow | RowError]:
    """Rows of a CSV feed; a record with more fields than the header is reported, not guessed at."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    text = io.TextIOWrapper(binary, encoding=options.encoding, newline="")  # type: ignore[arg-type]
    reader = csv.reader(text, delimiter=options.delimiter, quotechar=options.quotechar)
    try:
        header = _next_record(reader)
        while header is not None and not any(cell.strip() for cell in header):
            header = _next_record(reader)  # blank lines before the header
    except UnicodeError as exc:
        raise FeedError(f"the file is not valid {options.encoding} text ({getattr(exc, 'reason', exc)})", 1) from None
    if header is None:
        raise FeedError("the file is empty: no header row", 1)
    columns = header_names(header)
    width = len(columns)
    last_line = reader.line_num
    while True:
        try:
            record = _next_record(reader)
        except csv.Error as exc:
            line = last_line + 1
            if reader.line_num <= last_line:
                raise FeedError(f"unreadable CSV ({exc})", line) from None
            last_line = reader.line_num
            yield RowError(line, f"unreadable CSV record ({exc})")
            continue
        except UnicodeError as exc:
            raise FeedError(f"the file is not valid {options.encoding} text ({getattr(exc, 'reason', exc)})", last_line + 1) from None
        if record is None:
            return
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        swallowed = _unclosed_quote(record, width, options.delimiter)
        if swallowed is not None:
            yield RowError(
                line,
                f"a quote opened in {columns[swallowed] if swallowed < width else 'a field'!r} is never closed: "
                f"it ran on to line {last_line} and took the rows between; close the quote",
                {"text": snippet(options.delimiter.join(record))},
            )
            continue
        if len(record) > width:
            extra = [cell for cell in record[width:] if cell.strip()]
            if extra:
                yield RowError(
                    line,
                    f"{len(record)} fields but the header has {width} (a stray {options.delimiter!r} or quote?)",
                    {"text": snippet(options.delimiter.join(record))},
                )
                continue
            record = record[:width]
        if len(record) < width:
            record = record + [""] * (width - len(record))
        yield RawRow(line, dict(zip(columns, record, strict=True)))


def _unclosed_quote(record: list[str], width: int, delimiter: str) -> int | None:
    """The field whose quote swallowed whole rows below it, or None.

    A quoted field may hold line breaks (a description); but one that holds a
    line break followed by a line with as many delimiters as a full row is a
    quote left open, and Python's reader silently glued the next rows into it.
    """
    for index, cell in enumerate(record):
        if "\n" not in cell:
            continue
        for continued in cell.split("\n")[1:]:
            if continued.count(delimiter) >= max(1, width - 1):
                return index
    return None


def _next_record(reader: csv._reader) -> list[str] | None:  # type: ignore[name-defined]
    try:
        return next(reader)
    except StopIteration:
        return None
