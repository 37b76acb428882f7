"""GTIN/EAN check digits (GS1 mod-10), used by import validation and the demo."""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """Check digit for ``body`` (the GTIN without its last digit)."""
    if not body.isdigit():
        raise ValueError(f"GTIN body must be digits, got {body!r}")
    # From the right: weights 3, 1, 3, 1 … (summed by slices: imports check every row's EAN).
    total = 3 * sum(map(int, body[::-1][::2])) + sum(map(int, body[::-1][1::2]))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str | None) -> bool:
    """True for an 8/12/13/14-digit code whose check digit is right."""
    if not code or not code.isdigit() or len(code) not in GTIN_LENGTHS:
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def make_ean13(body12: str) -> str:
    """Complete a 12-digit body into a valid EAN-13."""
    if len(body12) != 12:
        raise ValueError("an EAN-13 body has 12 digits")
    return body12 + str(gtin_check_digit(body12))
