"""Editing a piece of text in the operator's ``$VISUAL`` / ``$EDITOR``, for the CLI and the console.

The console suspends itself around the call (``App.suspend``) so the editor
gets the terminal; over SSH this is the usual way to edit multi-line settings
such as an invoice header.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


class EditorError(RuntimeError):
    """The editor could not run or exited with an error; nothing was changed."""


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def edit_text(text: str, *, suffix: str = ".txt") -> str:
    """Open ``text`` in the editor and return what was saved (the temporary file is removed)."""
    command = editor_command()
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8") as fh:
        fh.write(text)
        path = Path(fh.name)
    try:
        try:
            result = subprocess.run([*command, str(path)], check=False)
        except OSError as exc:
            raise EditorError(f"cannot run the editor {command[0]!r} ({exc.strerror or exc}); set $EDITOR") from None
        if result.returncode != 0:
            raise EditorError(f"the editor ({' '.join(command)}) exited with status {result.returncode}; nothing changed")
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
