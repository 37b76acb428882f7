"""JSON feeds: an array of product objects (optionally under one key), or JSON lines.

The array is decoded one element at a time from a sliding buffer, so a feed of
any length costs memory for one product. Numbers keep their exact text
(``19.90`` stays ``"19.90"``, never a float). Nested values are flattened:
``{"specs": {"ram": "8GB"}}`` gives the column ``specs.ram``; lists of plain
values are joined with ``|``.

Why not ijson (a well-kept incremental parser, numbers as Decimal): reading
the 200,000 products of ``benchmarks/catalog_import.py --format json`` (95 MB,
CPU seconds on the 2-core machine, same flattening) takes 1.7-1.9 s with this
reader and 1.4-1.6 s with ijson 3.6's C backend, but ijson reports no position,
so every rejected product would lose the line the import report gives it. Fed
one line at a time to know the line (which also needs one product per line),
it takes 3.1-3.2 s. Keeping the lines costs ijson its lead, so this reader stays.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from shelfdesk.catalog.errors import FeedError, FeedTruncated
from shelfdesk.catalog.readers import RawRow, RowError, snippet
from shelfdesk.catalog.readers.text_checks import ERRORS, clean, encoding_problem

if TYPE_CHECKING:
    from shelfdesk.catalog.detect import FeedOptions

CHUNK = 64 * 1024
#: Largest single product object; beyond it the feed is treated as broken.
MAX_ITEM_CHARS = 4 * 1024 * 1024


class _Number(str):
    """A JSON number kept as its exact text (never a float)."""


_DECODER = json.JSONDecoder(parse_float=_Number, parse_int=_Number)
_WRAPPER = re.compile(r'\{\s*"((?:[^"\\]|\\.)*)"\s*:\s*\[')
_WS = " \t\r\n"


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A product object as flat text columns (see the module docstring)."""
    out: dict[str, str] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if prefix:  # deeper than one level: keep the JSON text
                out[name] = json.dumps(value, ensure_ascii=False)
            else:
                out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                out[name] = "|".join(_scalar(v) for v in value)
            else:
                out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = _scalar(value)
    return out


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str.__str__(value) if isinstance(value, str) else str(value)


