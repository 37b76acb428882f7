"""Scheduled sync jobs: registry, schedules, leases, runs, the scheduler and the headless worker.

How the pieces fit (each module's docstring says why it is built that way):

* :mod:`~shelfdesk.jobs.registry` — job name → function ``(ctx, channel_id) -> counts``.
  Services register their jobs there; nothing else knows what a job does.
* :mod:`~shelfdesk.jobs.schedules` — the schedules in the database (seeded per
  channel from the registry's defaults, edited by operators, versioned so every
  process notices an edit), pause and resume.
* :mod:`~shelfdesk.jobs.leases` — the portable conditional-UPDATE lease that makes a
  job run once at a time, and once per interval, across consoles and workers.
* :mod:`~shelfdesk.jobs.runs` — run records (counts, outcome, error, traceback) and
  the queries the Jobs screen, alerts and ``shelfdesk status`` read.
* :mod:`~shelfdesk.jobs.runner` — runs one job: lease, record, call, renew, release.
* :mod:`~shelfdesk.jobs.scheduler` — APScheduler 3 (in memory) as the timer of one process.
* :mod:`~shelfdesk.jobs.worker` — the headless process (``shelfdesk worker``).

Nothing in this package imports Textual.
"""
