"""The workspace secrets file and masking.

Tokens never live in the database: the database's ``accounts`` table stores a
*reference* (``secret:<name>`` for this file, ``env:<VAR>`` for an
environment variable). The file is TOML-ish ``name = "value"`` lines, written
atomically with mode 0600 so only the owner can read it.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from shelfdesk.files import write_atomic

SECRET_PREFIX = "secret:"
ENV_PREFIX = "env:"


class SecretError(RuntimeError):
    """A secret reference that cannot be resolved."""


def mask(value: str | None, keep: int = 4) -> str:
    """Show only the last ``keep`` characters of a secret (none if it is short)."""
    if not value:
        return ""
    if len(value) <= keep * 3:
        return "•" * 8
    return "•" * 8 + value[-keep:]


def mask_url(url: str) -> str:
    """Hide a password inside a database URL."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1••••@", url)


class SecretStore:
    """Read and write the owner-only secrets file of a workspace."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            with self.path.open("rb") as fh:
                data = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # the reason names a line, never a value
            raise SecretError(
                f"the secrets file {self.path} cannot be read ({exc}): fix that line or restore the file; nothing was changed"
            ) from None
        return {str(k): str(v) for k, v in data.items()}

    def get(self, name: str) -> str | None:
        return self._load().get(name)

    def names(self) -> list[str]:
        return sorted(self._load())

    def set(self, name: str, value: str) -> str:
        """Store ``value`` under ``name``; returns the reference to keep in the database."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise SecretError(f"invalid secret name {name!r}")
        data = self._load()
        data[name] = value
        self._write(data)
        return SECRET_PREFIX + name

    def delete(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            self._write(data)

    def _write(self, data: dict[str, str]) -> None:
        write_atomic(self.path, "".join(f"{k} = {_toml_string(v)}\n" for k, v in sorted(data.items())), mode=0o600)

    def resolve(self, reference: str | None) -> str:
        """Turn a stored reference into the secret value."""
        if not reference:
            raise SecretError("no credential configured")
        if reference.startswith(ENV_PREFIX):
            var = reference[len(ENV_PREFIX) :]
            value = os.environ.get(var)
            if not value:
                raise SecretError(f"environment variable {var} is not set")
            return value
        if reference.startswith(SECRET_PREFIX):
            name = reference[len(SECRET_PREFIX) :]
            value = self.get(name)
            if not value:
                raise SecretError(f"secret {name!r} is {'missing from' if value is None else 'empty in'} {self.path}")
            return value
        raise SecretError("unknown secret reference kind")


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
