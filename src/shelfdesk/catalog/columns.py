"""Column detection: which feed column is the SKU, the EAN, the price …

Feeds name their columns in the merchant's language and tool ("Référence",
"EAN13", "Prix TTC", "Qté"). Roles are suggested from the names first, then
from the values (a column of valid GTINs is the EAN), and saved on the store
as ``column_roles``, where the operator can correct them before importing.
Every column without a role is kept on the product as an extra attribute.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shelfdesk.catalog.gtin import is_valid_gtin

#: The roles a store maps, in the order the console shows them. Only ``sku`` is required.
ROLES: tuple[str, ...] = ("sku", "ean", "title", "brand", "category", "price", "stock")

ROLE_LABELS = {
    "sku": "SKU",
    "ean": "EAN/GTIN",
    "title": "Title",
    "brand": "Brand",
    "category": "Category",
    "price": "Price",
    "stock": "Stock",
}

#: Normalized header names per role, best first (English, French, Spanish, common tools).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku",
        "seller sku",
        "merchant sku",
        "sku id",
        "ref",
        "reference",
        "ref interne",
        "reference interne",
        "ref produit",
        "reference produit",
        "referencia",
        "item id",
        "article",
        "code article",
        "offer id",
        "id produit",
        "product sku",
        "id",
    ),
    "ean": (
        "ean",
        "ean13",
        "ean 13",
        "gtin",
        "gtin13",
        "gtin 13",
        "barcode",
        "code barre",
        "code barres",
        "codigo de barras",
        "upc",
        "ean code",
        "ean8",
        "gtin14",
    ),
    "title": (
        "title",
        "product title",
        "name",
        "product name",
        "titre",
        "nom",
        "nom produit",
        "designation",
        "libelle",
        "titulo",
        "nombre",
        "item name",
    ),
    "brand": ("brand", "marque", "marca", "manufacturer", "fabricant", "fabricante", "make"),
    "category": (
        "category",
        "category path",
        "categorie",
        "categoria",
        "product type",
        "product category",
        "categorie produit",
        "rayon",
        "famille",
        "family",
        "breadcrumb",
    ),
    "price": (
        "price",
        "prix",
        "prix ttc",
        "price ttc",
        "selling price",
        "sale price",
        "prix de vente",
        "precio",
        "tarif",
        "unit price",
        "price eur",
        "prix eur",
    ),
    "stock": (
        "stock",
        "quantity",
        "qty",
        "quantite",
        "qte",
        "stock quantity",
        "available",
        "inventory",
        "cantidad",
        "existencias",
        "disponible",
        "stock disponible",
    ),
}


def normalize_name(name: str) -> str:
    """Casefolded, accents removed, punctuation as spaces: ``"Prix TTC (€)"`` → ``"prix ttc"``."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a feed as detection saw it."""

    name: str
    samples: tuple[str, ...]  #: first distinct non-empty values
    filled: int  #: sampled rows where it is not empty
    role: str | None = None


@dataclass(frozen=True)
class ColumnReport:
    """What a look at the first rows of a feed found."""

    options: dict[str, Any]
    columns: list[ColumnInfo]
    roles: dict[str, str]
    rows_sampled: int
    unreadable_rows: int = 0
    problems: list[str] = field(default_factory=list)

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)


def suggest_roles(columns: Iterable[str], samples: Mapping[str, list[str]] | None = None) -> dict[str, str]:
    """Best column for each role (one column per role, one role per column)."""
    columns = list(columns)
    samples = samples or {}
    normalized = {col: normalize_name(col) for col in columns}
    taken: set[str] = set()
    roles: dict[str, str] = {}
    # Exact names first, for every role, so "EAN" is never taken by a looser match of another role.
    for strict in (True, False):
        for role in ROLES:
            if role in roles:
                continue
            for synonym in SYNONYMS[role]:
                match = next((c for c in columns if c not in taken and _matches(normalized[c], synonym, strict)), None)
                if match is not None:
                    roles[role] = match
                    taken.add(match)
                    break
    if "ean" not in roles:
        for col in columns:
            values = [v.strip() for v in samples.get(col, []) if v.strip()]
            if col not in taken and len(values) >= 2 and all(is_valid_gtin(v) for v in values):
                roles["ean"] = col
                taken.add(col)
                break
    return {role: roles[role] for role in ROLES if role in roles}


def _matches(name: str, synonym: str, strict: bool) -> bool:
    if strict:
        return name == synonym
    if len(synonym) < 3:
        return False
    words = name.split()
    return name.startswith(synonym + " ") or name.endswith(" " + synonym) or synonym in words


def inspect_feed(path: Path, options: Any, *, sample_rows: int = 50, roles: Mapping[str, str] | None = None) -> ColumnReport:
    """Read the first ``sample_rows`` rows of ``path``; columns, samples and suggested (or saved) roles."""
    from shelfdesk.catalog.errors import FeedError
    from shelfdesk.catalog.readers import RawRow, read_rows

    order: list[str] = []
    samples: dict[str, list[str]] = {}
    filled: dict[str, int] = {}
    read = unreadable = 0
    problems: list[str] = []
    with path.open("rb") as fh:
        try:
            for row in read_rows(fh, options):
                if not isinstance(row, RawRow):
                    unreadable += 1
                    problems.append(f"line {row.line}: {row.reason}")
                    if read + unreadable >= sample_rows:
                        break
                    continue
                read += 1
                for name, value in row.values.items():
                    if name not in samples:
                        order.append(name)
                        samples[name], filled[name] = [], 0
                    if value.strip():
                        filled[name] += 1
                        if value not in samples[name] and len(samples[name]) < 5:
                            samples[name].append(value)
                if read + unreadable >= sample_rows:
                    break
        except FeedError as exc:
            problems.append(str(exc))
    chosen = dict(roles) if roles else suggest_roles(order, samples)
    by_column = {col: role for role, col in chosen.items() if role in ROLES}
    columns = [ColumnInfo(name, tuple(samples[name]), filled[name], by_column.get(name)) for name in order]
    return ColumnReport(options.to_dict(), columns, chosen, read, unreadable, problems)


def check_roles(roles: Mapping[str, Any], columns: Iterable[str] | None = None) -> dict[str, str]:
    """Validated roles: known role names, one column each, ``sku`` present; raises CatalogError."""
    from shelfdesk.catalog.errors import CatalogError

    clean: dict[str, str] = {}
    for role, column in roles.items():
        if role == "extra":
            continue
        if role not in ROLES:
            raise CatalogError(f"unknown column role {role!r}: roles are {', '.join(ROLES)}")
        if not isinstance(column, str) or not column.strip():
            continue
        clean[role] = column.strip()
    if "sku" not in clean:
        raise CatalogError("the SKU column is required: say which column holds the SKU")
    used: dict[str, str] = {}
    for role, column in clean.items():
        if column in used:
            raise CatalogError(f"column {column!r} is given two roles ({used[column]} and {role})")
        used[column] = role
    if columns is not None:
        known = set(columns)
        missing = [f"{role} → {col!r}" for role, col in clean.items() if col not in known]
        if missing:
            raise CatalogError(f"the feed has no column {', '.join(missing)}")
    return clean
