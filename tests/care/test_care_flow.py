"""Care end to end on the Back Market sandbox: harvest, reply, problem, transfer, refunds, credit notes, returns.

What reached the marketplace is read from the sandbox's own request log and
effects, never from shelfdesk's bookkeeping.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from shelfdesk.db.models import CareRefund, Invoice, OrderAction
from shelfdesk.domain import ActionState
from shelfdesk.services import care
from shelfdesk.services.care import CareError
from tests.care.conftest import buyer_writes, care_harvest, open_case, shipped_order
from tests.orders.conftest import Desk


def _posts(desk: Desk, path: str) -> list[dict]:
    return [e for e in desk.requests("backmarket") if e["method"] == "POST" and e["path"] == path]


def _case(desk: Desk, **spec: object) -> tuple[dict, care.CaseRow]:
    order = shipped_order(desk)
    folder = open_case(desk, order["order_id"], issue="BATTERY_NOT_CHARGING", resolution="REFUND", return_label=True, **spec)
    result = care_harvest(desk)
    assert result.error is None and result.cases_new == 1
    rows = care.list_cases(desk.ctx)
    assert [r.case_id for r in rows] == [str(folder["id"])]
    return folder, rows[0]


def test_a_case_is_harvested_with_its_order_claims_and_thread_and_is_due_for_an_answer(desk: Desk) -> None:
    folder, row = _case(desk)
    assert row.state == "open" and row.order_ref is not None and row.problem == "BATTERY_NOT_CHARGING"
    assert row.resolution == "REFUND" and row.return_label == "ALIVE" and row.due_what == "answer"
    assert row.due_at == row.last_message_at + timedelta(hours=48)
    detail = care.get_case(desk.ctx, row.case_id)
    assert [m.sender for m in detail.timeline] == ["buyer"]
    assert detail.lines and detail.lines[0].refund_types == (6,)
    assert detail.raw["id"] == folder["id"]
    # Nothing changed: the next poll reads the list and no detail.
    again = care_harvest(desk)
    assert again.detailed == 0 and again.cases_updated == 0


def test_a_reply_is_sent_once_and_confirmed_by_the_thread(desk: Desk) -> None:
    folder, row = _case(desk)
    queued = care.queue_reply(desk.ctx, row.case_id, "Bonjour, nous vous envoyons une étiquette de retour.")
    again = care.queue_reply(desk.ctx, row.case_id, "Bonjour, nous vous envoyons une étiquette de retour.")
    assert queued.created and not again.created and again.action_id == queued.action_id
    assert care.list_cases(desk.ctx)[0].synchronizing
    counts = care.send_actions(desk.ctx, {queued.action_id}, max_wait=10)
    assert counts == {"confirmed": 1}
    assert len(_posts(desk, f"/ws/sav/{folder['id']}/msg")) == 1
    detail = care.get_case(desk.ctx, row.case_id)
    assert [m.sender for m in detail.timeline if m.kind != "action"][-1] == "merchant"
    assert detail.case.due_what == "resolve" and not detail.case.synchronizing


def test_problem_and_item_transfer_are_sent_once(desk: Desk) -> None:
    folder, row = _case(desk)
    problem = care.queue_problem(desk.ctx, row.case_id, "OTHER", "Le client a fait tomber l'appareil")
    assert sum(care.send_actions(desk.ctx, {problem.action_id}, max_wait=10).values()) == 1
    assert len(_posts(desk, f"/ws/sav/{folder['id']}/problem")) == 1
    # Item transfers: Back Market takes them on the old platform's folders only (below id 100,000,000).
    legacy = open_case(desk, shipped_order(desk, ["NSW-OLED-WHT-EXC"])["order_id"], legacy=True)
    care_harvest(desk)
    transfer = care.queue_transfer(desk.ctx, str(legacy["id"]), "Colissimo", "6A12345", "REPAIR")
    counts = care.send_actions(desk.ctx, {transfer.action_id}, max_wait=10)
    assert sum(counts.values()) == 1 and not counts.get("failed"), counts
    assert len(_posts(desk, f"/ws/sav/{legacy['id']}/item-transfer")) == 1
    with pytest.raises(CareError, match="needs at least one attachment"):
        care.queue_problem(desk.ctx, row.case_id, "DAMAGED_PACKAGE")
    with pytest.raises(CareError, match="carrier and a tracking number"):
        care.queue_transfer(desk.ctx, row.case_id, "", "X")


def test_a_partial_refund_after_shipping_never_exceeds_what_is_left(desk: Desk) -> None:
    _, row = _case(desk)
    quote = care.quote_refund(desk.ctx, row.case_id, amount="50")
    assert quote.refund_type == 6 and quote.amount == Decimal("50.00") and not quote.full and quote.buyer
    left = quote.refundable
    with pytest.raises(CareError, match="above what is left"):
        care.quote_refund(desk.ctx, row.case_id, amount=str(left + Decimal("0.01")))
    for bad in ("0", "-3", "1.001", "abc"):
        with pytest.raises(CareError):
            care.quote_refund(desk.ctx, row.case_id, amount=bad)
    first = care.queue_refund(desk.ctx, row.case_id, amount="50")
    # Queued and not yet sent, it already counts: a second one cannot overtake it.
    with pytest.raises(CareError, match="above what is left"):
        care.queue_refund(desk.ctx, row.case_id, amount=str(left))
    assert care.send_actions(desk.ctx, {first.action_id}, max_wait=10) == {"confirmed": 1}
    rest = care.queue_refund(desk.ctx, row.case_id)  # the remainder
    assert care.send_actions(desk.ctx, {rest.action_id}, max_wait=10) == {"confirmed": 1}
    refunds = _posts(desk, "/ws/sav/refund")
    assert [r["body"]["amount"] for r in refunds] == [50.0, float(left - 50)]
    with pytest.raises(CareError, match="cannot be refunded"):
        care.quote_refund(desk.ctx, row.case_id)
    desk.harvest()  # the order harvest sees the line refunded: nothing more is recorded
    rows = [r for r in care.list_refunds(desk.ctx) if r.order_ref == row.order_ref]
    assert sorted(r.amount for r in rows) == sorted([Decimal("50.00"), left - 50]) and {r.source for r in rows} == {"shelfdesk"}


def test_a_refund_whose_answer_was_lost_is_read_back_not_sent_again(desk: Desk) -> None:
    _, row = _case(desk)
    queued = care.queue_refund(desk.ctx, row.case_id, amount="20")
    # The marketplace applies the refund, then the answer is lost (a 502 after the effect).
    desk.fault("backmarket", kind="502", method="POST", path="/ws/sav/refund", after_effect=True, count=1)
    counts = care.send_actions(desk.ctx, {queued.action_id}, max_wait=3600)
    assert counts.get("confirmed") == 1, counts
    assert len(desk.effects("backmarket", "care_refund")) == 1
    assert len(_posts(desk, "/ws/sav/refund")) == 1  # read back, never sent a second time


def test_a_refund_the_back_office_made_is_recorded_once_and_credited(desk: Desk) -> None:
    order = shipped_order(desk)
    _invoice(desk, order)
    line = order["orderlines"][0]
    # Someone refunds in the Back Office (the same API, outside shelfdesk).
    response = desk.bm.post(
        "/ws/sav/refund",
        json={"orderline_pk": line["id"], "refund_type": 6, "amount": 30.0},
        headers={"Authorization": f"Basic {desk_token()}", "User-Agent": "BM-Acme-shelfdesk;ops@acme.test", "Accept-Language": "fr-fr"},
    )
    assert response.status_code == 201, response.text
    desk.clock.advance(60)
    desk.harvest()
    desk.harvest()
    rows = [r for r in care.list_refunds(desk.ctx) if r.order_ref == str(order["order_id"])]
    assert [(r.amount, r.source, r.state) for r in rows] == [(Decimal("30.00"), "marketplace", "confirmed")]
    note = _credit_notes(desk)
    assert [n.total for n in note] == [Decimal("-30.00")]


def desk_token() -> str:
    from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN

    return DEFAULT_TOKEN


def _invoice(desk: Desk, order: dict) -> str:
    from shelfdesk.invoices.service import generate_invoice
    from shelfdesk.invoices.settings import update_settings

    update_settings(desk.ctx, "Refurb Paris", {"seller_name": "Refurb Paris SAS", "seller_address": "1 rue de Paris\n75001 Paris"})
    return generate_invoice(desk.ctx, str(order["order_id"]), upload=False).number


def _credit_notes(desk: Desk) -> list[Invoice]:
    with desk.ctx.read_session() as session:
        return list(session.execute(select(Invoice).where(Invoice.kind == "credit_note").order_by(Invoice.id)).scalars())


def test_credit_notes_match_refunds_to_the_cent_with_vat_per_rate(desk: Desk) -> None:
    _, row = _case(desk)
    number = _invoice(desk, {"order_id": row.order_ref})
    for amount in ("33.33", "0.01", "19.99"):
        queued = care.queue_refund(desk.ctx, row.case_id, amount=amount, reason="geste commercial")
        assert care.send_actions(desk.ctx, {queued.action_id}, max_wait=10) == {"confirmed": 1}
    notes = _credit_notes(desk)
    assert [n.total for n in notes] == [Decimal("-33.33"), Decimal("-0.01"), Decimal("-19.99")]
    for note in notes:
        assert note.total_net + note.total_vat == note.total
        assert note.document["credited"]["number"] == number and note.credited_invoice_id is None
        assert sum(Decimal(r["gross"]) for r in note.document["rates"]) == note.total
    with desk.ctx.read_session() as session:
        refunds = list(session.execute(select(CareRefund).where(CareRefund.order_id == row.order_id).order_by(CareRefund.id)).scalars())
    assert [r.credit_note_id for r in refunds] == [n.id for n in notes]


def test_a_returned_unit_stays_out_of_offers_until_released(desk: Desk) -> None:
    from shelfdesk.services.stock import stock_view
    from tests.orders.conftest import add_products

    add_products(desk.ctx, desk.store_id, {"APP1-WHT-EXC": 5})
    _, row = _case(desk)
    before = stock_view(desk.ctx, desk.store_id, "APP1-WHT-EXC")
    queued = care.queue_refund(desk.ctx, row.case_id)  # all of it: the unit comes back
    assert care.send_actions(desk.ctx, {queued.action_id}, max_wait=10) == {"confirmed": 1}
    units = care.returned_units(desk.ctx)
    assert [(u.sku, u.quantity, u.state) for u in units] == [("APP1-WHT-EXC", 1, "to_inspect")]
    held = stock_view(desk.ctx, desk.store_id, "APP1-WHT-EXC")
    assert held.held == before.held + 1
    released = care.release_returned(desk.ctx, units[0].id, "sellable", note="tested, fine")
    assert released.state == "sellable" and released.released_by
    assert stock_view(desk.ctx, desk.store_id, "APP1-WHT-EXC").held == before.held
    with pytest.raises(CareError, match="already released"):
        care.release_returned(desk.ctx, units[0].id, "written_off")
    from shelfdesk.db.models import AuditLog

    with desk.ctx.read_session() as session:
        actions = Counter(session.execute(select(AuditLog.action)).scalars())
    assert actions["stock.returned"] == 1 and actions["stock.release_sellable"] == 1


def test_a_new_buyer_message_brings_the_case_back_with_an_answer_due(desk: Desk) -> None:
    folder, row = _case(desk)
    queued = care.queue_reply(desk.ctx, row.case_id, "Nous regardons.")
    care.send_actions(desk.ctx, {queued.action_id}, max_wait=10)
    desk.clock.advance(600)
    buyer_writes(desk, folder["id"], "Toujours rien ?")
    result = care_harvest(desk)
    assert result.messages_new == 1
    assert care.list_cases(desk.ctx)[0].due_what == "answer"
    with desk.ctx.read_session() as session:
        assert session.execute(select(OrderAction.state)).scalars().all() == [ActionState.confirmed]


def test_attachments_are_listed_then_downloaded_once_into_the_workspace(desk: Desk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, row = _case(desk)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a photo")
    queued = care.queue_reply(desk.ctx, row.case_id, "Voici la photo du colis.", attachments=[photo])
    care.send_actions(desk.ctx, {queued.action_id}, max_wait=10)
    detail = care.get_case(desk.ctx, row.case_id)
    [attachment] = detail.attachments
    assert attachment.local_path is None and attachment.name.endswith("photo.jpg")
    path = care.download_attachment(desk.ctx, attachment.id)
    assert path.read_bytes() == photo.read_bytes() and str(path).startswith(str(desk.ctx.paths.home))
    gets = len([e for e in desk.requests("backmarket") if "/_sandbox/care/attachments/" in e["path"]])
    assert care.download_attachment(desk.ctx, attachment.id) == path  # once: the file is reused
    assert len([e for e in desk.requests("backmarket") if "/_sandbox/care/attachments/" in e["path"]]) == gets
    assert care.get_case(desk.ctx, row.case_id).attachments[0].local_path == path


def test_a_cancelled_leboncoin_order_shows_as_refunded(desk: Desk) -> None:
    from shelfdesk.orders.detail import get_order_detail
    from shelfdesk.orders.queries import OrderFilter, list_orders

    [order] = desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="cancelled")
    desk.harvest()
    desk.harvest()
    ref = str(order.get("order_id") or order.get("id"))
    detail = get_order_detail(desk.ctx, ref)
    assert str(detail.status) == "Canceled" and detail.refunded == detail.total and "" in detail.refunds
    rows = [r for r in care.list_refunds(desk.ctx) if r.order_ref == ref]
    assert [(r.amount, r.source, r.line_ref) for r in rows] == [(detail.total, "marketplace", None)]
    refunded = list_orders(desk.ctx, OrderFilter(refunded=True)).rows
    assert ref in [r.marketplace_order_id for r in refunded] and all(r.refunded for r in refunded)
    assert ref not in [r.marketplace_order_id for r in list_orders(desk.ctx, OrderFilter(refunded=False)).rows]
