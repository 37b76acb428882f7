"""Marketplace order states in words ("marketplace state 10" told an operator nothing).

Back Market's states are its published ``OrderState`` table (0, 10, 1, 3, 8,
9); a state it adds later is shown as its number. Leboncoin's states are
already words in our (invented, documented) shapes, so they are shown as they
come.
"""

from __future__ import annotations

BACKMARKET_STATES = {
    "0": "payment being verified",
    "10": "waiting for payment",
    "1": "paid, to accept",
    "3": "accepted, to ship",
    "8": "not paid",
    "9": "shipped",
}


def state_words(marketplace: str, raw: str | int | None) -> str:
    """``"waiting for payment (10)"`` for Back Market, the raw state otherwise, ``"—"`` when unknown."""
    if raw is None or raw == "":
        return "—"
    text = str(raw)
    if str(marketplace) == "backmarket" and text in BACKMARKET_STATES:
        return f"{BACKMARKET_STATES[text]} ({text})"
    return text
