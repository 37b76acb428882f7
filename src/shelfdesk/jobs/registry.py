"""The job registry: job name → the function that does the work, with its default schedule.

Why a registry: the scheduler, the worker, the console and the CLI must run
the same jobs without knowing what they do, and each service (orders,
publishing, catalog) owns its own job function. A service registers a
:class:`JobSpec`; this package only claims leases, records runs and keeps time.

**Registering a job** (the registration point for every service)::

    # in the service's module, e.g. shelfdesk/publishing/jobs.py
    from shelfdesk.jobs.registry import JobScope, JobSpec, register

    async def publish_offers(ctx: AppContext, channel_id: int | None) -> dict[str, int]:
        ...  # do the work; raise on failure
        return {"items_sent": 120, "items_failed": 2}

    register(JobSpec(
        name="offers", title="Offers publication", run=publish_offers,
        scope=JobScope.channel, interval=DEFAULT_INTERVALS["offers"],
        applies=lambda ch: ch.enabled and ch.offers_feed_enabled,
    ))

then add the module's name to :data:`JOB_MODULES` (one line). Modules are
imported lazily, the first time the jobs are needed, so the console's first
frame never waits for them. ``SHELFDESK_JOB_MODULES`` (comma-separated) adds
modules at run time (plugins, tests).

**The contract of a job function.** It takes ``(ctx, channel_id)`` —
``channel_id`` is None for workspace-wide jobs — and returns a mapping of
counts (``{"orders_new": 3}``). It may be ``async`` (run on the process's
event loop; it must await rather than block) or plain (run in a thread). It
raises to fail: the runner records the error and the traceback. It returns an
*empty* mapping when there was nothing to do, which is recorded as
``skipped`` (and pruned sooner than real work). It must be safe to stop at any
await point (shutdown cancels it) and safe to run again after a crash: the
lease makes it run once at a time, not exactly once.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from shelfdesk.context import AppContext

log = logging.getLogger("shelfdesk.jobs")

Counts = Mapping[str, int]
JobFunction = Callable[["AppContext", "int | None"], "Counts | Awaitable[Counts]"]

#: Modules that register jobs when imported. Services add their module here (one line each).
JOB_MODULES: list[str] = [
    "shelfdesk.jobs.tasks",
    "shelfdesk.publishing.jobs",
    "shelfdesk.webhooks.jobs",
    "shelfdesk.catalog.jobs",
    "shelfdesk.jobs.escalation",
]
ENV_JOB_MODULES = "SHELFDESK_JOB_MODULES"

#: Default intervals (seconds); an operator changes them per channel.
DEFAULT_INTERVALS: dict[str, int] = {
    "harvest": 60,  # order harvest every minute
    "outbox": 5,  # outbox sender: continuously, a few seconds between sweeps
    "stock": 5,  # stock pusher: dirty SKUs to the marketplace within seconds
    "drift": 24 * 3600,  # drift check: the marketplace's listings against what shelfdesk would send, daily
    "feeds": 5,  # stores' catalog and stock feeds: a look every 5 s, each fetched when its own interval is due
    "offers": 5 * 60,  # offers publication (update mode)
    "products": 24 * 3600,  # products publication, daily
    "repricer": 3600,  # repricer, hourly, where enabled
    "tokens": 24 * 3600,  # token expiry check, daily
    "retention": 24 * 3600,  # pruning old rows, daily
}


class JobScope(StrEnum):
    """What one schedule of a job is for."""

    channel = "channel"  #: one schedule per channel the job applies to
    account = "account"  #: one per marketplace account (on its first channel the job applies to)
    workspace = "workspace"  #: one for the whole workspace (``channel_id`` None)


@dataclass(frozen=True)
class ChannelFacts:
    """What :attr:`JobSpec.applies` may look at to decide whether a channel gets the job."""

    id: int
    name: str
    account_id: int
    account_name: str
    marketplace: str
    enabled: bool
    orders_enabled: bool
    products_feed_enabled: bool
    offers_feed_enabled: bool
    repricer_enabled: bool
    publication_active: bool = False
    """The operator activated publication (three green lights, then A): feeds and repricer may run."""


def _enabled(channel: ChannelFacts) -> bool:
    return channel.enabled


@dataclass(frozen=True)
class JobSpec:
    """One kind of job: what runs, for what, how often by default."""

    name: str
    """Short, stable name: part of schedule keys (``harvest:3``) and of the CLI."""
    title: str
    """Words for the console (``Order harvest``)."""
    run: JobFunction | str
    """The function, or ``"module:function"`` imported when first run."""
    scope: JobScope = JobScope.channel
    interval: int = 3600
    """Default seconds between runs for new schedules."""
    applies: Callable[[ChannelFacts], bool] = field(default=_enabled)
    """Which channels get a schedule (channel and account scopes), checked again before each run."""
    description: str = ""
    last_done: Callable[[AppContext, int | None], datetime | None] | None = None
    """When the job's work was last done outside its schedule (an operator's publication, the demo's
    first ones): the next scheduled run comes an interval after the later of that and the last run."""

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name or " " in self.name:
            raise ValueError(f"job name {self.name!r} must be one word without ':'")
        if self.interval < 1:
            raise ValueError(f"job {self.name}: interval must be at least 1 second")

    def function(self) -> JobFunction:
        """The callable, importing it on first use when given as ``module:function``."""
        if callable(self.run):
            return self.run
        module_name, _, attr = self.run.partition(":")
        return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]

    def is_async(self) -> bool:
        """True for ``async def`` functions (and objects whose ``__call__`` is one): they run on the loop."""
        function = self.function()
        return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(getattr(function, "__call__", None))


_registry: dict[str, JobSpec] = {}
_loaded = False
_problems: list[str] = []


def register(spec: JobSpec) -> JobSpec:
    """Add ``spec`` (a later registration of the same name replaces it, with a log line)."""
    if spec.name in _registry and _registry[spec.name] is not spec:
        log.info("job %s registered again; the new definition replaces the old one", spec.name)
    _registry[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Forget a job (tests; a service switched off)."""
    _registry.pop(name, None)


