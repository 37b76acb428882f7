"""A database that goes away, and one at another schema revision: one line each, never a hung worker.

The outage is real: the context's engine is pointed at a database that cannot
be opened (a SQLite file in a folder that does not exist, on either engine),
then back at the workspace's.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from shelfdesk.context import AppContext
from shelfdesk.db.engine import STATEMENT_TIMEOUT_MS, _server_connect_args, is_unavailable, make_engine
from shelfdesk.db.migrate import HEAD_REVISION
from shelfdesk.domain import JobOutcome
from shelfdesk.jobs.runs import list_runs
from shelfdesk.jobs.scheduler import JobScheduler
from shelfdesk.jobs.schedules import ensure_schedules

ROOT = Path(__file__).resolve().parents[2]


def _cut(ctx: AppContext, tmp_path: Path) -> Any:
    """Point the context at a database that cannot be opened; returns the real engine to put back."""
    real = ctx.engine
    ctx.__dict__["engine"] = make_engine(f"sqlite:///{tmp_path / 'gone' / 'shelfdesk.db'}")
    return real


def _restore(ctx: AppContext, real: Any) -> None:
    ctx.engine.dispose()
    ctx.__dict__["engine"] = real


def _set_revision(ctx: AppContext, revision: str) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


async def test_a_lost_database_is_one_line_then_the_heartbeat_resumes(
    ctx: AppContext, tmp_path: Path, jobs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[int] = []

    async def ping(_ctx: AppContext, _channel: int | None) -> dict[str, int]:
        ran.append(1)
        return {"items": 1}

    jobs("ping", ping)
    ensure_schedules(ctx)
    scheduler = JobScheduler(ctx, role="worker")
    caplog.set_level(logging.DEBUG, logger="shelfdesk.jobs")
    real = _cut(ctx, tmp_path)
    for _ in range(3):
        await scheduler._heartbeat()
        await scheduler._fire("ping")
    assert ran == []
    outage = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(outage) == 1, [r.getMessage() for r in outage]
    assert outage[0].getMessage() == (
        f"the database {tmp_path / 'gone' / 'shelfdesk.db'} is unavailable (unable to open database file): retrying every 15 s"
    )
    assert outage[0].exc_info is None  # no traceback
    _restore(ctx, real)
    caplog.clear()
    await scheduler._heartbeat()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "the database answers again (unavailable for 0 s): jobs resume"
    ]  # the FakeClock did not move
    await scheduler._fire("ping")
    assert ran == [1]
    assert [r.outcome for r in list_runs(ctx, "ping")] == [JobOutcome.succeeded]


async def test_a_run_whose_end_cannot_be_written_retries_until_the_database_answers(
    ctx: AppContext, tmp_path: Path, jobs: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The job's work is done; its record and lease wait for the database instead of being left 'running'."""
    from shelfdesk.jobs import runner as runner_module

    monkeypatch.setattr(runner_module, "FINISH_RETRY_SECONDS", 0.01)
    holder: dict[str, Any] = {}

    async def cut_mid_run(_ctx: AppContext, _channel: int | None) -> dict[str, int]:
        holder["real"] = _cut(ctx, tmp_path)
        asyncio.get_running_loop().call_later(0.05, _restore, ctx, holder["real"])
        return {"items": 1}

    jobs("ping", cut_mid_run)
    ensure_schedules(ctx)
    scheduler = JobScheduler(ctx, role="worker")
    report = await scheduler.runner.run("ping")
    assert report.outcome is JobOutcome.succeeded
    assert [r.outcome for r in list_runs(ctx, "ping")] == [JobOutcome.succeeded]  # recorded, lease released
    assert "cannot record the end of run" in caplog.text and "unable to open database file" in caplog.text


def test_errors_worth_a_retry_are_told_from_the_others(ctx: AppContext, tmp_path: Path) -> None:
    from sqlalchemy.exc import DBAPIError

    gone = make_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}")
    with pytest.raises(DBAPIError) as unreachable:
        gone.connect()
    assert is_unavailable(unreachable.value)
    with pytest.raises(DBAPIError) as bad_sql, ctx.engine.connect() as conn:
        conn.execute(text("SELECT no_such_column FROM orders"))
    assert not is_unavailable(bad_sql.value)
    assert not is_unavailable(ValueError("x"))


def test_postgresql_connections_get_timeouts_the_url_can_override() -> None:
    args = _server_connect_args("postgresql+psycopg://u:p@db/shelf")
    assert args["connect_timeout"] == 10 and args["keepalives"] == 1
    assert args["options"] == f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    mine = _server_connect_args("postgresql+psycopg://u:p@db/shelf?connect_timeout=3&options=-c%20statement_timeout%3D0")
    assert "connect_timeout" not in mine and "options" not in mine and mine["keepalives_idle"] == 30
    assert _server_connect_args("sqlite:///x.db") == {}


@pytest.mark.postgres
def test_the_statement_timeout_reaches_the_server(ctx: AppContext) -> None:
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "5min"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("revision", "says"),
    [
        (
            "0007",
            f"is at schema revision 0007 and this shelfdesk expects {HEAD_REVISION}: stop the workers, "
            "run `shelfdesk migrate`, then start them again",
        ),
        ("9999", f"is at schema revision 9999, which this shelfdesk ({HEAD_REVISION}) does not know"),
    ],
)
def test_a_worker_refuses_a_database_at_another_revision_in_one_line(ctx: AppContext, revision: str, says: str) -> None:
    _set_revision(ctx, revision)
    ctx.close()
    result = subprocess.run(
        [sys.executable, "-m", "shelfdesk", "worker", f"--home={ctx.paths.home}"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    with ctx.engine.connect() as conn:  # nothing was migrated
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == revision


async def test_a_running_worker_stops_when_the_database_is_migrated_under_it(ctx: AppContext, caplog: pytest.LogCaptureFixture) -> None:
    from shelfdesk.jobs.worker import SCHEMA_CHANGED, _watch_schema

    stop, received = asyncio.Event(), []
    watch = asyncio.ensure_future(_watch_schema(ctx, stop, received, 0.01))
    await asyncio.sleep(0.05)
    assert not stop.is_set()
    _set_revision(ctx, "9999")
    await asyncio.wait_for(stop.wait(), 30)
    await watch
    assert received == [SCHEMA_CHANGED]
    assert f"is now at schema revision 9999 and this worker runs {HEAD_REVISION}: stopping" in caplog.text
