"""What the store, catalog, channel and mapping commands share: opening the workspace,
turning service errors into one clear line on stderr, and ``--json`` output.

Exit codes: 0 done, 1 the operation ran but failed (an import that could not
read its feed, a token the marketplace rejected), 2 bad input (with the reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import UserFacingError, add_workspace_options
from shelfdesk.jsonable import json_default

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.paths import Paths

Runner = Callable[["AppContext", argparse.Namespace], int]


def common_parser() -> argparse.ArgumentParser:
    """Options every sub-command takes: the workspace and ``--json``."""
    common = argparse.ArgumentParser(add_help=False)
    add_workspace_options(common)
    common.add_argument("--json", action="store_true", help="print JSON for scripts (never a token)")
    return common


def announce_new_workspace(paths: Paths, args: argparse.Namespace) -> None:
    """Say so when ``--home`` names a folder holding no workspace: one is created there, never silently.

    A typo in ``--home`` used to give an empty workspace and "No channels yet"; a
    read-only command cannot create one, so it is refused instead.
    """
    if not getattr(args, "home", None) or paths.database_overridden or paths.database_file is None or paths.database_file.exists():
        return
    if getattr(args, "read_only", False):
        raise UserFacingError(f"no workspace at {paths.home}: --read-only cannot create one (shelfdesk paths lists the known ones)")
    print(
        f"shelfdesk: no workspace at {paths.home} yet: a new one is created there (shelfdesk paths lists the workspace and the demo's)",
        file=sys.stderr,
    )


@contextmanager
def workspace(args: argparse.Namespace, *refusals: type[Exception]) -> Iterator[AppContext]:
    """The workspace the command names, opened for the command and closed after it.

    Service refusals (``refusals``, plus catalog errors, unknown channel names
    and writes to a read-only workspace, which every command can meet) become
    :class:`UserFacingError`: one line on stderr and exit 2, never a traceback.
    """
    from shelfdesk.catalog.errors import CatalogError
    from shelfdesk.channel_refs import UnknownChannel
    from shelfdesk.context import ReadOnlyError, open_context
    from shelfdesk.paths import resolve_paths

    caught: tuple[type[Exception], ...] = (CatalogError, ReadOnlyError, UnknownChannel, *refusals)
    paths = resolve_paths(args.home, args.database_url)
    announce_new_workspace(paths, args)
    ctx = open_context(paths, read_only=args.read_only)
    try:
        yield ctx
    except caught as exc:
        raise UserFacingError(str(exc)) from None
    finally:
        ctx.close()


def run_with_workspace(args: argparse.Namespace, runner: Runner) -> int:
    with workspace(args) as ctx:
        return runner(ctx, args)


def print_json(data: Any) -> None:
    """The one ``--json`` printer of the CLI (dataclasses, Decimal, datetimes, enums)."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=json_default))
