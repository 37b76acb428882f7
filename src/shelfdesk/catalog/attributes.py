"""The attributes each marketplace needs for a listing, and how a value is checked.

Accepted values come from the connector's capabilities (Back Market's grades,
Leboncoin's conditions and reasons for "new"), so a connector change flows
here. Each attribute is filled by the channel's column mapping: a catalog
column, a constant, or a value map (the merchant's value → an accepted one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

from shelfdesk.catalog.gtin import is_valid_gtin
from shelfdesk.domain import Marketplace


@dataclass(frozen=True)
class AttributeSpec:
    """One channel attribute.

    ``mandatory`` attributes must be mapped before the channel is ready;
    ``any_of`` names a group where mapping one member is enough (Back Market
    matches a product by its product id *or* its EAN). ``required_when`` is
    ``(attribute, value)``: mandatory only for products where that attribute
    has that value (Leboncoin's reason for "new").
    """

    name: str
    label: str
    kind: str  #: text, integer, decimal, choice, gtin, product_id
    mandatory: bool = False
    any_of: str | None = None
    required_when: tuple[str, str] | None = None
    choices: tuple[tuple[str, str], ...] = ()  #: (accepted value, label)
    minimum: Decimal | None = None
    max_length: int | None = None
    help: str = ""
    synonyms: tuple[str, ...] = ()  #: catalog column names that usually hold it (normalized)
    suggested_default: str | None = None  #: constant offered when no column fits

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    def check(self, value: str | None) -> tuple[str | None, str | None]:
        """``(clean value, None)`` or ``(None, reason)``; an empty value is ``(None, None)``."""
        text = (value or "").strip()
        if not text:
            return None, None
        if self.kind == "choice":
            for accepted, label in self.choices:
                if text == accepted or text.casefold() in (accepted.casefold(), label.casefold()):
                    return accepted, None
            return None, f"{text!r} is not an accepted value ({', '.join(self.accepted)})"
        if self.kind == "integer":
            if not re.fullmatch(r"[+-]?\d+", text):
                return None, f"{text!r} is not a whole number"
            number = int(text)
            if self.minimum is not None and number < self.minimum:
                return None, f"{number} is below the minimum of {self.minimum}"
            return str(number), None
        if self.kind == "decimal":
            try:
                amount = Decimal(text.replace(",", "."))
            except InvalidOperation:
                return None, f"{text!r} is not a decimal number"
            if not amount.is_finite():
                return None, f"{text!r} is not a decimal number"
            if self.minimum is not None and amount < self.minimum:
                return None, f"{text!r} is below the minimum of {self.minimum}"
            if amount != amount.quantize(Decimal("0.01")):
                return None, f"{text!r} has more than two decimals"
            return str(amount.quantize(Decimal("0.01"))), None
        if self.kind == "gtin":
            code = text.replace(" ", "")
            if not is_valid_gtin(code):
                return None, f"{text!r} is not a valid EAN/GTIN"
            return code, None
        if self.kind == "product_id":
            if re.fullmatch(r"\d{1,12}", text) or re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", text):
                return text.lower(), None
            return None, f"{text!r} is neither a Back Market product number nor a product UUID"
        if self.max_length is not None and len(text) > self.max_length:
            return None, f"longer than {self.max_length} characters ({len(text)})"
        return text, None


@dataclass(frozen=True)
class AttributeSet:
    """Every attribute of one marketplace, in the order the console lists them."""

    marketplace: Marketplace
    specs: tuple[AttributeSpec, ...] = field(default_factory=tuple)

    def get(self, name: str) -> AttributeSpec | None:
        return next((spec for spec in self.specs if spec.name == name), None)

    def names(self) -> list[str]:
        return [spec.name for spec in self.specs]


def _backmarket() -> AttributeSet:
    from shelfdesk.channels.registry import capabilities

    grades = capabilities(Marketplace.backmarket).grades
    labels = {
        "PREMIUM": "Premium",
        "EXCELLENT": "Excellent",
        "VERY_GOOD": "Very good",
        "GOOD": "Good",
        "FAIR": "Fair",
        "STALLONE": "Stallone",
    }
    return AttributeSet(
        Marketplace.backmarket,
        (
            AttributeSpec(
                "product_id",
                "Back Market product id",
                "product_id",
                mandatory=True,
                any_of="match",
                help="the number in the product's backmarket.com address (or its UUID); matches the "
                "listing to Back Market's product sheet; product id or EAN is needed",
                synonyms=("product id", "backmarket id", "bm id", "bm product id", "backmarket product id"),
            ),
            AttributeSpec(
                "ean",
                "EAN / GTIN",
                "gtin",
                mandatory=True,
                any_of="match",
                help="matches the listing to Back Market's product sheet when no product id is given",
                synonyms=("ean", "gtin", "ean13", "barcode"),
            ),
            AttributeSpec(
                "grade",
                "Grade",
                "choice",
                mandatory=True,
                choices=tuple((g, labels.get(g, g.title())) for g in grades),
                help="aesthetic grade of the refurbished device",
                synonyms=("grade", "condition grade", "grading", "etat", "aesthetic grade", "quality"),
            ),
            AttributeSpec(
                "warranty_delay",
                "Warranty (months)",
                "integer",
                mandatory=True,
                minimum=Decimal(12),
                help="commercial warranty in months; Back Market requires at least 12",
                synonyms=("warranty", "warranty months", "warranty delay", "garantie", "garantie mois"),
                suggested_default="12",
            ),
            AttributeSpec(
                "price",
                "Default price",
                "decimal",
                mandatory=True,
                minimum=Decimal(0),
                help="price in the market's currency, VAT included",
                synonyms=("price", "prix"),
            ),
            AttributeSpec(
                "min_price",
                "Minimum price",
                "decimal",
                minimum=Decimal(0),
                help="floor for Back Market's BackPricer; empty = no automatic repricing",
                synonyms=("min price", "minimum price", "prix min", "prix plancher", "floor price"),
            ),
            AttributeSpec(
                "safety_stock",
                "Safety stock",
                "integer",
                minimum=Decimal(0),
                help="units kept back from the published quantity",
                synonyms=("safety stock", "stock securite", "reserve"),
            ),
            AttributeSpec(
                "comment",
                "Comment",
                "text",
                max_length=500,
                help="seller's comment shown on the listing (500 characters at most)",
                synonyms=("comment", "commentaire", "note", "condition note"),
            ),
        ),
    )


def _leboncoin() -> AttributeSet:
    from shelfdesk.channels.registry import capabilities

    caps = capabilities(Marketplace.leboncoin)
    condition_labels = {"used": "Second-hand", "refurbished": "Refurbished", "new": "New"}
    reason_labels = {
        "liquidation": "Liquidation",
        "clearance": "Clearance",
        "defective": "Product with a defect",
        "exhibition_model": "Exhibition model",
        "craftsmanship": "Craftsmanship",
        "customer_return": "Customer return",
        "off_label": "Off-label",
    }
    return AttributeSet(
        Marketplace.leboncoin,
        (
            AttributeSpec("title", "Ad title", "text", mandatory=True, max_length=100, synonyms=("title", "name", "titre", "designation")),
            AttributeSpec(
                "description",
                "Description",
                "text",
                mandatory=True,
                max_length=4000,
                synonyms=("description", "long description", "descriptif"),
            ),
            AttributeSpec(
                "condition",
                "Condition",
                "choice",
                mandatory=True,
                choices=tuple((c, condition_labels.get(c, c)) for c in caps.conditions),
                help="second-hand, refurbished, or new with a reason",
                synonyms=("condition", "etat", "state", "item condition"),
            ),
            AttributeSpec(
                "new_reason",
                "Reason for new",
                "choice",
                required_when=("condition", "new"),
                choices=tuple((r, reason_labels.get(r, r)) for r in caps.new_reasons),
                help="why a new item may be sold on Leboncoin; required when the condition is new",
                synonyms=("new reason", "reason", "motif"),
            ),
            AttributeSpec("price", "Price", "decimal", mandatory=True, minimum=Decimal(0), synonyms=("price", "prix")),
            AttributeSpec("brand", "Brand", "text", max_length=60, synonyms=("brand", "marque")),
            AttributeSpec(
                "image_urls",
                "Image URLs",
                "text",
                help="one or more image addresses separated by |",
                synonyms=("images", "image", "image url", "image urls", "photo", "photos", "picture"),
            ),
            AttributeSpec("safety_stock", "Safety stock", "integer", minimum=Decimal(0), synonyms=("safety stock", "stock securite")),
        ),
    )


@cache
def attribute_set(marketplace: Marketplace | str) -> AttributeSet:
    """The attributes of ``marketplace``'s listings."""
    market = Marketplace(marketplace)
    if market is Marketplace.backmarket:
        return _backmarket()
    return _leboncoin()
