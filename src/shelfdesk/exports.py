"""What every file shelfdesk exports shares: cells no spreadsheet evaluates, and no half-written file.

* **Formula injection.** A spreadsheet runs a cell that starts with ``=``,
  ``+``, ``-`` or ``@`` (and some read a leading tab or carriage return the
  same way, and the full-width ``＝ ＋ － ＠`` that some East Asian input
  methods type and some spreadsheets normalise) as a formula, so a buyer
  named ``=HYPERLINK(...)`` could act on the operator's machine. Every such
  cell is written with a leading apostrophe (OWASP's advice), numbers
  included: ``-2+3`` looks like a number too, and a spreadsheet shows
  ``'-5.00`` as the text -5.00. :func:`unsafe_cell` undoes it for files
  shelfdesk reads back (a mapping CSV exported, edited, imported).
* **Atomic files.** :func:`atomic_text_file` writes beside the target and
  renames on success: a full disk or an error half-way leaves the previous
  file (or none), never a truncated export someone might trust.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> str:
    """``value`` as CSV text that no spreadsheet will evaluate."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(DANGEROUS):
        return "'" + text
    return text


def unsafe_cell(text: str | None) -> str | None:
    """A cell as :func:`safe_cell` wrote it, back to its value (the apostrophe it added removed)."""
    if text and text.startswith("'") and text[1:].startswith(DANGEROUS):
        return text[1:]
    return text


@contextmanager
def atomic_text_file(path: Path | str) -> Iterator[IO[str]]:
    """A text file (UTF-8, ``newline=""`` for csv) that appears at ``path`` only once fully written."""
    target = Path(path)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            yield fh
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
