"""CSV export of the filtered orders: one row per line, order fields repeated, safe to open anywhere.

* **Formula injection.** Every cell goes through
  :func:`shelfdesk.exports.safe_cell`, as in every CSV shelfdesk writes; the
  file appears only once complete (:func:`shelfdesk.exports.atomic_text_file`).
* **No secrets.** Only order tables are read; tokens live in the secrets
  file and never reach a query here.
* **Constant memory.** Orders are read in keyset batches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import select

from shelfdesk.domain import ActionState
from shelfdesk.exports import atomic_text_file, safe_cell
from shelfdesk.orders.queries import OrderFilter, iter_order_ids, lookups
from shelfdesk.orders.store import format_address

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

COLUMNS = (
    "order_id",
    "shelfdesk_id",
    "marketplace",
    "account",
    "channel",
    "store",
    "market",
    "country",
    "status",
    "marketplace_status",
    "purchased_at",
    "modified_at",
    "total",
    "shipping_price",
    "discount_total",
    "currency",
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "ship_to_name",
    "ship_to_company",
    "ship_to_street",
    "ship_to_street2",
    "ship_to_postal_code",
    "ship_to_city",
    "ship_to_country",
    "billing_address",
    "shipping_method",
    "payment_method",
    "carrier",
    "tracking_number",
    "tracking_url",
    "gift",
    "weight_grams",
    "accept_by",
    "ship_by",
    "address_missing",
    "hold_reason",
    "buyer_note",
    "internal_note",
    "sync",
    "line_id",
    "sku",
    "title",
    "quantity",
    "unit_price",
    "line_status",
    "line_marketplace_status",
    "imei",
    "serial_number",
    "stock_location",
    "options",
)


def export_orders(ctx: AppContext, flt: OrderFilter, target: Path | str | IO[str], *, batch: int = 500) -> int:
    """Write every order matching ``flt`` to ``target`` (a path or a text stream); returns the rows written."""
    if isinstance(target, (str, Path)):
        with atomic_text_file(target) as fh:
            return export_orders(ctx, flt, fh, batch=batch)
    writer = csv.writer(target)
    writer.writerow(COLUMNS)
    names = lookups(ctx)
    accounts = _accounts(ctx)
    written = 0
    for ids in iter_order_ids(ctx, flt, batch=batch):
        for row in _rows(ctx, ids, names, accounts):
            writer.writerow([safe_cell(v) for v in row])
            written += 1
    return written


def export_text(ctx: AppContext, flt: OrderFilter) -> str:
    buffer = io.StringIO()
    export_orders(ctx, flt, buffer)
    return buffer.getvalue()


def _accounts(ctx: AppContext) -> dict[int, str]:
    from shelfdesk.db.models import MarketplaceAccount

    with ctx.read_session() as session:
        return dict(session.execute(select(MarketplaceAccount.id, MarketplaceAccount.name)).all())


def _rows(ctx: AppContext, ids: list[int], names: Any, accounts: dict[int, str]) -> Iterable[list[Any]]:
    from shelfdesk.db.models import Order, OrderAction, OrderLine

    with ctx.read_session() as session:
        orders = {o.id: o for o in session.execute(select(Order).where(Order.id.in_(ids))).scalars()}
        lines: dict[int, list[Any]] = {}
        for line in session.execute(select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.id)).scalars():
            lines.setdefault(line.order_id, []).append(line)
        sync: dict[int, str] = {}
        for order_id, state in session.execute(select(OrderAction.order_id, OrderAction.state).where(OrderAction.order_id.in_(ids))):
            if ActionState(state).is_open:
                sync[order_id] = "synchronizing"
            elif state == ActionState.failed and order_id not in sync:
                sync[order_id] = "failed"
    for order_id in ids:  # keep the newest-first order of the filter
        o = orders[order_id]
        address = o.shipping_address or {}
        head = [
            o.marketplace_order_id,
            o.id,
            o.marketplace,
            accounts.get(o.account_id, ""),
            names.channels.get(o.channel_id, ""),
            names.stores.get(o.store_id, ""),
            o.market,
            o.country,
            o.status,
            o.marketplace_status,
            o.purchased_at,
            o.modified_at,
            o.total,
            o.shipping_price,
            o.discount_total,
            o.currency,
            o.buyer_name,
            o.buyer_email,
            o.buyer_phone,
            " ".join(str(address[k]) for k in ("first_name", "last_name") if address.get(k)) or address.get("name"),
            address.get("company"),
            address.get("street"),
            address.get("street2"),
            address.get("postal_code"),
            address.get("city"),
            address.get("country"),
            format_address(o.billing_address),
            o.shipping_method,
            o.payment_method,
            o.carrier,
            o.tracking_number,
            o.tracking_url,
            o.gift,
            o.weight_grams,
            o.accept_by,
            o.ship_by,
            o.address_missing,
            o.hold_reason,
            o.buyer_note,
            o.internal_note,
            sync.get(o.id, ""),
        ]
        order_lines = lines.get(order_id) or [None]
        for line in order_lines:
            if line is None:
                yield head + [""] * 11
                continue
            options = "; ".join(f"{k}={v}" for k, v in sorted((line.options or {}).items()))
            yield head + [
                line.marketplace_line_id,
                line.sku,
                line.title,
                line.quantity,
                line.unit_price,
                line.status,
                line.marketplace_status,
                line.imei,
                line.serial_number,
                line.stock_location,
                options,
            ]
