"""The demo's first publications: Back Market France's feeds, published to the demo's own sandboxes.

So the Publications screen opens on real history: a dry run of the products
feed, the products run with its failures grouped by cause, and an offers run
that updates the prices and quantities of what the account lists and sends
to 0 the SKUs it carries that the catalog does not have. Everything goes
through the real engine and connector to the demo's live sandboxes (the ones
the demo's orders are harvested from, :mod:`shelfdesk.demo.live`), never to
a real marketplace. Their batches are answered in seconds here and the demo
channel polls every second, so building the demo waits seconds, not minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.engine import PublishResult


def publish_demo(ctx: AppContext, channel_id: int) -> list[PublishResult]:
    """Products dry run, products run, offers run of ``channel_id``, against the demo's live sandboxes."""
    from shelfdesk.demo.build import demo_tokens
    from shelfdesk.demo.speed import start_demo_sandboxes
    from shelfdesk.publishing.engine import publish_sync

    with start_demo_sandboxes(ctx, demo_tokens()):  # batches answered in seconds, polled every second
        return [publish_sync(ctx, channel_id, kind, "update", dry_run=dry, started_by="demo")
                for kind, dry in (("products", True), ("products", False), ("offers", False))]  # fmt: skip
