"""Deterministic demo orders in every status, with the marketplaces' raw states.

Each order carries the raw state its marketplace would send and the
normalized status shelfdesk derives from it through the connectors' own
normalization tables, so the demo never invents a status mapping of its own.
These orders stand in until the demo harvests from the sandbox.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from shelfdesk.channels.statuses import BACKMARKET_LINE, LEBONCOIN_ORDER, normalize_backmarket_order
from shelfdesk.demo.catalog import DemoProduct
from shelfdesk.domain import NormalizedStatus

FIRST_NAMES = {
    "FR": ["Camille", "Léa", "Hugo", "Lucas", "Chloé", "Manon", "Louis", "Inès", "Jules", "Emma", "Théo", "Zoé"],
    "ES": ["Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Daniel", "Carmen", "Alejandro", "Paula", "Javier"],
}
LAST_NAMES = {
    "FR": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"],
    "ES": ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez"],
}
CITIES = {
    "FR": [("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("31000", "Toulouse"),
           ("33000", "Bordeaux"), ("44000", "Nantes"), ("59000", "Lille"), ("67000", "Strasbourg")],
    "ES": [("28013", "Madrid"), ("08001", "Barcelona"), ("46001", "Valencia"), ("41001", "Sevilla"),
           ("48001", "Bilbao"), ("29001", "Málaga")],
}
STREETS = {
    "FR": ["rue de la République", "avenue Jean Jaurès", "boulevard Voltaire", "rue Victor Hugo", "place Bellecour"],
    "ES": ["Calle Mayor", "Avenida de la Constitución", "Calle de Alcalá", "Gran Vía", "Paseo de Gracia"],
}

# (raw order state, raw line state) pairs a Back Market account really shows, by weight.
BACKMARKET_STATES = [
    (("1", "1"), 18), (("3", "2"), 14), (("9", "3"), 30), (("9", "4"), 5), (("9", "6"), 4),
    (("8", "7"), 2), (("0", "0"), 2), (("10", "8"), 2), (("42", "1"), 1), ((None, None), 1),
]
LEBONCOIN_STATES = [
    ("paid", 12), ("awaiting_shipment", 10), ("shipped", 12), ("delivered", 10), ("cancelled", 4),
    ("disputed", 1), (None, 1),
]


@dataclass(frozen=True)
class DemoLine:
    line_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    raw_status: str | None
    status: NormalizedStatus


@dataclass(frozen=True)
class DemoOrder:
    marketplace: str
    order_id: str
    country: str
    raw_status: str | None
    status: NormalizedStatus
    purchased_at: datetime
    modified_at: datetime
    buyer_name: str
    buyer_email: str
    shipping_address: dict[str, str] | None
    total: Decimal
    shipping_price: Decimal
    lines: list[DemoLine] = field(default_factory=list)


def _pick(rng: random.Random, weighted: list[tuple[object, int]]) -> object:
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights)[0]


def _address(rng: random.Random, country: str, name: str) -> dict[str, str]:
    postal, city = rng.choice(CITIES[country])
    first, _, last = name.partition(" ")
    return {"first_name": first, "last_name": last, "street": f"{rng.randint(1, 180)} {rng.choice(STREETS[country])}",
            "postal_code": postal, "city": city, "country": country}


def demo_orders(products: dict[str, list[DemoProduct]], now: datetime, *, count: int = 240,
                seed: int = 11) -> list[DemoOrder]:
    """``count`` orders over the last 30 days, for the SKUs of each country's catalog.

    Three orders in four come from Back Market (France and Spain), the rest from
    Leboncoin (France). New orders are recent, final ones older, as in real life.
    """
    rng = random.Random(seed)
    orders: list[DemoOrder] = []
    for n in range(count):
        leboncoin = n % 4 == 3
        country = "FR" if leboncoin or rng.random() < 0.6 else "ES"
        if leboncoin:
            raw = _pick(rng, LEBONCOIN_STATES)
            line_raw, status = raw, LEBONCOIN_ORDER.normalize(raw)
        else:
            raw, line_raw = _pick(rng, BACKMARKET_STATES)  # type: ignore[misc]
            status = normalize_backmarket_order(raw, [line_raw])
        age_hours = rng.uniform(0.2, 30) if status is NormalizedStatus.New else rng.uniform(6, 24 * 30)
        purchased = now - timedelta(hours=age_hours)
        modified = min(now, purchased + timedelta(hours=rng.uniform(0, age_hours)))
        first = rng.choice(FIRST_NAMES[country])
        name = f"{first} {rng.choice(LAST_NAMES[country])}"
        candidates = [p for p in products[country] if p.price > 0]
        lines = []
        for i in range(1 if rng.random() < 0.85 else 2):
            product = rng.choice(candidates)
            line_status = (BACKMARKET_LINE.normalize(line_raw) if not leboncoin else status)
            lines.append(DemoLine(f"{n + 1:05d}-{i + 1}", product.sku, product.title, 1, product.price,
                                  line_raw, line_status))
        shipping = Decimal("4.99") if leboncoin else Decimal("0.00")
        total = sum((l.unit_price * l.quantity for l in lines), Decimal("0.00")) + shipping
        # Back Market reveals the address once paid; Leboncoin once availability is confirmed [I].
        hidden = raw in (None, "0", "10") or (leboncoin and raw == "paid")
        prefix = "LBC-" if leboncoin else ""
        orders.append(DemoOrder(
            marketplace="leboncoin" if leboncoin else "backmarket",
            order_id=f"{prefix}{(5_180_000 if not leboncoin else 90_000) + n * 7}",
            country=country, raw_status=raw, status=status, purchased_at=purchased, modified_at=modified,
            buyer_name=name, buyer_email=f"{first.lower()}.{n}@example.org",
            shipping_address=None if hidden else _address(rng, country, name),
            total=total, shipping_price=shipping, lines=lines,
        ))
    return orders
