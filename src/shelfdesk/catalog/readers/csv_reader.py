"""CSV feeds: a header row, then one product per record (quoted fields may span lines).

Damage is reported per record, never guessed at:

* a record whose field count differs from the header's is rejected with its
  line (never padded with blanks that would overwrite a stored product);
* a quoted field that runs over line endings and holds lines that look like
  records (a stray quote swallowing the rows after it) is rejected, and the
  lines it swallowed are read again as records of their own;
* a last record without its line ending means the file was cut inside it:
  :class:`~shelfdesk.catalog.errors.FeedTruncated`, so the import stores
  nothing from a file that is not whole;
* a record holding bytes invalid in the file's encoding (or UTF-8 read as
  Windows-1252) is rejected with its line.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from shelfdesk.catalog.errors import FeedError, FeedTruncated
from shelfdesk.catalog.readers import RawRow, RowError, snippet
from shelfdesk.catalog.readers.text_checks import ERRORS, clean, encoding_problem

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


class _Lines:
    """The file's physical lines, numbered, with the lines of the current record kept for a re-read."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self._again: deque[str] = deque()
        self.number = 0  #: line number of the last line handed out
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._again.popleft() if self._again else _readline(self._text, self.number + 1)
        if not line:
            raise StopIteration
        self.number += 1
        self.taken.append(line)
        return line

    def at_end(self) -> bool:
        """True when no line is left (peeks one line ahead)."""
        if self._again:
            return False
        line = _readline(self._text, self.number + 1)
        if line:
            self._again.append(line)
        return not line

    def read_again(self, lines: list[str], after: int) -> None:
        """Hand ``lines`` out again, numbered from ``after + 1``."""
        self._again.extendleft(reversed(lines))
        self.number = after


def _readline(text: io.TextIOBase, number: int) -> str:
    try:
        return text.readline()
    except UnicodeError as exc:  # what surrogateescape cannot carry: a UTF-16 file cut inside a character
        raise FeedTruncated(
            f"the file is not valid {getattr(text, 'encoding', 'text')} text ({getattr(exc, 'reason', exc)}): cut short?", number
        ) from None


def read_csv(binary: BinaryIO, options: FeedOptions) -> Iterator[RawRow | RowError]:
    """Rows of a CSV feed (see the module docstring for what is rejected and why)."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    text = io.TextIOWrapper(binary, encoding=options.encoding, errors=ERRORS, newline="")
    lines = _Lines(text)

    def reader() -> Iterator[list[str]]:
        return csv.reader(lines, delimiter=options.delimiter, quotechar=options.quotechar)

    records = reader()
    header = _next_record(records)
    while header is not None and not any(cell.strip() for cell in header):
        header = _next_record(records)  # blank lines before the header
    if header is None:
        raise FeedError("the file is empty: no header row", 1)
    problem = encoding_problem("".join(header), options.encoding)
    if problem:
        raise FeedError(f"the header row is {problem}", lines.number)
    if not lines.taken[-1].endswith(("\n", "\r")):
        raise FeedTruncated("the file ends inside the header row (cut short?)", lines.number)
    columns = header_names(header)
    width = len(columns)
    while True:
        lines.taken = []
        start = lines.number + 1
        try:
            record = _next_record(records)
        except csv.Error as exc:
            if len(lines.taken) > 1:
                yield RowError(start, f"unreadable CSV record ({exc}); the lines after it are read again")
                lines.read_again(lines.taken[1:], start)
            else:
                yield RowError(start, f"unreadable CSV record ({exc})")
            records = reader()
            continue
        if record is None:
            return
        taken = lines.taken
        if len(taken) > 1 and _swallowed(record, taken, width, options.delimiter):
            yield RowError(
                start,
                f"a quoted field runs from line {start} over {len(taken) - 1} line endings and "
                "holds what look like records (a stray quote?); the lines after it are read again",
                {"text": snippet(clean(taken[0]))},
                _cells(columns, taken[0], options),
            )
            lines.read_again(taken[1:], start)
            records = reader()
            continue
        if not taken[-1].endswith(("\n", "\r")):
            raise FeedTruncated(f"the file ends inside the record starting on line {start}, without its line ending (cut short?)", start)
        if "".join(taken).count(options.quotechar) % 2 and lines.at_end() and _open_quote("".join(taken), options):
            raise FeedTruncated(f"the file ends inside a quoted field of the record starting on line {start} (cut short?)", start)
        if not any(cell.strip() for cell in record):
            continue
        problem = encoding_problem("".join(taken), options.encoding)
        if problem:
            yield RowError(start, f"line {start} is {problem}", {"text": snippet(clean("".join(taken)))})
            continue
        if len(record) > width and not any(cell.strip() for cell in record[width:]):
            record = record[:width]  # trailing empty fields (a delimiter at the end of the line) hide nothing
        if len(record) != width:
            yield RowError(
                start,
                f"{len(record)} fields but the header has {width} (a stray {options.delimiter!r} or quote, or a line cut short?)",
                {"text": snippet(clean(options.delimiter.join(record)))},
                dict(zip(columns, record, strict=False)),
            )
            continue
        yield RawRow(start, dict(zip(columns, record, strict=True)))


def _swallowed(record: list[str], taken: list[str], width: int, delimiter: str) -> bool:
    """True when a record spanning lines is really a stray quote eating the records after it."""
    if len(record) != width:
        return True
    if width < 2:
        return False
    return any(line.count(delimiter) >= width - 1 for line in taken[1:])


def _cells(columns: list[str], line: str, options: FeedOptions) -> dict[str, str]:
    """The cells of one physical line read on its own (what a stray quote hid)."""
    try:
        cells = next(csv.reader([line], delimiter=options.delimiter, quotechar=options.quotechar), [])
    except csv.Error:
        return {}
    return dict(zip(columns, cells, strict=False))


def _open_quote(text: str, options: FeedOptions) -> bool:
    """True when ``text`` (a whole record) ends inside a quoted field: the file was cut in it."""
    quoted, at_start = False, True
    i = 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == options.quotechar:
                if text[i + 1 : i + 2] == options.quotechar:
                    i += 1  # a doubled quote inside a quoted field
                else:
                    quoted = False
        elif at_start and char == options.quotechar:
            quoted = True
        at_start = not quoted and char in (options.delimiter, "\n", "\r")
        i += 1
    return quoted


def _next_record(reader: Iterator[list[str]]) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
