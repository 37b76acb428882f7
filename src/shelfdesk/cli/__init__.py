"""The ``shelfdesk`` command line.

Each sub-command lives in its own module of this package and exposes
``configure(parser)`` and ``run(args) -> int``. Nothing here imports Textual:
only the ``open`` and ``demo`` commands load the console, lazily, so the CLI
and the headless worker stay light (a test checks this).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from shelfdesk import __version__

# (name, module, one-line help). Order is the order shown in --help.
COMMANDS: list[tuple[str, str, str]] = [
    ("open", "shelfdesk.cli.open_cmd", "open the console on a workspace (the default)"),
    ("demo", "shelfdesk.cli.demo_cmd", "create or reopen the demo workspace and open the console"),
    ("paths", "shelfdesk.cli.paths_cmd", "print every path shelfdesk uses"),
    ("migrate", "shelfdesk.cli.migrate_cmd", "bring the workspace database up to date"),
    ("store", "shelfdesk.cli.store_cmd", "add and list stores"),
    ("catalog", "shelfdesk.cli.catalog_cmd", "import a store's catalog feed (CSV, JSON, XML; file or URL)"),
    ("stock", "shelfdesk.cli.stock_cmd", "set stock by hand or from a CSV, safety stock, a SKU's stock per channel"),
    ("channel", "shelfdesk.cli.channel_cmd", "add, list, test and activate channels"),
    ("mapping", "shelfdesk.cli.mapping_cmd", "export, import and suggest a channel's mappings"),
    ("orders", "shelfdesk.cli.orders_cmd", "harvest, list, act on, bulk-ship and export orders"),
    ("care", "shelfdesk.cli.care_cmd", "after-sales cases: list, show, reply, problem, transfer, refund; returned stock"),
    ("invoices", "shelfdesk.cli.invoices_cmd", "issue, list, correct and export invoices; per-store invoice settings"),
    ("webhooks", "shelfdesk.cli.webhooks_cmd", "push order events to your systems: add, list, pause, resume, test, deliveries"),
    ("publish", "shelfdesk.cli.publish_cmd", "publish (or --dry-run) a channel's offers or products feed"),
    ("publications", "shelfdesk.cli.publications_cmd", "publication history, items, errors by cause, SKU history"),
    ("reprice", "shelfdesk.cli.reprice_cmd", "follow the buybox between minimum and default prices (--simulate)"),
    ("sandbox", "shelfdesk.cli.sandbox_cmd", "serve the Back Market and Leboncoin sandboxes on loopback"),
    ("worker", "shelfdesk.cli.worker_cmd", "run the workspace's scheduled jobs headless until SIGTERM"),
    ("jobs", "shelfdesk.cli.jobs_cmd", "list, run now, pause, resume and reschedule sync jobs; their runs"),
    ("due", "shelfdesk.cli.due_cmd", "everything due before a marketplace penalises it; exits 1 when one is overdue"),
    ("api", "shelfdesk.cli.api_cmd", "serve the HTTP API for your own systems (ERP, shop); its tokens"),
    ("status", "shelfdesk.cli.status_cmd", "sync health per channel and alerts; exits 1 when one is critical"),
]


#: How every command's channel argument is described (one resolver reads them all: ``channel_refs``).
CHANNEL_HELP = "channel: id, name, slug as 'channel list' shows it (bm-fr) or market (fr-fr)"


def add_workspace_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that opens a workspace accepts."""
    parser.add_argument("--home", help="workspace folder (default: $SHELFDESK_HOME or the platform data folder)")
    parser.add_argument("--database-url", help="database URL (default: $SHELFDESK_DATABASE_URL or the workspace's SQLite file)")
    parser.add_argument("--read-only", action="store_true", help="open without allowing any change")


def add_console_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", help="colour theme (see the palette for the list)")
    parser.add_argument("--mouse", action="store_true", help="capture the mouse (off by default so terminal selection works)")


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the usage itself is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {' '.join(message.split())} (--help shows the usage)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, every command is listed but only that one is configured.

    ``main`` passes the command being run as ``only``: importing the other
    seventeen command modules (and configuring their options) would be paid
    by every ``shelfdesk`` start, when one answer is all a script wants.
    """
    parser = Parser(prog="shelfdesk", description="Terminal operations console for marketplace sellers.")
    parser.add_argument("--version", action="version", version=f"shelfdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name, module_name, help_text in COMMANDS:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            module = importlib.import_module(module_name)
            module.configure(cmd)
            cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["open", *argv]
    parser = build_parser(only=argv[0])
    args = parser.parse_args(argv)
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `shelfdesk orders list | head`: the reader has what it wanted
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it
    except UserFacingError as exc:
        print(f"shelfdesk: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # A workspace whose database cannot be opened or used (unreachable, or a schema this
        # shelfdesk does not know): one line, no traceback. Looked up in sys.modules so --help and
        # --version stay light; whoever raised one has imported its module.
        if isinstance(exc, _opening_errors()):
            print(f"shelfdesk: {exc}", file=sys.stderr)
            return 2
        from shelfdesk.cli.failures import explain

        return explain(exc)


def _opening_errors() -> tuple[type[Exception], ...]:
    """The errors of opening a workspace whose message is meant for the operator (loaded modules only)."""
    found = (
        getattr(sys.modules.get(module), name, None)
        for module, name in (("shelfdesk.context", "DatabaseUnreachable"), ("shelfdesk.db.migrate", "SchemaError"))
    )
    return tuple(kind for kind in found if isinstance(kind, type))


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail on the closed pipe again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # stdout is not a real file (tests, embedding)
        pass


class UserFacingError(Exception):
    """An error whose message is meant for the operator, printed without a traceback."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
