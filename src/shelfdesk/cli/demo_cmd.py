"""``shelfdesk demo``: create or reopen the demo workspace and open the console on it."""

from __future__ import annotations

import argparse
import sys

from shelfdesk.cli import UserFacingError, add_console_options
from shelfdesk.paths import demo_home, resolve_paths


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reset", action="store_true", help="delete and recreate the demo workspace")
    parser.add_argument("--home", help="demo folder (default: its own folder beside the real workspace)")
    parser.add_argument("--no-console", action="store_true", help="only create the workspace; do not open the console")
    parser.add_argument("--read-only", action="store_true", help="open without allowing any change")
    add_console_options(parser)


def run(args: argparse.Namespace) -> int:
    from shelfdesk.demo.build import DemoError, open_demo

    # The demo never uses SHELFDESK_DATABASE_URL: it must not touch real data.
    paths = resolve_paths(args.home or demo_home(), database_url=None)
    if paths.database_overridden:
        paths = resolve_paths(args.home or demo_home(), database_url=f"sqlite:///{paths.home / 'shelfdesk.db'}")
    from shelfdesk.demo.build import MARKER

    if args.reset or not (paths.home / MARKER).exists():
        # Building takes a while (catalog import, a month of sandbox orders, first publications):
        # say so, or a newcomer stares at a silent terminal.
        print(
            f"Building the demo workspace in {paths.home}: catalogs, a month of marketplace orders and first publications (about 15 s)…",
            file=sys.stderr,
            flush=True,
        )
    try:
        ctx, summary = open_demo(paths, reset=args.reset, read_only=args.read_only)
    except DemoError as exc:
        raise UserFacingError(str(exc)) from exc
    try:
        if summary.created:
            print(
                f"demo workspace created in {paths.home}: {summary.stores} stores, {summary.products} products, {summary.orders} orders",
                file=sys.stderr,
            )
        if args.no_console:
            print(paths.home)
            return 0
        from shelfdesk.demo.build import demo_tokens
        from shelfdesk.demo.live import LIVE_ORDERS_PER_HOUR
        from shelfdesk.demo.speed import start_demo_sandboxes
        from shelfdesk.tui import run_console

        # The demo's marketplaces run for the session, so its orders can be accepted, shipped, cancelled,
        # and a publication started from the console ends in seconds.
        live = None if ctx.read_only else start_demo_sandboxes(ctx, demo_tokens(), orders_per_hour=LIVE_ORDERS_PER_HOUR)
        try:
            return run_console(ctx, theme=args.theme, mouse=args.mouse)
        finally:
            if live is not None:
                live.stop()
    finally:
        ctx.close()
