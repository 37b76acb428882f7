"""A deterministic sample catalog of refurbished and second-hand goods.

About 2,000 products a Back Market / Leboncoin merchant would really sell:
refurbished phones and laptops with grades, storage and keyboard layouts,
second-hand furniture and clothing. Each row has a description, and its
condition in the merchant's own words ("Refurbished", "Like new", "Signs of
wear"), as a real feed has them. Every EAN has a valid check digit, every
price is a Decimal, stock includes some zeros. The same seed always gives the
same catalog, so demo screenshots and tests are stable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import product as cartesian

from shelfdesk.catalog.gtin import make_ean13

GRADES = [
    ("EXCELLENT", "Excellent", Decimal("1.00")),
    ("VERY_GOOD", "Very good", Decimal("0.92")),
    ("GOOD", "Good", Decimal("0.85")),
    ("FAIR", "Fair", Decimal("0.76")),
]

PHONES = [
    # brand, model, code, base price for the smallest storage, storages, colours
    ("Apple", "iPhone 12", "IP12", "289", [64, 128, 256], ["Black", "White", "Blue", "Green"]),
    ("Apple", "iPhone 13", "IP13", "379", [128, 256, 512], ["Midnight", "Starlight", "Blue", "Pink"]),
    ("Apple", "iPhone 14", "IP14", "469", [128, 256, 512], ["Midnight", "Purple", "Blue", "Red"]),
    ("Apple", "iPhone 15", "IP15", "589", [128, 256, 512], ["Black", "Blue", "Green", "Yellow"]),
    ("Apple", "iPhone SE (2022)", "IPSE3", "199", [64, 128, 256], ["Midnight", "Starlight", "Red"]),
    ("Samsung", "Galaxy S21", "GS21", "239", [128, 256], ["Phantom Gray", "Phantom White", "Phantom Violet"]),
    ("Samsung", "Galaxy S22", "GS22", "309", [128, 256], ["Phantom Black", "Green", "Pink Gold"]),
    ("Samsung", "Galaxy S23", "GS23", "429", [128, 256, 512], ["Phantom Black", "Cream", "Lavender"]),
    ("Samsung", "Galaxy A54 5G", "GA54", "219", [128, 256], ["Awesome Graphite", "Awesome Lime"]),
    ("Google", "Pixel 7", "PX7", "259", [128, 256], ["Obsidian", "Snow", "Lemongrass"]),
    ("Google", "Pixel 8", "PX8", "389", [128, 256], ["Obsidian", "Hazel", "Rose"]),
    ("Xiaomi", "Redmi Note 12 Pro", "RN12P", "179", [128, 256], ["Midnight Black", "Polar White"]),
    ("Apple", "iPhone 11", "IP11", "229", [64, 128, 256], ["Black", "White", "Purple", "Yellow"]),
    ("Apple", "iPhone 13 Pro", "IP13P", "529", [128, 256, 512], ["Graphite", "Gold", "Sierra Blue"]),
    ("Apple", "iPhone 14 Pro", "IP14P", "669", [128, 256, 512], ["Space Black", "Deep Purple", "Gold"]),
    ("Samsung", "Galaxy Z Flip4", "GZF4", "369", [128, 256], ["Graphite", "Bora Purple", "Blue"]),
    ("Google", "Pixel 6", "PX6", "189", [128, 256], ["Stormy Black", "Sorta Seafoam"]),
    ("Fairphone", "4", "FP4", "329", [128, 256], ["Grey", "Green"]),
    ("Apple", "iPad 9th gen Wi-Fi", "IPAD9", "239", [64, 256], ["Space Grey", "Silver"]),
    ("Apple", "iPad Air 4th gen Wi-Fi", "IPADA4", "389", [64, 256], ["Sky Blue", "Green", "Rose Gold"]),
    ("Samsung", "Galaxy Tab S7 Wi-Fi", "GTS7", "299", [128, 256], ["Mystic Black", "Mystic Silver"]),
]

LAPTOPS = [
    ("Apple", 'MacBook Air 13" M1', "MBA-M1", "589", ["8GB/256GB", "8GB/512GB", "16GB/512GB"]),
    ("Apple", 'MacBook Air 13" M2', "MBA-M2", "839", ["8GB/256GB", "16GB/512GB"]),
    ("Apple", 'MacBook Pro 14" M1 Pro', "MBP14-M1P", "1249", ["16GB/512GB", "16GB/1TB", "32GB/1TB"]),
    ("Lenovo", "ThinkPad T14 Gen 2 i5", "TP-T14G2", "419", ["16GB/256GB", "16GB/512GB"]),
    ("Lenovo", "ThinkPad X1 Carbon Gen 9 i7", "TP-X1C9", "699", ["16GB/512GB", "32GB/1TB"]),
    ("Dell", "Latitude 7420 i5", "DL-7420", "379", ["16GB/256GB", "16GB/512GB"]),
    ("Dell", "XPS 13 9310 i7", "DX-9310", "649", ["16GB/512GB", "16GB/1TB"]),
    ("HP", "EliteBook 840 G8 i5", "HP-840G8", "399", ["8GB/256GB", "16GB/512GB"]),
    ("Microsoft", 'Surface Laptop 4 13.5" i5', "MS-SL4", "489", ["8GB/256GB", "16GB/512GB"]),
]
LAYOUTS = [("AZERTY", "FR"), ("QWERTY", "UK"), ("QWERTY", "ES")]

FURNITURE = [
    ("Chairs", "Tolix-style metal chair", "38", ["Raw steel", "Red", "Black"]),
    ("Chairs", "Bentwood bistro chair", "45", ["Walnut", "Black"]),
    ("Chairs", "Rattan armchair", "120", ["Natural"]),
    ("Tables", "Solid oak dining table, 6 seats", "340", ["Natural oak", "Dark oak"]),
    ("Tables", "Teak coffee table, 1960s", "190", ["Teak"]),
    ("Storage", "Teak sideboard, Scandinavian 1960s", "520", ["Teak"]),
    ("Storage", "Metal workshop cabinet", "260", ["Grey", "Green"]),
    ("Lighting", "Industrial floor lamp", "95", ["Black", "Brass"]),
    ("Lighting", "Opaline pendant lamp", "70", ["White"]),
    ("Storage", "Pine bookcase, 5 shelves", "85", ["Natural pine", "White"]),
]
FURNITURE_CONDITION = [("Very good condition", Decimal("1.00")), ("Good condition", Decimal("0.85")), ("Signs of wear", Decimal("0.70"))]

CLOTHING = [
    ("Men", "Jeans", "Levi's", "501 Original jeans", "39", ["W30 L32", "W32 L32", "W34 L32", "W36 L34"], ["Indigo", "Black"]),
    ("Men", "Jackets", "The North Face", "Nuptse 1996 down jacket", "149", ["S", "M", "L", "XL"], ["Black", "Navy"]),
    ("Men", "Jackets", "Barbour", "Bedale waxed jacket", "129", ["S", "M", "L", "XL"], ["Olive", "Navy"]),
    ("Women", "Knitwear", "Patagonia", "Better Sweater fleece", "59", ["XS", "S", "M", "L"], ["Oatmeal", "Black"]),
    ("Women", "Coats", "Sézane", "Wool coat", "139", ["34", "36", "38", "40"], ["Camel", "Navy"]),
    ("Women", "Shoes", "Converse", "Chuck Taylor All Star Hi", "35", ["37", "38", "39", "40", "41"], ["White", "Black"]),
    ("Men", "Shoes", "Nike", "Air Max 90", "69", ["41", "42", "43", "44", "45"], ["White", "Black/Red"]),
    ("Women", "Bags", "Longchamp", "Le Pliage tote, large", "55", ["One size"], ["Navy", "Black", "Green"]),
]
CLOTHING_CONDITION = [("Like new", Decimal("1.00")), ("Very good condition", Decimal("0.85")), ("Good condition", Decimal("0.70"))]


@dataclass(frozen=True)
class DemoProduct:
    """One catalog row, in the merchant's own terms."""

    sku: str
    ean: str
    title: str
    brand: str
    category_path: str
    price: Decimal
    stock: int
    attributes: dict[str, str] = field(default_factory=dict)


