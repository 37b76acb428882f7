"""Writing a file all at once: a reader (or a crash) sees the old content or the new, never half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def temp_pattern(path: Path) -> str:
    """The glob of the temporary files :func:`write_atomic` leaves beside ``path`` if killed mid-write."""
    return f".{path.name}.*.tmp"


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None, durable: bool = False) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) through a temporary file in its folder.

    ``mode`` (such as ``0o600`` for secrets) is set before any byte is written,
    so the content is never readable by others even for a moment. ``durable``
    flushes the data to disk before the rename (the sandbox's state survives a
    power cut; the caller syncs the folder when it needs the rename durable too).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
