"""``shelfdesk worker``: run the workspace's scheduled jobs headless (servers, systemd).

The console runs the same jobs while it is open; leases make each run once
per interval whichever processes are up. Stop with SIGTERM (systemd) or
Ctrl-C: jobs in hand get ``--grace`` seconds to finish.
"""

from __future__ import annotations

import argparse

from shelfdesk.cli import UserFacingError, add_workspace_options


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace_options(parser)
    parser.add_argument(
        "--grace", type=float, default=30.0, help="seconds the jobs in hand get to finish on SIGTERM before being abandoned (default 30)"
    )


def run(args: argparse.Namespace) -> int:
    from shelfdesk.context import open_context
    from shelfdesk.jobs.worker import run_worker
    from shelfdesk.paths import resolve_paths

    if args.read_only:
        raise UserFacingError("a worker writes job runs and leases: --read-only makes no sense here")
    # Never upgrades a schema other workers may be using: a database at another revision is one line, exit 2.
    from shelfdesk.cli.setup_common import announce_new_workspace

    paths = resolve_paths(args.home, args.database_url)
    announce_new_workspace(paths, args)
    ctx = open_context(paths, upgrade=False)
    try:
        return run_worker(ctx, grace=max(0.0, args.grace))
    finally:
        ctx.close()
