"""The marketplaces' category trees, shipped with shelfdesk as data (``catalog/trees/*.json``).

A product is published in a *leaf* category; each leaf carries its default
cost (a commission rate, and for Leboncoin an insertion fee charged when
secure payment is off) and whether lines shipped from it need an IMEI or a
serial number (Back Market smartphones do). The trees are checked when loaded:
unique ids, leaves without children, costs as decimals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from shelfdesk.catalog.columns import normalize_name
from shelfdesk.domain import Marketplace

SEPARATOR = " > "


@dataclass(frozen=True)
class ChannelCategory:
    """One node of a marketplace's tree; ``path`` is from the top universe down, root excluded."""

    id: str
    name: str
    path: str
    leaf: bool
    depth: int
    parent_id: str | None
    commission: Decimal | None = None  #: percent
    insertion_fee: Decimal | None = None  #: per ad, in the marketplace's currency
    needs: str | None = None  #: "imei", "serial" or None

    @property
    def requires_imei_or_serial(self) -> bool:
        return self.needs is not None


class CategoryTree:
    """A marketplace's categories, by id, in tree order."""

    def __init__(self, marketplace: Marketplace, nodes: list[ChannelCategory]) -> None:
        self.marketplace = marketplace
        self.nodes = nodes
        self._by_id = {node.id: node for node in nodes}
        self._children: dict[str | None, list[ChannelCategory]] = {}
        for node in nodes:
            self._children.setdefault(node.parent_id, []).append(node)
        self._by_path = {node.path.casefold(): node for node in nodes}

    def get(self, category_id: str) -> ChannelCategory | None:
        return self._by_id.get(category_id)

    def by_path(self, path: str) -> ChannelCategory | None:
        return self._by_path.get(" > ".join(p.strip() for p in path.split(">")).casefold())

    def find(self, id_or_path: str) -> ChannelCategory | None:
        """A category by id, else by full path (``Computers > Laptops > MacBook``)."""
        return self.get(id_or_path.strip()) or self.by_path(id_or_path)

    def children(self, category_id: str | None = None) -> list[ChannelCategory]:
        """Direct children of ``category_id`` (None: the top level)."""
        return list(self._children.get(category_id, []))

    def leaves(self) -> list[ChannelCategory]:
        return [node for node in self.nodes if node.leaf]

    def leaves_under(self, category_id: str) -> list[ChannelCategory]:
        out: list[ChannelCategory] = []
        stack = list(reversed(self.children(category_id)))
        while stack:
            node = stack.pop()
            if node.leaf:
                out.append(node)
            else:
                stack.extend(reversed(self.children(node.id)))
        return out

    def search(self, query: str, *, leaves_only: bool = False) -> list[ChannelCategory]:
        """Nodes whose path contains every word of ``query`` (accents and case ignored), tree order."""
        words = normalize_name(query).split()
        hits = []
        for node in self.nodes:
            if leaves_only and not node.leaf:
                continue
            text = normalize_name(node.path)
            if all(word in text for word in words):
                hits.append(node)
        return hits

    def suggest(self, merchant_path: str, limit: int = 3) -> list[ChannelCategory]:
        """Leaves that share the most words with a merchant category path, best first."""
        wanted = _stems(merchant_path)
        if not wanted:
            return []
        scored: list[tuple[float, int, ChannelCategory]] = []
        for index, node in enumerate(self.leaves()):
            name_words = _stems(node.name)
            path_words = _stems(node.path)
            score = 2.0 * len(wanted & name_words) + len(wanted & path_words)
            last = _stems(merchant_path.split(">")[-1])
            if last and last <= name_words:
                score += 3.0
            if score >= 2:  # one shared word in the path alone ("home" in "home cinema") is noise
                scored.append((score, -index, node))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [node for _, _, node in scored[:limit]]


_STOP = {"and", "the", "of", "for", "with", "et", "de", "des", "les", "la", "le", "pour", "s"}
_SYNONYMS = {
    "phone": "phone",
    "mobile": "phone",
    "telephone": "phone",
    "smartphone": "smartphone",
    "laptop": "laptop",
    "notebook": "laptop",
    "computer": "computer",
    "pc": "computer",
    "clothe": "clothing",
    "clothing": "clothing",
    "apparel": "clothing",
    "jacket": "clothing",
    "jean": "clothing",
    "coat": "clothing",
    "knitwear": "clothing",
    "chair": "chair",
    "armchair": "chair",
    "table": "table",
    "lamp": "lighting",
    "lighting": "lighting",
    "shoe": "shoe",
    "sneaker": "shoe",
    "bag": "bag",
    "storage": "storage",
    "cabinet": "storage",
    "sideboard": "storage",
    "furniture": "furniture",
    "women": "women",
    "woman": "women",
    "men": "men",
    "man": "men",
}


def _stems(text: str) -> set[str]:
    """Words of ``text`` reduced to a crude stem (plural 's' dropped, a few synonyms folded)."""
    out = set()
    for word in normalize_name(text).split():
        if word in _STOP:
            continue
        stem = word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        out.add(_SYNONYMS.get(stem, stem))
    return out


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not a decimal") from None
    if number < 0:
        raise ValueError(f"{where}: {value!r} is negative")
    return number


def _walk(node: dict[str, Any], parents: list[str], parent_id: str | None, depth: int) -> Iterator[ChannelCategory]:
    children = node.get("children") or []
    leaf = bool(node.get("leaf"))
    name = str(node["name"])
    cid = str(node["id"])
    if leaf == bool(children):
        raise ValueError(f"category {cid} ({name}): a leaf has no children and a non-leaf has some")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", cid):
        raise ValueError(f"category id {cid!r} has characters outside [A-Za-z0-9_.-]")
    path = SEPARATOR.join([*parents, name])
    needs = node.get("needs")
    if needs not in (None, "imei", "serial"):
        raise ValueError(f"category {cid}: needs must be imei or serial, not {needs!r}")
    yield ChannelCategory(
        cid, name, path, leaf, depth, parent_id, _decimal(node.get("commission"), cid), _decimal(node.get("insertion_fee"), cid), needs
    )
    for child in children:
        yield from _walk(child, [*parents, name], cid, depth + 1)


@cache
def category_tree(marketplace: Marketplace | str) -> CategoryTree:
    """The shipped tree of ``marketplace`` (loaded once per process)."""
    market = Marketplace(marketplace)
    text = resources.files("shelfdesk.catalog").joinpath("trees", f"{market.value}.json").read_text("utf-8")
    data = json.loads(text)
    root = data["root"]
    nodes: list[ChannelCategory] = []
    for child in root.get("children") or []:
        nodes.extend(_walk(child, [], None, 1))
    ids = [node.id for node in nodes]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{market} category tree has duplicate ids")
    return CategoryTree(market, nodes)
