"""``shelfdesk migrate``: bring a workspace database up to date and say where it stands.

The console and the worker migrate on start; this command exists for
operators who upgrade shelfdesk on a server and want to see it happen.
"""

from __future__ import annotations

import argparse

from shelfdesk.cli import add_workspace_options
from shelfdesk.context import open_context
from shelfdesk.paths import resolve_paths


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace_options(parser)


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import announce_new_workspace

    paths = resolve_paths(args.home, args.database_url)
    announce_new_workspace(paths, args)
    ctx = open_context(paths, read_only=args.read_only)
    try:
        from shelfdesk.db.migrate import current_revision

        print(f"database at revision {current_revision(ctx.engine)}")
        return 0
    finally:
        ctx.close()
