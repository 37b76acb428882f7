"""``shelfdesk jobs …`` and ``shelfdesk status``: what an operator types, what they read, the exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from shelfdesk.cli import main
from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.context import AppContext
from shelfdesk.jobs.registry import JobScope
from tests.jobs.conftest import add_channels


@pytest.fixture
def cli(ctx: AppContext, clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Run the CLI on the test workspace, on the test's clock; returns (exit code, stdout, stderr)."""
    old = set_default_clock(clock)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, f"--home={ctx.paths.home}"])
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    set_default_clock(old)


@pytest.fixture
def setup(ctx: AppContext, jobs: Any) -> dict[str, int]:
    ids = add_channels(ctx, ("BM EU", "backmarket", "BM France"), ("LBC", "leboncoin", "LBC France"))
    outcomes = {"fail": False}

    async def harvest(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
        if outcomes["fail"]:
            raise RuntimeError("marketplace said 503")
        return {"orders_new": 2}

    jobs("harvest", harvest, scope=JobScope.account, interval=60)
    jobs("outbox", harvest, interval=5)
    ids["_outcomes"] = outcomes  # type: ignore[assignment]
    return ids


def test_jobs_list_shows_every_schedule(cli: Any, setup: dict[str, int]) -> None:
    code, out, _ = cli("jobs", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["KEY", "JOB", "CHANNEL", "EVERY", "LAST", "RUN", "NEXT", "LEASE", "FAILS"]
    assert any(line.split()[:5] == [f"harvest:{setup['BM France']}", "harvest", "BM", "France", "1m"] for line in lines)
    assert any(line.startswith("outbox ") and " 5s " in line and "never" in line and "due" in line for line in lines)
    code, out, _ = cli("jobs", "list", "--json")
    data = {row["key"]: row for row in json.loads(out)}
    assert data["outbox"]["interval_seconds"] == 5 and data["outbox"]["state"] == "never"


def test_run_now_history_and_show(cli: Any, setup: dict[str, int], clock: FakeClock) -> None:
    code, out, _ = cli("jobs", "run", "harvest", "--channel", "BM France")
    assert code == 0 and "succeeded" in out and "orders_new 2" in out
    setup["_outcomes"]["fail"] = True  # type: ignore[index]
    clock.advance(5)
    code, out, _ = cli("jobs", "run", f"harvest:{setup['BM France']}")
    assert code == 1 and "error: RuntimeError: marketplace said 503" in out
    run_id = int(out.rsplit("shelfdesk jobs show ", 1)[1])
    code, out, _ = cli("jobs", "show", str(run_id))
    assert code == 0 and "Traceback (most recent call last)" in out and "marketplace said 503" in out
    code, out, _ = cli("jobs", "history", "harvest", "--channel", "BM France")
    lines = out.splitlines()
    assert code == 0 and "FAILED" in lines[1] and "RuntimeError" in lines[1] and "orders_new 2" in lines[2]
    code, out, err = cli("jobs", "run", "harvest")
    assert code == 2 and "several schedules" in err


def test_pause_resume_and_schedule(cli: Any, setup: dict[str, int]) -> None:
    assert cli("jobs", "pause", "--all")[:2] == (0, "3 job(s) paused\n")
    code, out, _ = cli("jobs", "run", "outbox")  # an operator's run now still runs a paused job
    assert code == 0
    assert cli("jobs", "resume", "harvest", "--channel", "LBC France")[:2] == (0, "1 job(s) resumed\n")
    code, out, _ = cli("jobs", "list", "--json")
    paused = {row["key"]: row["paused"] for row in json.loads(out)}
    assert paused == {"outbox": True, f"harvest:{setup['BM France']}": True, f"harvest:{setup['LBC France']}": False}
    code, out, _ = cli("jobs", "schedule", "outbox", "30s")
    assert code == 0 and "now runs every 30s" in out
    code, _, err = cli("jobs", "schedule", "outbox", "soon")
    assert code == 2 and "not an interval" in err
    code, _, err = cli("jobs", "pause")
    assert code == 2 and "--all" in err


def test_status_is_critical_when_a_token_is_rejected(cli: Any, ctx: AppContext, setup: dict[str, int], clock: FakeClock) -> None:
    cli("jobs", "run", "harvest", "--channel", "BM France")
    code, out, _ = cli("status")
    assert code == 0, out
    assert "BM France (backmarket, account BM EU)" in out and "last harvest  2026-03-02 09:30" in out
    assert "No alerts." in out

    from shelfdesk.db.models import MarketplaceAccount

    with ctx.write_session() as session:
        account = session.get(MarketplaceAccount, 2)
        account.token_error = "401 refresh token revoked"
        account.token_expires_at = clock.now() + timedelta(days=200)
    code, out, _ = cli("status")
    assert code == 1
    assert "token         REJECTED: 401 refresh token revoked" in out
    assert "CRITICAL LBC: token rejected (401 refresh token revoked)" in out
    code, out, _ = cli("status", "--json")
    data = json.loads(out)
    assert code == 1 and data["critical"] is True
    lbc = next(c for c in data["channels"] if c["name"] == "LBC France")
    assert lbc["token_error"] == "401 refresh token revoked" and lbc["last_harvest"] is None
    assert "secret:" not in out  # credential references never leave the database


def test_status_read_only_and_empty(cli: Any) -> None:
    code, out, _ = cli("status", "--read-only")
    assert code == 0 and "No channels yet" in out


def test_status_right_after_set_up_shows_the_harvest_due(cli: Any, setup: dict[str, int]) -> None:
    """No scheduler has run yet (a fresh demo, a channel just added): the harvest is due, not "orders off"."""
    code, out, _ = cli("status")
    assert code == 0, out
    block = out.split("BM France (backmarket, account BM EU)")[1].split("\n\n")[0]
    assert "not scheduled" not in block
    assert "last harvest  never" in block and "next harvest  " in block


def test_status_on_an_empty_workspace_says_where_it_is_and_how_to_reach_the_demo(
    cli: Any, ctx: AppContext, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It printed "No channels yet" and nothing about the demo that was set up beside it."""
    from shelfdesk import paths as where

    demo = tmp_path / "demo"
    demo.mkdir()
    monkeypatch.setattr(where, "demo_home", lambda: demo)
    code, out, _ = cli("status")
    assert code == 0 and f"This workspace is {ctx.paths.home}." in out and "The demo is" not in out
    (demo / "shelfdesk.db").write_bytes(b"")
    code, out, _ = cli("status")
    assert f"The demo is in {demo}: shelfdesk status --home {demo}" in out
    code, out, _ = cli("paths")
    assert "demo workspace" in out and f"{demo} (exists: add --home {demo})" in out


def test_status_names_the_last_publication_that_sent_not_a_later_dry_run(
    cli: Any, ctx: AppContext, setup: dict[str, int], clock: FakeClock
) -> None:
    """A drift check (a dry run of the offers feed) after a real offers run: status still says how that run went."""
    from shelfdesk.db.models import Publication
    from shelfdesk.domain import PublicationKind, PublicationMode, PublicationState

    now = clock.now()
    with ctx.write_session() as session:
        session.add(
            Publication(
                channel_id=setup["BM France"],
                kind=PublicationKind.offers,
                mode=PublicationMode.update,
                state=PublicationState.succeeded,
                started_at=now - timedelta(minutes=5),
                finished_at=now - timedelta(minutes=5),
                sent=3,
                succeeded=3,
                items_total=3,
            )
        )
        session.add(
            Publication(
                channel_id=setup["BM France"],
                kind=PublicationKind.offers,
                mode=PublicationMode.full,
                state=PublicationState.dry_run,
                dry_run=True,
                started_by="drift check",
                started_at=now - timedelta(minutes=1),
                finished_at=now - timedelta(minutes=1),
            )
        )
    code, out, _ = cli("status")
    block = out.split("BM France (backmarket, account BM EU)")[1].split("\n\n")[0]
    assert code == 0 and "offers        succeeded" in block and "dry_run" not in block, block
