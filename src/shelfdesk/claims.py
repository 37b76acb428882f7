"""Who holds a claim, whether that process still runs, and how long to wait before trying again.

Four mechanisms claim rows so that two processes never do the same work: job
leases (``jobs.leases``), the order actions outbox (``orders.outbox``),
publication runs (``publishing.engine``) and webhook deliveries
(``webhooks.delivery``). They share what is written here:

* a holder name ``host:pid:role-xxxxxx`` (the random tag tells apart two
  holders of one process, such as two console screens sending);
* :func:`liveness`: what can be known of a holder from this process. Only a
  process on this host can be checked; a holder on another host (or a name that
  carries no process id) is judged by its claim's age or expiry alone;
* :func:`claim_abandoned`: the rule that takes a claim back (its process is
  gone, or the claim is older than the timeout; never one's own);
* :func:`backoff`: exponential delays with jitter, so that many clients failing
  together do not come back together.

Nothing here touches the database or the network: connectors use the backoff too.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from datetime import datetime, timedelta
from enum import StrEnum


class Liveness(StrEnum):
    """What this process can tell about a holder."""

    gone = "gone"  #: no holder, or its process on this host no longer exists
    running = "running"  #: another process of this host, which exists
    this_process = "this-process"  #: this very process (its own bookkeeping decides which of its claims live)
    elsewhere = "elsewhere"  #: another host, or a name without a process id: cannot be checked from here


def holder_name(role: str) -> str:
    """A holder name unique to this process and caller: ``host:pid:role-xxxxxx``."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}-{uuid.uuid4().hex[:6]}"


def holder_parts(holder: str) -> tuple[str, str, str]:
    """``(host, pid, tag)`` of a holder name; older names ``host:pid`` have an empty tag."""
    host, _, rest = holder.partition(":")
    pid, _, tag = rest.partition(":")
    return host, pid, tag


def holder_label(holder: str | None) -> str:
    """Short words for a holder (``worker 4242``), with the host when it is not this one."""
    if not holder:
        return ""
    host, pid, tag = holder_parts(holder)
    role = tag.rsplit("-", 1)[0] or "process"
    where = "" if host == socket.gethostname() else f"@{host}"
    return f"{role} {pid}{where}"


def liveness(holder: str | None) -> Liveness:
    """Whether the process a holder names still runs, as far as this process can tell.

    An empty holder is ``gone`` (nothing holds the claim). This process is
    ``this_process``, never ``gone``: the caller knows which of its own claims
    are still being worked on.
    """
    if not holder:
        return Liveness.gone
    host, pid_text, _ = holder_parts(holder)
    if host != socket.gethostname() or not pid_text.isdigit():
        return Liveness.elsewhere
    pid = int(pid_text)
    if pid == os.getpid():
        return Liveness.this_process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Liveness.gone
    except PermissionError:  # someone else's live process
        return Liveness.running
    return Liveness.running


def holder_is_dead(holder: str | None) -> bool:
    """True when nothing holds the claim or the holder's process on this host no longer exists."""
    return liveness(holder) is Liveness.gone


def claim_abandoned(holder: str | None, claimed_at: datetime | None, now: datetime, timeout_seconds: float, *, me: str) -> bool:
    """Whether a claim is to be taken back: its holder is gone, or it is older than the timeout.

    ``me`` (the caller's own holder name) never abandons its claims: it records
    their outcome itself.
    """
    if holder == me:
        return False
    if holder_is_dead(holder) or claimed_at is None:
        return True
    return claimed_at <= now - timedelta(seconds=timeout_seconds)


def backoff(attempt: int, rng: random.Random, *, base: float, cap: float, jitter: float = 0.5) -> float:
    """Seconds before attempt ``attempt + 1``: ``base`` doubling per attempt up to ``cap``, with jitter.

    The delay is drawn in ``[step * (1 - jitter), step]``: clients failing
    together spread out, yet none waits less than that share of the step.
    """
    step = min(cap, base * 2 ** max(0, attempt - 1))
    return step * (1 - jitter) + rng.random() * step * jitter
