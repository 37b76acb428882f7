"""The CLI and headless code paths must not import Textual (startup time, servers without a UI)."""

from __future__ import annotations

import subprocess
import sys

HEADLESS_SNIPPET = """
import sys
import shelfdesk.cli
shelfdesk.cli.build_parser()
import shelfdesk.context, shelfdesk.paths, shelfdesk.settings, shelfdesk.clock
for name in {modules!r}:
    __import__(name)
leaked = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(",".join(leaked))
"""

# Modules that must stay importable without Textual; add every headless entry point here.
HEADLESS_MODULES = [
    "shelfdesk.db.models",
    "shelfdesk.channels.registry",
    "shelfdesk.sandbox.server",
    "shelfdesk.jobs.alerts",
    "shelfdesk.demo.build",
    "shelfdesk.cli.sandbox_cmd",
    "shelfdesk.invoices.service",
    "shelfdesk.webhooks.delivery",
    "shelfdesk.cli.invoices_cmd",
    "shelfdesk.cli.webhooks_cmd",
    "shelfdesk.webhooks.jobs",
    "shelfdesk.jobs.worker",
    "shelfdesk.cli.worker_cmd",
    "shelfdesk.cli.jobs_cmd",
    "shelfdesk.cli.status_cmd",
    "shelfdesk.jobs.health",
]


def test_cli_and_headless_modules_do_not_import_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", HEADLESS_SNIPPET.format(modules=HEADLESS_MODULES)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "", f"Textual imported by headless code: {result.stdout}"


def test_paths_command_runs_without_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "shelfdesk", "paths"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "workspace" in result.stdout
    assert " textual" not in result.stderr


def test_building_the_cli_parser_does_not_load_the_database_layer() -> None:
    """Every ``shelfdesk`` start builds the parser: it must not pay for SQLAlchemy or httpx."""
    snippet = (
        "import sys, shelfdesk.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'httpx', 'textual') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


#: What a read command must not load: the ORM layer (SQLModel, Pydantic, the models' classes), the
#: migration framework (the schema check is one query at head), the console, and the HTTP client.
NOT_FOR_READS = ("sqlmodel", "pydantic", "sqlalchemy.orm", "shelfdesk.db.models", "alembic", "textual", "httpx")


def _imported(argv: list[str], env: dict[str, str]) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "shelfdesk", *argv], env=env, capture_output=True, text=True)
    answered = (0, 1) if argv[0] == "status" else (0,)  # status exits 1 on a missed deadline: still an answer
    assert result.returncode in answered and "Traceback" not in result.stderr, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_read_commands_load_only_what_they_need(ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``orders list``, ``orders show``, ``jobs list`` and ``status`` on a workspace at head read Core tables only."""
    import os

    from shelfdesk.db.models import Order
    from shelfdesk.db.upsert import upsert_rows
    from shelfdesk.orders.terms import fill_search_terms
    from tests.db.factories import add_account, add_channel, add_store, order_row

    with ctx.write_session() as session:
        account = add_account(session)
        channel = add_channel(session, add_store(session), account, "fr-fr")
        upsert_rows(session, Order, [order_row(account.id, "40012345", channel=channel)], ["account_id", "marketplace_order_id"], [])
        fill_search_terms(session.connection())
    env = {**os.environ, "SHELFDESK_CACHE_DIR": str(tmp_path / "cache")}
    home = ["--home", str(ctx.paths.home)]
    _imported(["orders", "list", "--json", *home], env)  # the first read writes the tables' copy
    _imported(["jobs", "list", *home], env)  # and the first jobs list creates the channel's schedules
    for argv in (
        ["orders", "list", "--status", "New", "--json"],
        ["orders", "list", "--channel", "fr-fr"],
        ["orders", "list", "--search", "4001"],
        ["orders", "show", "40012345", "--json"],
        ["jobs", "list"],
        ["jobs", "list", "--json"],
        ["status"],
        ["status", "--json"],
    ):
        loaded = _imported([*argv, *home], env)
        assert {m for m in loaded for banned in NOT_FOR_READS if m == banned or m.startswith(banned + ".")} == set(), argv
