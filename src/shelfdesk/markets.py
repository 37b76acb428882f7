"""Marketplace markets: the one table between a market's code and its country.

Back Market names a market by a lower-case *locale* (``fr-fr``, ``fr-be``,
``en-gb`` …): it is an order's ``country_code``, the ``Accept-Language`` a
request speaks in, and a channel's ``market``. Stores, invoices and filters
speak ISO 3166-1 alpha-2 countries (``FR``, ``BE``, ``GB``). Every part of
shelfdesk that goes from one to the other (the connector, the order store, the
sandbox, the console's channel form) reads this module, so they cannot drift.

The locales are the enum Back Market's seller API publishes for
``country_code`` (its OpenAPI 0.1.1); currencies and regions are ours: the
region is the host that serves the market, the currency the one its prices
are in. Leboncoin has one market, France, named by its country.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shelfdesk.domain import Marketplace


@dataclass(frozen=True)
class Market:
    country: str  #: ISO 3166-1 alpha-2, upper case
    name: str
    code: str  #: the marketplace's market code (Back Market's locale, Leboncoin's country)
    currency: str
    region: str | None = None  #: Back Market region serving it


_BACKMARKET = (
    ("FR", "France", "fr-fr", "EUR", "eu"),
    ("BE", "Belgium", "fr-be", "EUR", "eu"),
    ("ES", "Spain", "es-es", "EUR", "eu"),
    ("DE", "Germany", "de-de", "EUR", "eu"),
    ("AT", "Austria", "de-at", "EUR", "eu"),
    ("IT", "Italy", "it-it", "EUR", "eu"),
    ("JP", "Japan", "ja-jp", "JPY", "ap"),
    ("AU", "Australia", "en-au", "AUD", "ap"),
    ("GB", "United Kingdom", "en-gb", "GBP", "eu"),
    ("US", "United States", "en-us", "USD", "na"),
    ("NL", "Netherlands", "nl-nl", "EUR", "eu"),
    ("PT", "Portugal", "pt-pt", "EUR", "eu"),
    ("IE", "Ireland", "en-ie", "EUR", "eu"),
    ("GR", "Greece", "el-gr", "EUR", "eu"),
    ("SK", "Slovakia", "sk-sk", "EUR", "eu"),
    ("SE", "Sweden", "sv-se", "SEK", "eu"),
)

#: Markets by marketplace, keyed by country.
MARKETS: dict[Marketplace, dict[str, Market]] = {
    Marketplace.backmarket: {c: Market(c, n, code, cur, reg) for c, n, code, cur, reg in _BACKMARKET},
    Marketplace.leboncoin: {"FR": Market("FR", "France", "FR", "EUR")},
}

#: Back Market's locales (its ``country_code`` enum), in the order it lists them.
BACKMARKET_LOCALES: tuple[str, ...] = tuple(code for _, _, code, _, _ in _BACKMARKET)

_BY_LOCALE = {m.code: m for m in MARKETS[Marketplace.backmarket].values()}
_LOCALE_SHAPE = re.compile(r"^([a-z]{2})[-_]([a-z]{2})$")
_COUNTRY_SHAPE = re.compile(r"^[A-Za-z]{2}$")


def market_by_code(marketplace: Marketplace, code: str | None) -> Market | None:
    """The market a code names: a locale (``en-gb``) or a country (``GB``), any case; None if unknown."""
    text = (code or "").strip()
    markets = MARKETS[Marketplace(marketplace)]
    return markets.get(text.upper()) or next((m for m in markets.values() if m.code == text.lower()), None)


def locale_for_country(country: str | None) -> str | None:
    """Back Market's locale for a country (``GB`` → ``en-gb``); None for a country it does not sell in."""
    market = MARKETS[Marketplace.backmarket].get((country or "").strip().upper())
    return market.code if market else None


def country_of(value: str | None) -> tuple[str | None, bool]:
    """The ISO country of an order's ``country_code``, and whether it was read with certainty.

    Back Market sends a locale (``en-gb`` → ``GB``, ``de-at`` → ``AT``: the
    country is the part after the dash, never the language before it). A
    two-letter country (``FR``, as older integrations and our sandbox once
    sent) is taken as it is. A locale outside the published enum but of the
    same shape (``fr-lu``) gives its country part, flagged as uncertain;
    anything else gives None, uncertain. Empty gives None, certain (no country
    yet is a normal state: the address comes once the order is accepted).
    """
    text = (value or "").strip()
    if not text:
        return None, True
    market = _BY_LOCALE.get(text.lower())
    if market is not None:
        return market.country, True
    if _COUNTRY_SHAPE.match(text):
        return text.upper(), True
    shaped = _LOCALE_SHAPE.match(text.lower())
    if shaped:
        return shaped.group(2).upper(), False
    return None, False
