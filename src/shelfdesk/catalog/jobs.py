"""The catalog's scheduled job: each store's catalog source and stock feed fetched again when due."""

from __future__ import annotations

from shelfdesk.jobs.registry import DEFAULT_INTERVALS, JobScope, JobSpec, register

register(
    JobSpec(
        name="feeds",
        title="Catalog and stock feeds",
        run="shelfdesk.catalog.feeds:refresh_due",
        scope=JobScope.workspace,
        interval=DEFAULT_INTERVALS["feeds"],
        description="Each store's catalog source (every 15 min) and stock feed (every minute), fetched again when due; "
        "an unchanged feed is not imported",
    )
)
