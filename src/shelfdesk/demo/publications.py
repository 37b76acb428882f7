"""The demo's first publications: both feeds of Back Market France and Leboncoin France, to the demo's sandboxes.

So the Publications screen opens on real history: for Back Market France a
dry run of the products feed, the products run (models Back Market's catalog
does not know fail by EAN) and an offers run that updates the prices and
quantities of what the account lists and sends to 0 the SKUs it carries that
the catalog does not have; for Leboncoin France a products run whose
"Signs of wear" products are refused by shelfdesk's own validation (the
condition value map forgets that word, see :mod:`shelfdesk.demo.catalog_setup`)
and an offers run. Everything goes through the real engine and connectors to
the demo's live sandboxes (the ones the demo's orders are harvested from,
:mod:`shelfdesk.demo.live`), never to a real marketplace. Their batches are
answered in seconds here and the demo channels poll every second; the two
channels publish side by side (two accounts, two marketplaces, one thread
each, as the scheduler would run them), so building the demo waits seconds,
not minutes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.engine import PublishResult

#: Back Market France: the products feed planned first (a dry run), then both feeds.
BACK_MARKET_RUNS = (("products", True), ("products", False), ("offers", False))
#: Leboncoin France: both feeds.
LEBONCOIN_RUNS = (("products", False), ("offers", False))


def publish_demo(ctx: AppContext, backmarket_id: int, leboncoin_id: int) -> list[PublishResult]:
    """Back Market France's and Leboncoin France's runs, against the demo's sandboxes
    (running: :func:`shelfdesk.demo.speed.start_demo_sandboxes`)."""
    with ThreadPoolExecutor(2, thread_name_prefix="demo-publish") as pool:
        runs = [pool.submit(_runs, ctx, backmarket_id, BACK_MARKET_RUNS), pool.submit(_runs, ctx, leboncoin_id, LEBONCOIN_RUNS)]
        return [result for run in runs for result in run.result()]


def _runs(ctx: AppContext, channel_id: int, runs: tuple[tuple[str, bool], ...]) -> list[PublishResult]:
    from shelfdesk.publishing.engine import publish_sync

    return [publish_sync(ctx, channel_id, kind, "update", dry_run=dry, started_by="demo") for kind, dry in runs]
