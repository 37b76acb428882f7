"""Registers the ``webhooks`` job: capture new events and deliver what is due, every few seconds.

Workspace-wide (one schedule, one lease): whichever process holds the lease
(the worker, or a console that runs jobs) delivers; the lease keeps two
processes from sending the same delivery, and the delivery claims would even
if it did not. The interval is below the harvest's, so a new order reaches
receivers within one harvest interval.
"""

from __future__ import annotations

from shelfdesk.jobs.registry import JobScope, JobSpec, register

INTERVAL = 15

register(
    JobSpec(
        name="webhooks",
        title="Push notifications",
        run="shelfdesk.webhooks.delivery:run_job",
        scope=JobScope.workspace,
        interval=INTERVAL,
        description="Capture order and publication events and POST them, signed, to each subscription.",
    )
)
