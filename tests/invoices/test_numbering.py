"""Gapless, unique numbering: two OS processes issuing at once, rollbacks, chosen numbers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shelfdesk.context import AppContext
from shelfdesk.invoices import service
from shelfdesk.invoices.errors import InvoiceError, NumberTaken
from tests.invoices.conftest import make_order

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths
    from shelfdesk.invoices.service import generate_invoice

    home, go, ids = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(",")
    ctx = open_context(resolve_paths(home))
    while not go.exists():  # both processes start issuing at the same moment
        time.sleep(0.005)
    for order_id in ids:
        print(generate_invoice(ctx, "#" + order_id).number, flush=True)
    ctx.close()
    """
)


@pytest.mark.slow
def test_two_processes_issuing_at_once_leave_no_gap_and_no_duplicate(ctx: AppContext, seller_store: Any, tmp_path: Path) -> None:
    seller_store(prefix="INV-", number_digits=4)
    ids = [make_order(ctx, marketplace_order_id=f"P{n}") for n in range(16)]
    go = tmp_path / "go"
    halves = [ids[0::2], ids[1::2]]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(ctx.paths.home), str(go), ",".join(map(str, half))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in halves
    ]
    time.sleep(0.2)  # let both import and open the workspace  # noqa: S110 - real processes, real time
    go.touch()
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    printed = [line for out, _ in outputs for line in out.split()]
    assert len(printed) == 16
    from shelfdesk.db.models import Invoice

    with ctx.read_session() as session:
        numbers = sorted(session.execute(select(Invoice.sequence_number).where(Invoice.prefix == "INV-")).scalars())
        per_order = session.execute(select(Invoice.order_id)).scalars().all()
    assert numbers == list(range(1, 17))  # no gap, no duplicate
    assert sorted(printed) == [f"INV-{n:04d}" for n in range(1, 17)]
    assert sorted(per_order) == sorted(ids)  # one invoice per order


def test_a_failure_after_allocation_gives_the_number_back(ctx: AppContext, seller_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seller_store()
    first, second = make_order(ctx, marketplace_order_id="A1"), make_order(ctx, marketplace_order_id="A2")
    from shelfdesk.invoices import render

    def broken(document: dict[str, Any]) -> bytes:
        raise RuntimeError("disk full while rendering")

    monkeypatch.setattr(render, "render_pdf", broken)
    with pytest.raises(RuntimeError):
        service.generate_invoice(ctx, f"#{first}")
    monkeypatch.undo()
    assert service.list_invoices(ctx) == []
    assert service.generate_invoice(ctx, f"#{second}").number == "F00001"
    assert service.generate_invoice(ctx, f"#{first}").number == "F00002"


def test_chosen_numbers_keep_the_series_gapless(ctx: AppContext, seller_store: Any) -> None:
    seller_store(prefix="F2026-")
    a, b, c = (make_order(ctx, marketplace_order_id=f"C{n}") for n in range(3))
    # A prefix with no invoice may start anywhere (a series continued from another tool).
    assert service.preview_invoice(ctx, f"#{a}").prefix_in_use is False
    assert service.generate_invoice(ctx, f"#{a}", number=458).number == "F2026-00458"
    with pytest.raises(NumberTaken, match="next one is 459"):
        service.generate_invoice(ctx, f"#{b}", number=470)
    with pytest.raises(NumberTaken):
        service.generate_invoice(ctx, f"#{b}", number=457)
    assert service.generate_invoice(ctx, f"#{b}", number=459).number == "F2026-00459"
    assert service.generate_invoice(ctx, f"#{c}").number == "F2026-00460"


def test_next_number_can_only_be_set_while_the_prefix_is_unused(ctx: AppContext, seller_store: Any) -> None:
    from shelfdesk.invoices.settings import update_settings

    info = seller_store(next_number=100)
    assert info.next_number == 100
    service.generate_invoice(ctx, f"#{make_order(ctx, marketplace_order_id='N1')}")
    with pytest.raises(InvoiceError, match="gapless"):
        update_settings(ctx, "Refurb FR", {"next_number": 5})
    # A new prefix starts a new series.
    assert update_settings(ctx, "Refurb FR", {"prefix": "G", "next_number": 7}).next_number == 7
