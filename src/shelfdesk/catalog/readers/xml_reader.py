"""XML feeds: one element per product, parsed safely and as a stream.

Parsing goes through defusedxml, which refuses entity declarations (billion
laughs, quadratic blow-up) and external entities or DTDs (reading local files
or calling URLs from a feed someone else controls). The parser is fed in
chunks and products are built straight from its callbacks, never as a tree,
so memory stays at one product.

Columns: the product element's attributes, then each child element's text by
tag (``<price>``); deeper leaves are ``parent.child``, or the value of their
``name`` attribute when they have one (``<attr name="color">Black</attr>``
gives ``color``). Namespaces are dropped (``g:price`` is ``price``).
Repeated columns (several ``<image>``) are joined with ``|``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from shelfdesk.catalog.detect import local_name
from shelfdesk.catalog.errors import FeedError
from shelfdesk.catalog.readers import RawRow, RowError

if TYPE_CHECKING:
    from shelfdesk.catalog.detect import FeedOptions

CHUNK = 64 * 1024
_NAME_ATTRIBUTES = ("name", "key", "code")


class _ProductBuilder:
    """Parser target: turns the product elements into rows as the parser meets them."""

    def __init__(self, element: str | None) -> None:
        self.element = element
        self.expat: Any = None
        self.depth = 0
        self.record_depth: int | None = None
        self.line = 0
        self.values: dict[str, str] = {}
        self.stack: list[tuple[str, str | None, bool]] = []  # (tag, name attribute, has children)
        self.text: list[str] = []
        self.ready: list[RawRow | RowError] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        name = local_name(tag)
        if self.record_depth is None:
            is_record = name == self.element if self.element else self.depth == 2
            if is_record:
                self.record_depth = self.depth
                self.line = self.expat.CurrentLineNumber if self.expat is not None else 0
                self.values = {}
                for key, value in attrib.items():
                    self._put(local_name(key), value)
                self.stack = []
            return
        if self.stack:
            parent = self.stack[-1]
            self.stack[-1] = (parent[0], parent[1], True)
        label = next((attrib[a] for a in _NAME_ATTRIBUTES if attrib.get(a)), None)
        self.stack.append((name, label, False))
        self.text = []

    def data(self, data: str) -> None:
        if self.record_depth is not None and self.stack:
            self.text.append(data)

    def end(self, tag: str) -> None:
        if self.record_depth is not None:
            if self.depth == self.record_depth:
                self.ready.append(RawRow(self.line, self.values))
                self.record_depth, self.values, self.stack = None, {}, []
            elif self.stack:
                name, label, has_children = self.stack.pop()
                if not has_children:
                    key = label or ".".join([*(s[0] for s in self.stack[:1]), name] if self.stack else [name])
                    self._put(key, "".join(self.text).strip())
                self.text = []
        self.depth -= 1

    def _put(self, key: str, value: str) -> None:
        if key in self.values and self.values[key]:
            self.values[key] = f"{self.values[key]}|{value}" if value else self.values[key]
        else:
            self.values[key] = value

    def close(self) -> None:
        return None


def read_xml(binary: BinaryIO, options: FeedOptions) -> Iterator[RawRow | RowError]:
    """Products of an XML feed; any syntax error or forbidden construct stops the read at its line."""
    from defusedxml.common import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    builder = _ProductBuilder(options.xml_element)
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    builder.expat = getattr(parser, "parser", None)

    def line() -> int | None:
        return builder.expat.CurrentLineNumber if builder.expat is not None else None

    try:
        while True:
            chunk = binary.read(CHUNK)
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            yield from builder.ready
            builder.ready.clear()
            if not chunk:
                return
    except (EntitiesForbidden, DTDForbidden) as exc:
        raise FeedError(
            f"the XML declares entities ({getattr(exc, 'name', '') or 'a DTD'}), which shelfdesk refuses "
            "to expand (they can be used to exhaust memory); export the feed without a DTD",
            line(),
        ) from None
    except ExternalReferenceForbidden:
        raise FeedError("the XML refers to an external entity or DTD, which shelfdesk refuses to load", line()) from None
    except DefusedXmlException as exc:
        raise FeedError(f"the XML uses a construct shelfdesk refuses ({exc})", line()) from None
    except LookupError as exc:  # <?xml encoding="…"?> naming no known encoding
        raise FeedError(f"the XML declares an encoding shelfdesk does not know ({exc})", 1) from None
    except ParseError as exc:
        position = getattr(exc, "position", None)
        where = position[0] if position else line()
        message = str(exc).split(": line", 1)[0]
        yield from builder.ready
        builder.ready.clear()
        raise FeedError(f"invalid XML ({message})", where) from None
