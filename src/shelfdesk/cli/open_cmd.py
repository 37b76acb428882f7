"""``shelfdesk open``: open the console on a workspace (the default command)."""

from __future__ import annotations

import argparse

from shelfdesk.cli import add_console_options, add_workspace_options
from shelfdesk.context import open_context
from shelfdesk.paths import resolve_paths


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace_options(parser)
    add_console_options(parser)


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import announce_new_workspace

    paths = resolve_paths(args.home, args.database_url)
    announce_new_workspace(paths, args)
    ctx = open_context(paths, read_only=args.read_only)
    try:
        from shelfdesk.tui import run_console

        return run_console(ctx, theme=args.theme, mouse=args.mouse)
    finally:
        ctx.close()
