"""What the world did to a command, on one line: a full disk, a damaged database, a path too long.

:func:`shelfdesk.cli.main` hands every exception no command turned into a
:class:`~shelfdesk.cli.UserFacingError` to :func:`explain`, which prints one
line on stderr and returns the exit code, never a traceback: 1 when the
machine refused (disk, file, database), 2 for input nothing could use, 70 for
a bug, whose traceback goes to the workspace log (or stderr with
``SHELFDESK_DEBUG=1``) for the report.
"""

from __future__ import annotations

import errno
import logging
import os
import sys

log = logging.getLogger("shelfdesk.cli")

#: SQLite's words for a machine problem, and what the operator can do about each.
_DATABASE_HINTS = (
    ("database or disk is full", "the disk holding the workspace is full: free some space and run it again; nothing was changed"),
    (
        "readonly database",
        "the database file cannot be written (a read-only or immutable file): nothing was "
        "changed; reading commands still work with --read-only",
    ),
    ("disk image is malformed", "the database file is damaged: restore it from a backup (nothing was changed)"),
    (
        "file is not a database",
        "the database file is not a shelfdesk database or is damaged: restore it from a backup or point --home elsewhere",
    ),
    ("database is locked", "the database stayed locked by another shelfdesk process: run it again in a moment"),
    ("disk i/o error", "the disk refused to read or write the database (full, removed or failing)"),
    ("unable to open database file", "the database file cannot be opened (missing folder, permissions, or a read-only disk)"),
)


def explain(exc: BaseException) -> int:
    """Print one line about ``exc`` on stderr; return the exit code."""
    if os.environ.get("SHELFDESK_DEBUG"):
        raise exc
    line, code = describe(exc)
    print(f"shelfdesk: {line}", file=sys.stderr)
    return code


def describe(exc: BaseException) -> tuple[str, int]:
    """(one line for the operator, exit code) for an exception no command handled."""
    from sqlalchemy.exc import DBAPIError

    from shelfdesk.secrets import SecretError
    from shelfdesk.settings import SettingsError

    if isinstance(exc, (SecretError, SettingsError)):  # their messages name the file and what to do
        return _short(str(exc), 400), 1
    if isinstance(exc, DBAPIError):
        orig = " ".join(str(getattr(exc, "orig", None) or exc).split())
        lowered = orig.lower()
        if "too large" in lowered or isinstance(getattr(exc, "orig", None), OverflowError):
            return _TOO_LARGE, 2
        for words, hint in _DATABASE_HINTS:
            if words in lowered:
                return f"{hint} ({orig})", 1
        return f"the database refused: {orig}", 1
    if isinstance(exc, OverflowError):
        return _TOO_LARGE, 2
    if isinstance(exc, OSError):
        return _os_error(exc), 1
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return "a path or value holds a NUL character, which no file name or field can", 2
    if isinstance(exc, UnicodeError):
        return f"text that cannot be read or written here ({exc})", 2
    log.error("unexpected error in a command", exc_info=exc)
    return (
        f"unexpected error ({type(exc).__name__}: {_short(str(exc))}); the details are in the workspace log "
        "(SHELFDESK_DEBUG=1 shows them here); please report it",
        70,
    )


_TOO_LARGE = "a number is too large: ids and counts go up to 9223372036854775807"


def _os_error(exc: OSError) -> str:
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the disk is read-only",
        errno.ENAMETOOLONG: "the path is too long",
        errno.EISDIR: "that is a folder, not a file",
        errno.EACCES: "permission denied",
        errno.ENOENT: "no such file or folder",
    }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    name = exc.filename if isinstance(exc.filename, str) else None
    return f"{reason}: {_short(name)}" if name else reason


def _short(text: str | None, limit: int = 120) -> str:
    """``text`` on one line, cut in the middle when long (a 5,000-character path stays readable)."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"
