"""Work out how to read a feed: its format, text encoding, CSV delimiter, XML product element.

Merchants export from spreadsheets, ERPs and shop platforms: semicolons and
Windows-1252 from French Excel, tabs from some ERPs, UTF-8 with a BOM, XML
with one element per product. Detection looks at the file itself (the name
only breaks ties) and its result is saved on the store, where an operator can
correct it; saved options win over detection on the next import.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shelfdesk.catalog.errors import FeedError

FORMATS = ("csv", "json", "jsonl", "xml")
DELIMITERS = (";", ",", "\t", "|")
SAMPLE_BYTES = 64 * 1024
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xml": "xml"}


@dataclass(frozen=True)
class FeedOptions:
    """How to read one feed. Saved on the store (``catalog_options``) as a plain dict."""

    format: str
    encoding: str = "utf-8"
    delimiter: str = ","
    quotechar: str = '"'
    xml_element: str | None = None  #: tag of one product; None = detect

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedOptions:
        known = {k: data[k] for k in ("format", "encoding", "delimiter", "quotechar", "xml_element") if k in data}
        options = cls(**known)
        options.check()
        return options

    def check(self) -> None:
        """Refuse options no reader can use, naming the bad one."""
        if self.format not in FORMATS:
            raise FeedError(f"unknown format {self.format!r}: use one of {', '.join(FORMATS)}")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise FeedError(f"unknown text encoding {self.encoding!r}") from None
        if len(self.delimiter) != 1 or self.delimiter in "\r\n" or self.delimiter == self.quotechar:
            raise FeedError(f"the CSV delimiter must be one character, not {self.delimiter!r}")
        if len(self.quotechar) != 1 or self.quotechar in "\r\n":
            raise FeedError(f"the CSV quote character must be one character, not {self.quotechar!r}")


def detect_options(path: Path, *, format_hint: str | None = None, saved: dict[str, Any] | None = None) -> FeedOptions:
    """Options for ``path``: ``saved`` ones (from the store) override what detection finds."""
    saved = dict(saved or {})
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
        complete = not fh.read(1)
    fmt = saved.get("format") or format_hint or detect_format(sample, path.name)
    encoding = saved.get("encoding") or detect_encoding(path, sample)
    options: dict[str, Any] = {"format": fmt, "encoding": encoding}
    if fmt == "csv":
        text = _decode_sample(sample, encoding, complete)
        options["delimiter"] = saved.get("delimiter") or detect_delimiter(text)
        options["quotechar"] = saved.get("quotechar") or '"'
    elif fmt == "xml":
        options["xml_element"] = saved.get("xml_element") or detect_xml_element(sample, complete)
    result = FeedOptions(**options)
    result.check()
    return result


def detect_format(sample: bytes, name: str = "") -> str:
    """csv, json, jsonl or xml from the first bytes (the file name breaks ties)."""
    text = sample.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    by_name = _EXTENSIONS.get(Path(name.split("?", 1)[0]).suffix.lower())
    if text.startswith(b"<"):
        return "xml"
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl" if _looks_like_json_lines(text) else "json"
    # Content that opens like none of the structured formats: trust the name
    # (the reader then says what is wrong at which line), else read it as CSV.
    return by_name or "csv"


def _looks_like_json_lines(text: bytes) -> bool:
    """True when the first line is a whole JSON value and the next non-blank line starts another."""
    first, _, rest = text.partition(b"\n")
    try:
        value = json.loads(first)
    except ValueError:
        return False
    if isinstance(value, dict) and value and isinstance(next(iter(value.values())), list):
        return False  # {"products": [...]} on one line: an array under a key
    nxt = rest.lstrip(b" \t\r\n")
    return not nxt or nxt.startswith(b"{")


def detect_encoding(path: Path, sample: bytes) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else Windows-1252 or Latin-1.

    The whole file is checked, in chunks, because a spreadsheet export can be
    ASCII for a megabyte and then hold one "é" in Windows-1252.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _mostly_utf8(path):
        return "utf-8"  # a few lines pasted from elsewhere: the reader rejects those, naming their lines
    if _decodes(path, "cp1252"):
        return "cp1252"
    return "latin-1"


def _mostly_utf8(path: Path) -> bool:
    """True when more lines hold UTF-8 accents than hold bytes invalid in UTF-8 (a file mixing encodings)."""
    utf8 = invalid = 0
    with path.open("rb") as fh:
        for line in fh:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                invalid += 1
            else:
                utf8 += 1
    return utf8 > invalid


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeError:
        return False
    return True


def _decode_sample(sample: bytes, encoding: str, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(sample, final=complete)


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if lines and not text.endswith(("\n", "\r")) and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line
    if not lines:
        return ","
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        widths = Counter(len(row) for row in rows)
        header_width = len(rows[0]) if rows else 0
        if header_width < 2:
            continue
        consistent = widths[header_width]
        score = (consistent, header_width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_xml_element(sample: bytes, complete: bool) -> str | None:
    """The tag of one product: the repeated element nearest the root.

    Counts start tags by depth in the sample. Repeated root children are the
    products (``<products><product>``); otherwise the first depth holding a
    repeated tag with child elements (``<rss><channel><item>`` gives ``item``,
    never a repeated leaf such as ``<image>``); failing that, the root's only
    child (a one-product file).
    """
    from defusedxml.common import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    counts: dict[int, Counter[str]] = {}
    parents: set[tuple[int, str]] = set()

    class _Counter:
        def __init__(self) -> None:
            self.stack: list[str] = []

        def start(self, tag: str, attrib: dict[str, str]) -> None:
            if self.stack:
                parents.add((len(self.stack), self.stack[-1]))
            self.stack.append(local_name(tag))
            counts.setdefault(len(self.stack), Counter())[self.stack[-1]] += 1

        def end(self, tag: str) -> None:
            self.stack.pop()

        def data(self, data: str) -> None:
            pass

        def close(self) -> None:
            return None

    parser = DefusedXMLParser(target=_Counter())
    try:
        parser.feed(sample)
        if complete:
            parser.close()
    except (ParseError, DefusedXmlException, LookupError):
        pass  # the sample may end mid-element; refusals and unknown encodings are reported by the reader
    children = counts.get(2, Counter())
    if len(children) == 1 and next(iter(children.values())) >= 2:
        return next(iter(children))
    for depth in sorted(d for d in counts if d >= 2):
        for tag, n in counts[depth].most_common():
            if n >= 2 and (depth, tag) in parents:
                return tag
    if children:
        return children.most_common(1)[0][0]
    return None


def local_name(tag: str) -> str:
    """``{namespace}price`` → ``price``; ``g:price`` stays as the parser gave it without namespaces."""
    return tag.rsplit("}", 1)[-1]
