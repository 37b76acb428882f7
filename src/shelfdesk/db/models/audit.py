"""The audit log: who (the OS user, or a rule) did what, when, to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, id_field, json_field


class AuditLog(ShelfModel, table=True):
    """One operator or rule action, written in the same transaction as the change it records."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_target", "target_type", "target_id", "at"),
    )

    id: int | None = id_field(big=True)
    at: datetime
    actor: str = Field(max_length=128)  #: OS user, or "rule:auto-accept", "scheduler" …
    action: str = Field(max_length=64)  #: e.g. order.ship, channel.update, token.replace
    target_type: str | None = Field(default=None, max_length=32)
    target_id: str | None = Field(default=None, max_length=128)
    details: dict[str, Any] = json_field()
