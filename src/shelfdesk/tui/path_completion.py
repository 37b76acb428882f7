"""Tab completion of file paths typed in a dialog (bulk ship CSV, catalog source, export file).

Shell-like: one match completes it (a folder gets its ``/``), several complete
their common prefix and are listed. Reads one folder, so it runs on the event
loop without a worker; a folder that cannot be read completes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from shelfdesk.tui.commands import Completion, common_completion


def complete_path(text: str) -> Completion:
    """Complete the last part of ``text`` against the files of its folder (``~`` understood)."""
    if "://" in text:
        return Completion(text)  # a URL: nothing to complete
    folder_text, _, partial = text.rpartition("/")
    prefix = f"{folder_text}/" if "/" in text else ""
    folder = Path(os.path.expanduser(folder_text or ("/" if text.startswith("/") else "."))) if prefix else Path(".")
    try:
        entries = sorted(
            entry.name + ("/" if entry.is_dir() else "")
            for entry in os.scandir(folder)
            if entry.name.startswith(partial) and (partial.startswith(".") or not entry.name.startswith("."))
        )
    except OSError:
        return Completion(text)
    return common_completion(prefix, partial, entries)
