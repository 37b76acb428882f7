"""A boundary no import contract expresses: no module imports another's private names.

A name with a leading underscore is its module's own; a helper two modules
share is made public (or moved) instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import shelfdesk

SRC = Path(shelfdesk.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.with_suffix("").relative_to(SRC.parent).parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_imports_another_modules_private_names() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        here = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "shelfdesk":
                found += [
                    f"{here}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__") and node.module != here
                ]
    assert found == []
