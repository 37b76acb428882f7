"""Downloading a case's attachment into the workspace, once, on demand.

Attachments are listed with their case (their URL on Back Market's CDN) and
fetched only when an operator opens one. The URL is fetched without the
account's token [I: a CDN link needs none, and the token must not leave for
another host]; only http(s) URLs are followed, and at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from shelfdesk.services.care import CareError

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

FOLDER = Path("care") / "attachments"
MAX_BYTES = 10 * 1024 * 1024


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "attachment"
    return cleaned[:100]


def download_attachment(ctx: AppContext, attachment_id: int) -> Path:
    import httpx

    from shelfdesk.channels.http import shared_ssl_context
    from shelfdesk.db.models import CareAttachment, CareCase

    with ctx.read_session() as session:
        row = session.get(CareAttachment, attachment_id)
        if row is None:
            raise CareError(f"no attachment {attachment_id}")
        case = session.get(CareCase, row.case_id)
        url, name, local = row.url, row.name, row.local_path
        case_ref = case.case_ref if case else str(row.case_id)
    home = Path(ctx.paths.home)
    if local and (home / local).is_file():
        return home / local
    if not url.lower().startswith(("http://", "https://")):
        raise CareError(f"attachment {attachment_id} has no downloadable address ({url[:60]})")
    relative = FOLDER / _safe(case_ref) / f"{attachment_id}-{_safe(name)}"
    target = home / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with httpx.Client(timeout=30, verify=shared_ssl_context(), follow_redirects=True) as client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise CareError(f"the attachment's address answered HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise CareError("the attachment is larger than 10 MB: not downloaded")
    except httpx.HTTPError as exc:
        raise CareError(f"could not download the attachment: {type(exc).__name__}") from None
    partial = target.with_suffix(target.suffix + ".part")
    partial.write_bytes(bytes(data))
    partial.replace(target)
    ctx.require_write()
    with ctx.write_session() as session:
        row = session.get(CareAttachment, attachment_id)
        if row is None:
            raise CareError(f"attachment {attachment_id} was removed while it downloaded")
        row.local_path, row.downloaded_at = relative.as_posix(), ctx.clock.now()
    return target
