"""Fixtures for catalog tests: a store in a migrated workspace, and valid EANs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from shelfdesk.catalog.gtin import make_ean13


def ean(n: int) -> str:
    """The n-th valid EAN-13 of the tests."""
    return make_ean13(f"3{n:011d}")


def bad_ean(n: int) -> str:
    good = ean(n)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


@pytest.fixture
def store_id(ctx) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.services.stores import create_store

    return create_store(ctx, "Refurb Paris", "FR").id


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a feed file: ``write("feed.csv", text, encoding="utf-8")`` or bytes."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding=encoding, newline="")
        return path

    return _write