def _price(base: str, factor: Decimal) -> Decimal:
    """Round to a merchant-looking price ending in .00 or .90."""
    raw = (Decimal(base) * factor).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    price = raw - Decimal("0.10") if raw % 2 else raw
    return price.quantize(Decimal("0.01"))


def _initials(words: str) -> str:
    """'Phantom Gray' -> 'PHANTOMG', 'Black/Red' -> 'BLACKRED': short, readable, unique SKU parts."""
    return "".join(ch for ch in words if ch.isalnum()).upper()[:8]


def _phones() -> Iterator[tuple[str, str, str, str, Decimal, dict[str, str]]]:
    for brand, model, code, base, storages, colours in PHONES:
        for storage, colour, grade in cartesian(storages, colours, GRADES):
            storage_factor = Decimal("1") + Decimal("0.18") * storages.index(storage)
            sku = f"{code}-{storage}-{_initials(colour)}-{grade[0]}"
            title = f"{brand} {model} {storage} GB {colour} - {grade[1]}"
            description = (
                f"Refurbished {brand} {model}, {storage} GB, {colour.lower()}. Grade: {grade[1].lower()}. "
                "Tested, unlocked, 12-month warranty."
            )
            yield (
                sku,
                brand,
                "Electronics > Mobile phones > Smartphones",
                title,
                _price(base, storage_factor * grade[2]),
                {
                    "grade": grade[0],
                    "model": model,
                    "storage": f"{storage} GB",
                    "color": colour,
                    "condition": "Refurbished",
                    "warranty_months": "12",
                    "description": description,
                },
            )


