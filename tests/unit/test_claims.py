"""Holder names, liveness, the abandoned-claim rule and backoff, shared by leases, outbox, publishing and webhooks.

The four copies these replace disagreed: an empty holder was dead for the
outbox and publishing but not for the leases; only the leases said outright that
their own process is alive. These tests pin the one answer.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from shelfdesk.claims import Liveness, backoff, claim_abandoned, holder_is_dead, holder_label, holder_name, liveness

HERE = socket.gethostname()
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def gone_pid() -> int:
    """The pid of a process that ran and ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_holder_name_carries_host_pid_and_role() -> None:
    name = holder_name("outbox")
    host, pid, tag = name.split(":")
    assert (host, pid) == (HERE, str(os.getpid())) and tag.startswith("outbox-") and len(tag) == len("outbox-") + 6
    assert holder_name("outbox") != name  # two senders of one process are told apart
    assert holder_label(name) == f"outbox {os.getpid()}"


@pytest.mark.parametrize("holder", [None, ""])
def test_an_empty_holder_is_gone(holder: str | None) -> None:
    assert liveness(holder) is Liveness.gone and holder_is_dead(holder)


def test_this_process_is_never_dead() -> None:
    for holder in (f"{HERE}:{os.getpid()}", f"{HERE}:{os.getpid()}:worker-abc123"):
        assert liveness(holder) is Liveness.this_process and not holder_is_dead(holder)


def test_a_process_of_this_host_is_checked(gone_pid: int) -> None:
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert liveness(f"{HERE}:{alive.pid}:worker-live01") is Liveness.running
        assert liveness(f"{HERE}:{alive.pid}") is Liveness.running  # the older host:pid names too
    finally:
        assert alive.stdin is not None
        alive.stdin.close()
        alive.wait(10)
    assert liveness(f"{HERE}:{gone_pid}:worker-gone01") is Liveness.gone and holder_is_dead(f"{HERE}:{gone_pid}")


def test_another_host_or_a_name_without_pid_cannot_be_judged_here(gone_pid: int) -> None:
    for holder in (f"elsewhere:{gone_pid}:worker-x", "snapshot", f"{HERE}:not-a-pid:x"):
        assert liveness(holder) is Liveness.elsewhere and not holder_is_dead(holder)


def test_a_claim_is_abandoned_when_its_holder_is_gone_or_it_is_too_old(gone_pid: int) -> None:
    me = holder_name("outbox")
    fresh, old = NOW - timedelta(seconds=10), NOW - timedelta(seconds=301)
    assert claim_abandoned(f"{HERE}:{gone_pid}:outbox-aaaaaa", fresh, NOW, 300, me=me)  # process gone: at once
    assert claim_abandoned(None, fresh, NOW, 300, me=me)  # nobody holds it
    assert claim_abandoned("far:1:outbox-aaaaaa", NOW, NOW, 300, me=me) is False
    assert claim_abandoned("far:1:outbox-aaaaaa", old, NOW, 300, me=me)  # too old
    assert claim_abandoned("far:1:outbox-aaaaaa", None, NOW, 300, me=me)  # no claim time: nothing to wait for
    assert claim_abandoned(me, old, NOW, 300, me=me) is False  # never one's own


def test_backoff_doubles_to_its_cap_with_jitter() -> None:
    rng = random.Random(7)
    delays = [backoff(n, rng, base=10.0, cap=3600.0) for n in range(0, 12)]
    for n, delay in enumerate(delays):
        step = min(3600.0, 10.0 * 2 ** max(0, n - 1))
        assert step / 2 <= delay <= step
    assert len({round(d, 6) for d in delays}) == len(delays)
    assert backoff(3, random.Random(1), base=1.0, cap=8.0, jitter=0.0) == 4.0  # no jitter: the step itself
