"""A migration is frozen when written: it imports nothing of shelfdesk's live code."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import shelfdesk.db.migrations.versions as versions

VERSIONS = Path(versions.__path__[0])


def test_no_migration_imports_shelfdesk() -> None:
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "shelfdesk" for n in names), f"{path.name} imports {names}"


def test_0006_fills_the_terms_of_existing_orders_with_its_own_copy_of_the_rules() -> None:
    spec = importlib.util.spec_from_file_location("m0006", VERSIONS / "0006_order_search_terms.py")
    assert spec is not None and spec.loader is not None
    m0006 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m0006)
    assert sorted(m0006._order_terms("40123456", "Camille Martin", "camille.martin87@gmail.com")) == [
        "40123456",
        "camille",
        "camille.martin87@gmail.com",
        "martin",
        "martin87",
    ]
    assert sorted(m0006._order_terms("LBC-9", "Zoé Jean-Pierre", None)) == ["jean", "jean-pierre", "lbc-9", "pierre", "zoe"]
