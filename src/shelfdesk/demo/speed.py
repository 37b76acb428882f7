"""The demo's live sandboxes answer batches in seconds, and the demo's channels poll them every second.

The sandboxes take a realistic 120 s to process a listing batch or a feed by
default (Back Market's tasks take about 5 minutes on average [C]), and the
connectors poll every 30 s: right for the contract tests and for
``shelfdesk sandbox``, but a publish started from the demo console would wait
about two minutes. The demo is the first thing anyone tries, so its own
sandboxes answer in :data:`TASK_SECONDS` and its channels poll every
:data:`POLL_SECONDS`; nothing outside the demo changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.domain import Marketplace
    from shelfdesk.sandbox.server import RunningSandboxes

TASK_SECONDS = 2.0
POLL_SECONDS = 1.0
#: Back Market's review of a product proposal, in the demo (the sandbox's default is 10 minutes).
REVIEW_SECONDS = 60.0


def make_fast(ctx: AppContext, running: RunningSandboxes) -> RunningSandboxes:
    """Short task times on the demo's running sandboxes, and a matching poll cadence on every demo channel."""
    from sqlalchemy import select

    from shelfdesk.db.models import Channel

    running.backmarket.task_seconds = TASK_SECONDS
    running.backmarket.review_seconds = REVIEW_SECONDS
    running.leboncoin.feed_seconds = TASK_SECONDS
    with ctx.write_session() as session:
        for channel in session.execute(select(Channel)).scalars():
            if (channel.settings or {}).get("batch_poll_seconds") != POLL_SECONDS:
                channel.settings = {**(channel.settings or {}), "batch_poll_seconds": POLL_SECONDS}
    return running


def start_demo_sandboxes(ctx: AppContext, tokens: dict[Marketplace, str], *, orders_per_hour: float = 0.0) -> RunningSandboxes:
    """The demo's live sandboxes (:func:`shelfdesk.demo.live.start_live`), fast."""
    from shelfdesk.demo.live import start_live

    return make_fast(ctx, start_live(ctx, tokens, orders_per_hour=orders_per_hour))
