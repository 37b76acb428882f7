"""Leases across real OS processes on one SQLite workspace, and the worker's stop on SIGTERM.

Processes are stepped through stdin/stdout (each waits for "go"), never
synchronised by sleeping; the only timeouts are guards against a hang.
What reached the marketplace is counted from the sandbox's request log.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from shelfdesk.context import AppContext
from shelfdesk.domain import JobOutcome
from shelfdesk.jobs.runner import JobRunner
from shelfdesk.jobs.runs import list_runs
from shelfdesk.jobs.schedules import ensure_schedules
from tests.conftest import FIXED_NOW
from tests.jobs.proc_jobs import BLOCKER_STARTED
from tests.orders.conftest import Desk, desk, sandboxes  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow  # real processes: workers, kills

ROOT = Path(__file__).resolve().parents[2]
GUARD = 60.0  # seconds before a silent child is declared hung (never reached when things work)


class Child:
    """A child process whose output lines are read by a thread, so reads can time out."""

    def __init__(self, args: list[str]) -> None:
        env = {
            **os.environ,
            "SHELFDESK_JOB_MODULES": "tests.jobs.proc_jobs",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        self.proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self) -> str:
        line = self.lines.get(timeout=GUARD)
        assert line is not None, f"child exited; output so far: {self.seen}"
        self.seen.append(line)
        return line

    def wait_for(self, text: str) -> str:
        while True:
            line = self.line()
            if text in line:
                return line

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def rest(self) -> str:
        lines = []
        while (line := self.lines.get(timeout=GUARD)) is not None:
            lines.append(line)
        return "\n".join([*self.seen, *lines])


def _driver(mode: str, home: Path, role: str, **options: Any) -> Child:
    extra = [f"--{name}={value}" for name, value in options.items()]
    return Child(["-m", "tests.jobs.proc_jobs", mode, f"--home={home}", f"--start={FIXED_NOW.isoformat()}", f"--role={role}", *extra])


def test_two_processes_on_one_workspace_run_each_harvest_once(desk: Desk) -> None:
    ensure_schedules(desk.ctx)
    key = f"harvest:{desk.bm_channel}"
    steps = 2
    children = [_driver("race", desk.ctx.paths.home, f"proc{n}", key=key, steps=steps, interval=60) for n in range(2)]
    try:
        for step in range(steps):
            for child in children:
                assert child.line() == f"ready {step}"
            for child in children:
                child.send("go")  # both try the same harvest at the same instant
            results = [json.loads(child.line()) for child in children]
            assert sum(r["ran"] for r in results) == 1, results
            assert next(r for r in results if r["ran"])["outcome"] == "succeeded", results
            loser = next(r for r in results if not r["ran"])
            assert "running in proc" in loser["reason"] or "already ran" in loser["reason"], loser
        for child in children:
            assert child.proc.wait(GUARD) == 0, child.rest()
    finally:
        for child in children:
            child.proc.kill()
    # The marketplace saw one order listing per interval, not two.
    assert len(desk.requests("backmarket", method="GET", path="/ws/orders")) == steps
    runs = list_runs(desk.ctx, key)
    assert [r.outcome for r in runs] == [JobOutcome.succeeded] * steps


async def _quick(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
    return {"done": 1}


def test_a_killed_holder_is_taken_over_and_its_run_marked_abandoned(ctx: AppContext, jobs: Any) -> None:
    jobs("blocker", _quick, interval=3600)  # this process's version finishes at once
    ensure_schedules(ctx)
    victim = _driver("hold", ctx.paths.home, "victim")
    try:
        victim.wait_for(BLOCKER_STARTED)
        blocked = asyncio.run(JobRunner(ctx, role="console").run("blocker", trigger="manual"))
        assert not blocked.ran and blocked.reason.startswith(f"running in victim {victim.proc.pid}")
        victim.proc.kill()  # kill -9: no chance to release anything
        victim.proc.wait(GUARD)
    finally:
        victim.proc.kill()
    report = asyncio.run(JobRunner(ctx, role="console").run("blocker", trigger="manual"))
    assert report.ran and report.outcome is JobOutcome.succeeded
    assert report.taken_over_from is not None and f":{victim.proc.pid}:victim-" in report.taken_over_from
    old = list_runs(ctx, "blocker")[-1]
    assert old.outcome is JobOutcome.abandoned and "stopped renewing its lease" in old.error


def test_worker_stops_cleanly_on_sigterm_and_abandons_the_job_in_hand(ctx: AppContext) -> None:
    worker = Child(["-m", "shelfdesk", "worker", f"--home={ctx.paths.home}", "--grace=0.5"])
    try:
        worker.wait_for("worker started on workspace")
        worker.wait_for(BLOCKER_STARTED)  # due at once, never ends by itself
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(GUARD) == 0
    finally:
        worker.proc.kill()
    output = worker.rest()
    assert "received SIGTERM" in output and output.rstrip().endswith("worker stopped")
    assert "Traceback" not in output
    [run] = list_runs(ctx, "blocker")
    assert run.outcome is JobOutcome.abandoned and run.error == "worker stopped (SIGTERM)"
    from shelfdesk.jobs.leases import read_leases

    with ctx.read_session() as session:
        assert all(lease.holder is None for lease in read_leases(session).values())
    log_text = ctx.paths.log_file.read_text(encoding="utf-8")
    assert "worker started on workspace" in log_text and "worker stopped" in log_text


def test_worker_refuses_a_read_only_workspace(ctx: AppContext) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shelfdesk", "worker", f"--home={ctx.paths.home}", "--read-only"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=GUARD,
    )
    assert result.returncode == 2 and "--read-only makes no sense" in result.stderr
