"""Logging with secrets masked.

Every handler shelfdesk installs carries :class:`MaskingFilter`, which hides
anything that looks like a credential (Authorization headers, tokens, bearer
values, registered secret values) before a record is written.
"""

from __future__ import annotations

import logging
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

_known_secrets: set[str] = set()

_PATTERNS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*)(basic|bearer)?\s*[^\s,'\"}]+"),
    re.compile(r"(?i)((?:access|refresh)?_?token[\"']?\s*[:=]\s*[\"']?)[^\s,'\"}&]+"),
    re.compile(r"(?i)(client_secret[\"']?\s*[:=]\s*[\"']?)[^\s,'\"}&]+"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it appears in a log line."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    """Mask credentials inside ``text``."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "••••")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "••••", text)
    return text


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_file_handler(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    logging.getLogger("shelfdesk").addHandler(handler)
    return handler


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted (not when the handler was made)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_stderr_handler: logging.Handler | None = None


def install_stderr_handler(level: int = logging.INFO) -> logging.Handler:
    """Log to stderr (the worker, or a workspace whose log file cannot be written); installed once."""
    global _stderr_handler
    if _stderr_handler is not None:
        _stderr_handler.setLevel(min(level, _stderr_handler.level))
        return _stderr_handler
    handler = _CurrentStderr()
    _stderr_handler = handler
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    logging.getLogger("shelfdesk").addHandler(handler)
    return handler
