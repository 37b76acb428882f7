"""Saved replies per language: the texts an operator picks in the reply editor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from shelfdesk.services.care import CareError, SavedReply

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


def _language(language: str) -> str:
    text = (language or "").strip().lower()
    if not (2 <= len(text) <= 8) or not text.replace("-", "").isalpha():
        raise CareError(f"{language!r} is not a language code (fr, en, es …)")
    return text


def saved_replies(ctx: AppContext, language: str | None = None) -> list[SavedReply]:
    from shelfdesk.db.models import CareSavedReply

    with ctx.read_session() as session:
        query = select(CareSavedReply).order_by(col(CareSavedReply.language), col(CareSavedReply.name))
        if language:
            query = query.where(col(CareSavedReply.language) == _language(language))
        return [SavedReply(r.id, r.name, r.language, r.body) for r in session.execute(query).scalars()]


def save_reply(ctx: AppContext, name: str, language: str, body: str) -> SavedReply:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import CareSavedReply

    name, lang, text = (name or "").strip(), _language(language), (body or "").strip()
    if not name or len(name) > 64:
        raise CareError("a saved reply needs a name of 1 to 64 characters")
    if not text:
        raise CareError("a saved reply needs a text")
    now = ctx.clock.now()
    with ctx.write_session() as session:
        row = session.execute(
            select(CareSavedReply).where(col(CareSavedReply.name) == name, col(CareSavedReply.language) == lang)
        ).scalar_one_or_none()
        if row is None:
            row = CareSavedReply(name=name, language=lang, body=text, created_at=now, updated_at=now)
            session.add(row)
        else:
            row.body, row.updated_at = text, now
        session.flush()
        assert row.id is not None  # flushed, so the row has its id
        record_audit(session, ctx, "care.saved_reply", "saved_reply", f"{lang}:{name}", {"characters": len(text)}, at=now)
        return SavedReply(row.id, row.name, row.language, row.body)


def delete_reply(ctx: AppContext, reply_id: int) -> None:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import CareSavedReply

    with ctx.write_session() as session:
        row = session.get(CareSavedReply, reply_id)
        if row is None:
            raise CareError(f"no saved reply {reply_id}")
        record_audit(session, ctx, "care.saved_reply_deleted", "saved_reply", f"{row.language}:{row.name}", {}, at=ctx.clock.now())
        session.delete(row)
