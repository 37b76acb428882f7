"""``shelfdesk paths``: every path in use, so an operator knows what to back up."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shelfdesk.cli import add_workspace_options
from shelfdesk.paths import resolve_paths


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace_options(parser)
    parser.add_argument("--json", action="store_true", help="print as JSON")


def demo_row(current_home: Path) -> tuple[str, str]:
    """Where ``shelfdesk demo`` keeps its workspace, and whether it exists (``--home`` reaches it)."""
    from shelfdesk import paths as where

    demo = where.demo_home()
    if demo.resolve() == current_home.resolve():
        return "demo workspace", f"{demo} (this one)"
    state = "exists: add --home " + str(demo) if (demo / "shelfdesk.db").exists() else "none yet: shelfdesk demo"
    return "demo workspace", f"{demo} ({state})"


def run(args: argparse.Namespace) -> int:
    paths = resolve_paths(args.home, args.database_url)
    rows = [*paths.as_rows(), demo_row(paths.home)]
    if paths.database_file is not None and not paths.database_file.exists():
        rows[0] = (rows[0][0], f"{rows[0][1]} (no workspace here yet: shelfdesk open creates it)")
    elif demo_row(paths.home)[1].endswith("(this one)"):
        rows[0] = (rows[0][0], f"{rows[0][1]} (the demo's)")
    if args.json:
        print(json.dumps(dict(rows), indent=2))
    else:
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            print(f"{label:<{width}}  {value}")
    return 0
