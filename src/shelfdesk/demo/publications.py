"""The demo's first publications: Back Market France's feeds, published to the demo's own sandbox.

So the Publications screen opens on real history: a dry run, a products run
whose failures are grouped by cause, and an offers run that sends to 0 the
listings the account carries but the catalog does not have. Everything goes
through the real engine and connector, to the in-process Back Market sandbox
the demo's set-up already uses (same state folder), never to the real
marketplace. Its tasks are processed in seconds, and the run polls every
second, so building the demo waits a few seconds, not minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.engine import PublishResult

SANDBOX_FOLDER = "demo-backmarket"
TASK_SECONDS = 2.0


def publish_demo(ctx: AppContext, channel_id: int, token: str) -> list[PublishResult]:
    """Dry run, then products and offers runs of ``channel_id``, against the demo's Back Market sandbox."""
    import httpx
    from sqlalchemy import update

    from shelfdesk.db.models import Channel
    from shelfdesk.orders.connect import connect, load_account
    from shelfdesk.publishing.engine import publish_sync
    from shelfdesk.sandbox.backmarket import BackMarketSandbox

    sandbox = BackMarketSandbox(ctx.paths.sandbox_dir / SANDBOX_FOLDER, clock=ctx.clock, token=token,
                                orders_per_hour=0, task_seconds=TASK_SECONDS)  # fmt: skip
    with ctx.write_session() as session:  # poll the demo's fast tasks every second
        channel = session.get(Channel, channel_id)
        assert channel is not None
        session.execute(update(Channel).where(Channel.id == channel_id)
                        .values(settings={**(channel.settings or {}), "batch_poll_seconds": 1}))  # fmt: skip

    def factory(spec):  # type: ignore[no-untyped-def]
        transport = httpx.ASGITransport(app=sandbox.app)
        return connect(ctx, load_account(ctx, spec.account_id), transport=transport, language=spec.market)

    return [publish_sync(ctx, channel_id, kind, "update", dry_run=dry, factory=factory, started_by="demo")
            for kind, dry in (("products", True), ("products", False), ("offers", False))]  # fmt: skip
