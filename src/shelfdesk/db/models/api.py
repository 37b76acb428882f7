"""The HTTP API's state: its bearer tokens (as hashes only) and the first answer to each Idempotency-Key.

Both live in the database, not in the server's memory, so a restarted (or a
second) API process knows every token and answers a retried POST with the
answer the first attempt got.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, id_field, json_field


class ApiToken(ShelfModel, table=True):
    """One API token: a name, a scope, and the SHA-256 of the secret (the secret itself is never stored)."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("name"), UniqueConstraint("token_hash"))

    id: int | None = id_field()
    name: str = Field(max_length=64)
    scope: str = Field(max_length=8)  #: "read" or "write" (write includes read)
    token_hash: str = Field(max_length=64)  #: hex SHA-256 of the whole token
    prefix: str = Field(max_length=16)  #: the token's first characters, to tell tokens apart in a list
    created_at: datetime
    created_by: str = Field(max_length=128)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiIdempotency(ShelfModel, table=True):
    """The first answer given to a token's POST carrying one Idempotency-Key, replayed on a retry."""

    __tablename__ = "api_idempotency"
    __table_args__ = (
        UniqueConstraint("token_id", "key"),
        Index("ix_api_idempotency_created_at", "created_at"),
    )

    id: int | None = id_field(big=True)
    token_id: int = Field(foreign_key="api_tokens.id", ondelete="CASCADE")
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)  #: SHA-256 of method, path and body: the same key on another request is refused
    status: int
    body: dict[str, Any] = json_field()
    created_at: datetime