def _modules() -> list[str]:
    extra = [m.strip() for m in os.environ.get(ENV_JOB_MODULES, "").split(",") if m.strip()]
    return [*JOB_MODULES, *extra]


def load_jobs() -> dict[str, JobSpec]:
    """Every registered job, importing the registering modules the first time.

    A module that fails to import is logged and listed by :func:`load_problems`
    (``shelfdesk status`` prints them) instead of stopping every other job.
    """
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _modules():
            try:
                importlib.import_module(module)
            except Exception as exc:  # a broken service must not stop the others
                message = f"job module {module} failed to import: {type(exc).__name__}: {exc}"
                log.error(message)
                _problems.append(message)
    return dict(_registry)


def load_problems() -> list[str]:
    """Why some jobs are missing (modules that failed to import)."""
    load_jobs()
    return list(_problems)


def get_job(name: str) -> JobSpec | None:
    return load_jobs().get(name)


def done_by_hand(ctx: AppContext, job: str, channel_id: int | None) -> datetime | None:
    """When ``job``'s work was last done outside its schedule (``JobSpec.last_done``); None when unknown.

    A failing hook is logged and ignored: the schedule then runs as if the work was never done by hand.
    """
    spec = get_job(job)
    if spec is None or spec.last_done is None:
        return None
    try:
        return spec.last_done(ctx, channel_id)
    except Exception:
        log.exception("job %s: could not tell when it was last done by hand", job)
        return None


def job_key(job: str, channel_id: int | None) -> str:
    """The key of a schedule, lease and alert target: ``job`` or ``job:channel_id``."""
    return job if channel_id is None else f"{job}:{channel_id}"


def split_key(key: str) -> tuple[str, int | None]:
    """``"harvest:3"`` → ``("harvest", 3)``; ``"outbox"`` → ``("outbox", None)``."""
    job, _, channel = key.partition(":")
    if channel and not channel.isdigit():
        raise ValueError(f"{key!r} is not a job key (job or job:channel_id)")
    return job, int(channel) if channel else None


def reset_for_tests(specs: Mapping[str, JobSpec] | None = None) -> None:
    """Replace the registry's content (tests only); ``None`` reloads the real modules next time."""
    global _loaded
    _registry.clear()
    _problems.clear()
    if specs is None:
        _loaded = False
    else:
        _registry.update(specs)
        _loaded = True


def describe(spec: JobSpec) -> dict[str, Any]:
    """Plain data about a job (CLI ``--json``)."""
    return {"name": spec.name, "title": spec.title, "scope": spec.scope.value, "interval": spec.interval, "description": spec.description}
