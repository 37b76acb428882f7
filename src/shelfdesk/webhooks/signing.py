"""The signature scheme receivers verify (documented in README, "Verifying push notifications").

Each POST carries ``Shelfdesk-Timestamp`` (Unix seconds when it was sent) and
``Shelfdesk-Signature: v1=<hex>``, where ``<hex>`` is HMAC-SHA256, keyed with
the subscription's secret, of ``"<timestamp>." + raw body``. Signing the
timestamp with the body means a captured request cannot be replayed later
with a fresh timestamp: a receiver refuses requests whose timestamp is more
than a few minutes away from its clock, and compares signatures in constant
time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "Shelfdesk-Timestamp"
SIGNATURE_HEADER = "Shelfdesk-Signature"
EVENT_ID_HEADER = "Shelfdesk-Event-Id"
EVENT_TYPE_HEADER = "Shelfdesk-Event-Type"
ATTEMPT_HEADER = "Shelfdesk-Attempt"
VERSION = "v1"
DEFAULT_TOLERANCE = 300


def new_secret() -> str:
    """A fresh per-subscription secret (256 bits, URL-safe text)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Shelfdesk-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def verify(
    secret: str, timestamp_header: str | None, signature_header: str | None, body: bytes, *, now: float, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """What a receiver does: a fresh timestamp and a matching signature, compared in constant time."""
    if not timestamp_header or not signature_header or not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in signature_header.split(","))