class _Buffer:
    """Text decoded from the file, consumed from the front, with the line number of its start."""

    def __init__(self, binary: BinaryIO, encoding: str) -> None:
        self._binary = binary
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self.text = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.eof = False
        self._encoding = encoding

    def fill(self) -> bool:
        """Read one more chunk; False at end of file."""
        if self.eof:
            return False
        raw = self._binary.read(CHUNK)
        try:
            decoded = self._decoder.decode(raw, final=not raw)
        except UnicodeError as exc:
            raise FeedError(f"the file is not valid {self._encoding} text ({getattr(exc, 'reason', exc)})", self.line) from None
        if not raw:
            self.eof = True
        if self.pos:
            self.text = self.text[self.pos :]
            self.pos = 0
        self.text += decoded
        return bool(raw) or bool(decoded)

    def advance(self, end: int) -> None:
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def skip_ws(self) -> str | None:
        """The next non-blank character (not consumed), or None at end of file."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WS:
                self.advance(self.pos + 1)
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return None

    def ensure(self, n: int) -> None:
        while len(self.text) - self.pos < n and self.fill():
            pass

    def line_at(self, index: int) -> int:
        return self.line + self.text.count("\n", self.pos, index)


def read_json_array(binary: BinaryIO, options: FeedOptions) -> Iterator[RawRow | RowError]:
    """Products of ``[{…}, {…}]`` or ``{"products": [{…}, …]}``; the line is where each object starts."""
    buf = _Buffer(binary, options.encoding)
    first = buf.skip_ws()
    if first == "\ufeff":
        buf.advance(buf.pos + 1)
        first = buf.skip_ws()
    if first is None:
        raise FeedError("the file is empty", 1)
    if first == "{":
        buf.ensure(4096)
        match = _WRAPPER.match(buf.text, buf.pos)
        if match is None:
            raise FeedError(
                'expected an array of products, or an object whose first key holds that array (like {"products": [...]})',
                buf.line,
            )
        buf.advance(match.end())
    elif first == "[":
        buf.advance(buf.pos + 1)
    else:
        raise FeedError(f"expected a JSON array of products, found {first!r}", buf.line)
    item = 0
    while True:
        char = buf.skip_ws()
        if char is None:
            raise FeedTruncated("the file ends inside the array (truncated download?)", buf.line)
        if char == "]":
            return
        if item:
            if char != ",":
                raise FeedError(f"expected ',' or ']' after item {item}, found {char!r}", buf.line)
            buf.advance(buf.pos + 1)
            char = buf.skip_ws()
            if char is None:
                raise FeedTruncated("the file ends inside the array (truncated download?)", buf.line)
        item += 1
        start_line = buf.line
        value = _decode_value(buf, item)
        if isinstance(value, dict):
            yield RawRow(start_line, flatten(value))
        else:
            yield RowError(
                start_line, f"item {item} is {_kind(value)}, not a product object", {"text": snippet(json.dumps(value, ensure_ascii=False))}
            )


def _decode_value(buf: _Buffer, item: int) -> Any:
    while True:
        try:
            value, end = _DECODER.raw_decode(buf.text, buf.pos)
        except json.JSONDecodeError as exc:
            if not buf.eof and len(buf.text) - buf.pos < MAX_ITEM_CHARS:
                buf.fill()
                continue
            if buf.eof and not buf.text[exc.pos :].strip():
                raise FeedTruncated(f"the file ends inside item {item} (truncated download?)", buf.line) from None
            raise FeedError(f"invalid JSON in item {item}: {exc.msg}", buf.line_at(exc.pos)) from None
        except RecursionError:
            raise FeedError(f"invalid JSON in item {item}: nested too deeply", buf.line) from None
        if end >= len(buf.text) and not buf.eof:
            buf.fill()  # a number cut at the buffer's end would decode short
            continue
        buf.advance(end)
        return value


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, _Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if not isinstance(value, bool) else "a boolean"


def read_json_lines(binary: BinaryIO, options: FeedOptions) -> Iterator[RawRow | RowError]:
    """One product object per line; a broken line is reported and the next one read.

    A last line that is not valid JSON and has no line ending is where the file
    was cut: :class:`FeedTruncated`, so the import keeps the stored catalog.
    """
    text = io.TextIOWrapper(binary, encoding=options.encoding, errors=ERRORS, newline=None)
    line = 0
    while True:
        try:
            raw = text.readline()
        except UnicodeError as exc:  # what surrogateescape cannot carry: a UTF-16 file cut inside a character
            raise FeedTruncated(
                f"the file is not valid {options.encoding} text ({getattr(exc, 'reason', exc)}): cut short?", line + 1
            ) from None
        if not raw:
            return
        line += 1
        stripped = raw.strip().lstrip("\ufeff")
        if not stripped:
            continue
        problem = encoding_problem(stripped, options.encoding)
        if problem and not raw.endswith("\n"):
            raise FeedTruncated(f"the file ends inside line {line}, in the middle of a character (cut short?)", line)
        if problem:
            yield RowError(line, f"line {line} is {problem}", {"text": snippet(clean(stripped))})
            continue
        try:
            value = _DECODER.decode(stripped)
        except json.JSONDecodeError as exc:
            if not raw.endswith("\n"):
                raise FeedTruncated(f"the file ends inside line {line}, which is not whole JSON (cut short?)", line) from None
            yield RowError(line, f"invalid JSON: {exc.msg} (column {exc.colno})", {"text": snippet(stripped)})
            continue
        except RecursionError:
            yield RowError(line, "invalid JSON: nested too deeply", {"text": snippet(stripped)})
            continue
        if isinstance(value, dict):
            yield RawRow(line, flatten(value))
        else:
            yield RowError(line, f"the line holds {_kind(value)}, not a product object", {"text": snippet(stripped)})
