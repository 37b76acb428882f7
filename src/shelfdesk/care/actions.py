"""Queuing replies, problem declarations and item transfers on a case (sent by the outbox)."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.care.cases import find_case_ref
from shelfdesk.care.queue import queue_care_action
from shelfdesk.channels.backmarket_care import MAX_FILE_BYTES, MAX_FILES
from shelfdesk.domain import ActionKind
from shelfdesk.services.care import PROBLEM_TYPES, PROBLEMS_NEEDING_ATTACHMENT, TRANSFER_ACTIONS, CareError, QueuedAction

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: Where queued attachments are kept, under the workspace (the outbox reads them from there).
OUTGOING = Path("care") / "outgoing"


def _copy_attachments(ctx: AppContext, files: Sequence[Path]) -> list[str]:
    """Check and copy files into the workspace; their paths relative to it (the payload never holds bytes)."""
    if len(files) > MAX_FILES:
        raise CareError(f"at most {MAX_FILES} attachments")
    checked = []
    for file in files:
        path = Path(file).expanduser()
        if not path.is_file():
            raise CareError(f"{path} is not a file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CareError(f"{path.name} is larger than 3 MB")
        checked.append(path)
    if not checked:
        return []
    folder = OUTGOING / uuid.uuid4().hex[:12]
    (Path(ctx.paths.home) / folder).mkdir(parents=True, exist_ok=True)
    out = []
    for path in checked:
        target = folder / path.name
        shutil.copyfile(path, Path(ctx.paths.home) / target)
        out.append(target.as_posix())
    return out


def _queue(ctx: AppContext, ref: str | int, kind: ActionKind, payload: dict[str, Any], summary: str) -> QueuedAction:
    ctx.require_write()
    with ctx.write_session() as session:
        case = find_case_ref(session, ref)
        if case.order_id is None:
            raise CareError(
                f"case {case.case_ref}: its order {case.order_ref or ''} is not harvested yet, so shelfdesk cannot queue on it "
                "(harvest orders first: shelfdesk orders harvest)"
            )
        body = {"case_ref": case.case_ref, **payload}
        digest = hashlib.sha256(repr(sorted((k, str(v)) for k, v in body.items())).encode()).hexdigest()[:24]
        action_id, created = queue_care_action(
            session,
            order_id=case.order_id,
            order_ref=case.order_ref or "",
            kind=kind,
            payload=body,
            key=f"{kind.value}:{case.account_id}:{case.case_ref}:{digest}",
            actor=ctx.actor,
            now=ctx.clock.now(),
            summary=summary,
        )
        return QueuedAction(action_id, case.case_ref, case.order_ref or "", kind.value, created, summary)


def queue_reply(ctx: AppContext, ref: str | int, message: str, *, attachments: Sequence[Path] = ()) -> QueuedAction:
    text = (message or "").strip()
    if not text:
        raise CareError("a reply needs a message")
    files = _copy_attachments(ctx, attachments)
    preview = text if len(text) <= 60 else text[:57] + "..."
    return _queue(ctx, ref, ActionKind.care_reply, {"message": text, "attachments": files}, f"reply: {preview}")


def queue_problem(
    ctx: AppContext, ref: str | int, problem_type: str = "OTHER", message: str | None = None, *, attachments: Sequence[Path] = ()
) -> QueuedAction:
    kind = (problem_type or "OTHER").strip().upper()
    if kind not in PROBLEM_TYPES:
        raise CareError(f"unknown problem type {problem_type!r}: one of {', '.join(PROBLEM_TYPES)}")
    if kind in PROBLEMS_NEEDING_ATTACHMENT and not attachments:
        raise CareError(f"a {kind} problem needs at least one attachment (a photo, a proof)")
    files = _copy_attachments(ctx, attachments)
    payload = {"problem_type": kind, "message": (message or "").strip() or None, "attachments": files}
    return _queue(ctx, ref, ActionKind.care_problem, payload, f"problem {kind}")


def queue_transfer(ctx: AppContext, ref: str | int, carrier: str, tracking: str, action: str | None = None) -> QueuedAction:
    carrier, tracking = (carrier or "").strip(), (tracking or "").strip()
    if not carrier or not tracking:
        raise CareError("an item transfer needs a carrier and a tracking number")
    what = (action or "").strip().upper() or None
    if what is not None and what not in TRANSFER_ACTIONS:
        raise CareError(f"unknown transfer action {action!r}: one of {', '.join(TRANSFER_ACTIONS)}")
    payload = {"carrier": carrier, "tracking": tracking, "action": what}
    return _queue(ctx, ref, ActionKind.care_transfer, payload, f"item transfer {carrier} {tracking}")
