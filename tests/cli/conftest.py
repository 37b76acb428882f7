"""What the CLI tests share: running a command, reading the workspace back, a feed and a channel.

The order tests' sandboxes and desk, and the invoice tests' seller store, serve here too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from shelfdesk.cli import main
from tests.catalog.conftest import bad_ean, ean
from tests.invoices.conftest import seller_store  # noqa: F401
from tests.orders.conftest import desk, sandboxes  # noqa: F401


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@contextmanager
def db(workspace) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    """The workspace as the commands left it, opened to read it back."""
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths

    ctx = open_context(resolve_paths(workspace))
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def feed(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "feed.csv"
    path.write_text(
        "sku;ean;category;price;stock;grade;warranty_months\n"
        f"A1;{ean(1)};Phones;100;1;GOOD;12\nA2;{bad_ean(2)};Phones;100;1;GOOD;12\n"
        f"A3;{ean(3)};Phones > Android;1x0;1;GOOD;12\nA4;{ean(4)};Phones > Android;90;0;FAIR;12\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def channel(capsys, feed, workspace, monkeypatch):  # type: ignore[no-untyped-def]
    """A store with its catalog and a Back Market channel whose token sits in an environment variable."""
    monkeypatch.setenv("BM_TOKEN", "bm-env-token-1111")
    run(capsys, "store", "add", "Refurb Paris", "--country", "FR", "--source", str(feed))
    run(capsys, "catalog", "import", "Refurb Paris")
    code, out, err = run(
        capsys, "channel", "add", "Refurb Paris", "--country", "FR", "--marketplace", "backmarket", "--token-env", "BM_TOKEN", "--json"
    )
    assert code == 0, err
    return json.loads(out)["channel"]["id"]