def _laptops() -> Iterator[tuple[str, str, str, str, Decimal, dict[str, str]]]:
    for brand, model, code, base, configs in LAPTOPS:
        for config, (layout, country), grade in cartesian(configs, LAYOUTS, GRADES):
            factor = (Decimal("1") + Decimal("0.22") * configs.index(config)) * grade[2]
            memory, disk = config.split("/")
            sku = f"{code}-{memory}{disk}-{layout[:2]}{country}-{grade[0]}"
            title = f"{brand} {model} {config} {layout} ({country}) - {grade[1]}"
            description = (
                f"Refurbished {brand} {model}, {memory} RAM, {disk} disk, {layout} keyboard ({country}). "
                f"Grade: {grade[1].lower()}. 12-month warranty."
            )
            yield (
                sku,
                brand,
                "Electronics > Computers > Laptops",
                title,
                _price(base, factor),
                {
                    "grade": grade[0],
                    "ram": memory,
                    "storage": disk,
                    "keyboard": f"{layout} {country}",
                    "condition": "Refurbished",
                    "warranty_months": "12",
                    "description": description,
                },
            )


def _furniture() -> Iterator[tuple[str, str, str, str, Decimal, dict[str, str]]]:
    for n, (kind, name, base, finishes) in enumerate(FURNITURE):
        # Second-hand pieces are unique: one SKU per piece, several pieces per model.
        for finish, (condition, factor), piece in cartesian(finishes, FURNITURE_CONDITION, range(1, 11)):
            sku = f"FUR{n:02d}-{_initials(finish)}-{_initials(condition)}-{piece:02d}"
            title = f"{name}, {finish.lower()} - {condition.lower()}"
            description = f"{name}, {finish.lower()}. {condition}. Collection in Paris or delivery by carrier."
            yield (
                sku,
                "Vintage",
                f"Home > Furniture > {kind}",
                title,
                _price(base, factor),
                {"material_finish": finish, "condition": condition, "description": description},
            )


def _clothing() -> Iterator[tuple[str, str, str, str, Decimal, dict[str, str]]]:
    for n, (gender, kind, brand, name, base, sizes, colours) in enumerate(CLOTHING):
        for size, colour, (condition, factor), piece in cartesian(sizes, colours, CLOTHING_CONDITION, range(1, 5)):
            sku = f"CLO{n:02d}-{size.replace(' ', '')}-{_initials(colour)}-{_initials(condition)}-{piece}"
            title = f"{brand} {name}, {colour.lower()}, size {size} - {condition.lower()}"
            description = f"{brand} {name}, {colour.lower()}, size {size}. {condition}. Cleaned, checked, sent within 48 h."
            yield (
                sku,
                brand,
                f"Fashion > {gender} > {kind}",
                title,
                _price(base, factor),
                {"size": size, "color": colour, "condition": condition, "gender": gender.lower(), "description": description},
            )


def demo_catalog(seed: int = 7, size: int = 2000) -> list[DemoProduct]:
    """The sample catalog: ``size`` products drawn from every family, sorted by SKU."""
    rng = random.Random(seed)
    rows = [*_phones(), *_laptops(), *_furniture(), *_clothing()]
    rng.shuffle(rows)
    chosen = rows[:size]
    if len({row[0] for row in rows}) != len(rows):
        raise AssertionError("demo SKUs must be unique")
    products: list[DemoProduct] = []
    used_eans: set[str] = set()
    for sku, brand, category, title, price, attributes in sorted(chosen):
        ean = make_ean13("3" + f"{rng.randrange(10**11):011d}")
        while ean in used_eans:
            ean = make_ean13("3" + f"{rng.randrange(10**11):011d}")
        used_eans.add(ean)
        stock = 0 if rng.random() < 0.08 else rng.choice([1, 1, 2, 3, 4, 5, 8, 12, 20])
        products.append(DemoProduct(sku, ean, title, brand, category, price, stock, attributes))
    return products
