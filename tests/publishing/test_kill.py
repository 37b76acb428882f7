"""A publishing process killed (SIGKILL) after the marketplace answered and before the local commit.

The child process publishes through the real connector factory (credentials
from the workspace secrets file) to a sandbox on the real clock; it stops at
the checkpoint where the task's per-item answer is in hand and nothing is
committed, and the test kills it there. The next run, in this process,
completes the interrupted one from its task id: each SKU reached the sandbox
in exactly one batch.
"""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.domain import PublicationState
from shelfdesk.publishing.engine import publish_sync
from shelfdesk.sandbox.server import start_sandboxes
from tests.publishing.conftest import kill_at_marker, make_shop

CHILD = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths
    from shelfdesk.publishing.engine import publish_sync

    home, marker, channel = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    ctx = open_context(resolve_paths(home))

    def checkpoint(name):
        if name == "answered":
            marker.write_text("answered")
            threading.Event().wait(120)  # killed here

    publish_sync(ctx, channel, "offers", "update", checkpoint=checkpoint)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_mid_run_the_next_run_completes_without_duplicates(ctx, clock, tmp_path: Path) -> None:  # noqa: ANN001
    with start_sandboxes(tmp_path / "sb", orders_per_hour=0, task_seconds=0.2, hang_cap=2) as sb:
        shop = make_shop(ctx, sb, clock)
        real = open_context(ctx.paths, clock=SystemClock())
        try:
            shop.set_channel(shop.bm_channel, settings={"batch_poll_seconds": 0.05})
            listings = shop.listings()
            for sku in ("IPH13-128-MID-GOOD", "GA52-128-BLK-EXC"):
                shop.add_product(sku, price=listings[sku]["price"], stock=listings[sku]["quantity"] + 3)
            marker = tmp_path / "answered"
            kill_at_marker(CHILD, marker, str(ctx.paths.home), str(marker), str(shop.bm_channel))
            batches_after_kill = shop.batches()
            assert len(batches_after_kill) == 1

            result = publish_sync(real, shop.bm_channel, "offers", "update")

            assert result.recovered["interrupted"] == 1
            assert result.recovered["published"] >= 2
            assert len(shop.batches()) == 1  # nothing was sent again
            counts = Counter(row["sku"] for row in shop.batch_rows())
            assert set(counts.values()) == {1}
            now = shop.listings()
            assert now["IPH13-128-MID-GOOD"]["quantity"] == listings["IPH13-128-MID-GOOD"]["quantity"] + 3
            killed = shop.publication(1)
            assert killed.state is PublicationState.interrupted
            assert killed.succeeded == killed.sent == len(counts)
        finally:
            real.close()
            shop.bm.close()
            shop.lbc.close()
