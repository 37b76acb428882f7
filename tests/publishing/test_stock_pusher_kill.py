"""The stock pusher killed (SIGKILL) mid-push loses no dirty SKU.

The child process pushes through the real connector factory to a sandbox on
the real clock; it is killed once the marketplace applied the real-time update
and before anything was committed locally. The marks are still in the
database, and the next push (this process) settles the interrupted item and
sends the quantity true now; nothing waits afterwards.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.publishing.dirty import read_marks
from shelfdesk.publishing.pusher import INTERRUPTED, push_stock_sync
from shelfdesk.sandbox.server import start_sandboxes
from shelfdesk.services.stock import StockLine, set_stock
from tests.publishing.conftest import kill_at_marker, make_shop

CHILD = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from shelfdesk.channels.base import Connector
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths
    from shelfdesk.publishing.pusher import push_stock_sync

    home, marker, channel = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    ctx = open_context(resolve_paths(home))
    real = Connector.update_listing_now

    async def applied_then_hang(self, **kw):
        answer = await real(self, **kw)
        marker.write_text("applied")
        threading.Event().wait(120)  # killed here: applied there, nothing committed here
        return answer

    Connector.update_listing_now = applied_then_hang
    push_stock_sync(ctx, channel, settle=False)
""")

SKUS = ("IPH13-128-MID-GOOD", "GA52-128-BLK-EXC")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_pusher_killed_mid_push_loses_no_dirty_sku(ctx, clock, tmp_path: Path) -> None:  # noqa: ANN001
    with start_sandboxes(tmp_path / "sb", orders_per_hour=0, task_seconds=0.2, hang_cap=2) as sb:
        shop = make_shop(ctx, sb, clock)
        real = open_context(ctx.paths, clock=SystemClock())
        try:
            shop.set_channel(shop.bm_channel, settings={"batch_poll_seconds": 0.05})
            listings = shop.listings()
            for sku in SKUS:
                shop.add_product(sku, price=listings[sku]["price"], stock=listings[sku]["quantity"])
            shop.publish(shop.bm_channel)  # the listings are known
            set_stock(real, shop.store_id, [StockLine(SKUS[0], 0), StockLine(SKUS[1], listings[SKUS[1]]["quantity"] + 2)])
            with real.read_session() as session:
                assert {m.sku for m in read_marks(session, shop.bm_channel)} == set(SKUS)
            marker = tmp_path / "applied"
            kill_at_marker(CHILD, marker, str(ctx.paths.home), str(marker), str(shop.bm_channel))
            with real.read_session() as session:  # nothing was lost: both still wait
                assert {m.sku for m in read_marks(session, shop.bm_channel)} == set(SKUS)

            result = push_stock_sync(real, shop.bm_channel, settle=False)

            after = shop.listings()
            assert after[SKUS[0]]["quantity"] == 0
            assert after[SKUS[1]]["quantity"] == listings[SKUS[1]]["quantity"] + 2
            with real.read_session() as session:
                assert read_marks(session, shop.bm_channel) == []
            assert result.published >= 1
            from sqlalchemy import select

            from shelfdesk.db.models import PublicationItem

            with real.read_session() as session:
                interrupted = session.execute(select(PublicationItem.sku).where(PublicationItem.message == INTERRUPTED)).scalars().all()
            assert len(interrupted) == 1  # the item the killed pusher left without its answer
        finally:
            real.close()
            shop.bm.close()
            shop.lbc.close()
