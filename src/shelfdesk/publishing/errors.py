"""Errors of the publishing services, and how marketplace messages are grouped for triage.

Support staff read failures by cause, largest first ("EAN missing — 132
products"), so every failed item gets an ``error_key``: the marketplace's
code when it gave one (with the attribute it names), else its message with
the variable parts (numbers, quoted values, SKUs) blanked. Two products that
fail for the same reason therefore share a key whatever their values.
"""

from __future__ import annotations

import re


class PublishError(Exception):
    """Refused before anything was sent; the message names what and where, for the operator."""


class NotFound(PublishError):
    """No such store, channel or publication."""


class PublicationRunning(PublishError):
    """Another publication of the channel is running: a scheduled run waits for the next turn (skipped)."""


#: Marketplace error codes → the channel attribute a mapping fixes.
CODE_ATTRIBUTES: dict[str, str] = {
    # Back Market sandbox / API codes
    "missing-grade": "grade",
    "invalid-grade": "grade",
    "grade-not-allowed": "grade",
    "missing-product": "ean",
    "invalid-ean": "ean",
    "unknown-ean": "ean",
    "unknown-product": "product_id",
    "missing-price": "price",
    "price-out-of-range": "price",
    "price-below-min": "min_price",
    "price-above-max": "price",
    "missing-quantity": "quantity",
    "invalid-quantity": "quantity",
    "invalid-warranty": "warranty_delay",
    "comment-too-long": "comment",
    # Leboncoin
    "invalid_title": "title",
    "invalid_description": "description",
    "unknown_category": "category",
    "invalid_condition": "condition",
    "new_not_eligible": "new_reason",
    "unexpected_new_reason": "new_reason",
    "invalid_price": "price",
    "price_out_of_range": "price",
    "missing_price": "price",
    "invalid_quantity": "quantity",
}

_QUOTED = re.compile(r"«[^»]*»|\"[^\"]*\"|'[^']*'")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_SPACES = re.compile(r"\s+")
_NAMED = re.compile(r"[«\"']\s*([A-Za-z_][\w ]{0,40}?)\s*[»\"']")


def attribute_of(code: str | None, message: str) -> str | None:
    """The attribute a failure is about: from the code, or the first quoted name in the message."""
    if code in CODE_ATTRIBUTES:
        return CODE_ATTRIBUTES[code]
    if code and "attribute" in code:
        match = _NAMED.search(message or "")
        if match:
            return match.group(1).strip()
    return None


def normalize_message(message: str) -> str:
    """The message with its variable parts blanked, so equal causes compare equal."""
    text = _QUOTED.sub("…", message or "")
    text = _NUMBER.sub("#", text)
    return _SPACES.sub(" ", text).strip().rstrip(".")[:200]


#: The group of failures with nothing to group by (no code, no message).
NO_KEY = "no message"


def error_key(code: str | None, message: str, attribute: str | None = None) -> str:
    """The group a failure belongs to: ``code[:attribute]``, else the normalized message."""
    if code:
        return f"{code}:{attribute}" if attribute else code
    normalized = normalize_message(message)
    return normalized or NO_KEY
