"""Deterministic fake data the sandboxes seed and generate from (names, addresses, EANs)."""

from __future__ import annotations

import random
import uuid

FIRST_NAMES = ("Camille", "Lucas", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Jules", "Inès", "Arthur", "Zoé", "Nathan")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau")
STREETS = ("rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue Pasteur", "place du Marché")
CITIES = (
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13006", "Marseille"),
    ("31000", "Toulouse"),
    ("44000", "Nantes"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("67000", "Strasbourg"),
)


def gtin_check_digit(body: str) -> str:
    """GS1 check digit for the digits of a GTIN without its last digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def valid_gtin(code: str) -> bool:
    """EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a correct check digit."""
    return code.isdigit() and len(code) in (8, 12, 13, 14) and gtin_check_digit(code[:-1]) == code[-1]


def make_ean(rng: random.Random) -> str:
    body = "3" + "".join(str(rng.randrange(10)) for _ in range(11))
    return body + gtin_check_digit(body)


def make_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_address(rng: random.Random, country: str = "FR") -> dict[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    postal, city = rng.choice(CITIES)
    return {
        "first_name": first,
        "last_name": last,
        "street": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        "street2": "",
        "postal_code": postal,
        "city": city,
        "country": country,
        "phone": "+336" + "".join(str(rng.randrange(10)) for _ in range(8)),
        "email": f"{first.lower().replace('é', 'e').replace('è', 'e').replace('ï', 'i')}.{last.lower()}@example.org",
        "company": "",
    }
