"""Bulk ship from a CSV file: preview first (what will be sent, what cannot and why), then queue.

The file has one row per parcel, or one row per unit when IMEIs are given:
``order_id``, ``carrier``, ``tracking_number`` and optionally ``tracking_url``,
``imei``, ``serial_number`` and ``sku`` (to say which line an IMEI belongs
to). Comma or semicolon separated, UTF-8 (with or without BOM). Rows of the
same order are grouped. For a marketplace whose shipping action is "confirm
shipping" (Leboncoin) the row confirms shipping and shelfdesk keeps the
tracking number (sent to the buyer as a message by the connector).

Nothing is queued by :func:`plan_bulk_ship`; :func:`apply_bulk_ship` queues
the valid rows in one transaction after validating them again (the order may
have changed since the preview), under one batch key for the progress bar.
:func:`write_refused` saves the rows that cannot be applied, as they were
typed plus why, to a file to fix and feed back in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shelfdesk.domain import ActionKind
from shelfdesk.exports import atomic_text_file, safe_cell, unsafe_cell
from shelfdesk.orders.actions import BulkQueued, find_order_ids, order_facts_many, prepare_for, queue_many
from shelfdesk.orders.errors import ActionRefused, OrderError
from shelfdesk.orders.validation import LineIdentifier, OrderFacts, PreparedAction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

HEADERS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "order", "order id", "marketplace_order_id", "order number", "commande"),
    "carrier": ("carrier", "shipper", "transporteur"),
    "tracking_number": ("tracking_number", "tracking", "tracking number", "numero de suivi", "suivi"),
    "tracking_url": ("tracking_url", "tracking url"),
    "imei": ("imei",),
    "serial_number": ("serial_number", "serial", "serial number"),
    "sku": ("sku",),
}
MAX_FILE_BYTES = 20_000_000
#: The column :func:`write_refused` adds; a bulk ship reading the fixed file back ignores it.
REASON_COLUMN = "refused because"


@dataclass(frozen=True)
class BulkShipItem:
    """One order of the file: the rows it came from, and what will happen to it."""

    rows: tuple[int, ...]  #: line numbers in the file (the header is line 1)
    order: str
    order_id: int | None = None
    kind: ActionKind | None = None
    summary: str = ""
    error: str | None = None
    field: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def where(self) -> str:
        return "line " + ", ".join(str(r) for r in self.rows) if len(self.rows) > 1 else f"line {self.rows[0]}"


@dataclass
class BulkShipPlan:
    source: str
    items: list[BulkShipItem] = field(default_factory=list)

    @property
    def valid(self) -> list[BulkShipItem]:
        return [i for i in self.items if i.ok]

    @property
    def invalid(self) -> list[BulkShipItem]:
        return [i for i in self.items if not i.ok]


@dataclass
class _Group:
    order: str
    rows: list[int] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    identifiers: list[LineIdentifier] = field(default_factory=list)
    error: str | None = None
    bad_field: str | None = None


def _delimiter(text: str) -> str:
    sample = text[:4096]
    return ";" if sample.count(";") > sample.count(",") else ","


def read_rows(text: str, source: str = "the file") -> list[tuple[int, dict[str, str]]]:
    """Rows as (line number, {canonical column: value}); raises :class:`OrderError` for an unusable file."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise OrderError(f"{source} is empty: expected a header line with order_id, carrier, tracking_number") from None
    columns: dict[int, str] = {}
    for index, name in enumerate(header):
        key = name.strip().lower().lstrip("\ufeff")
        canonical = next((c for c, aliases in HEADERS.items() if key in aliases), None)
        if canonical is not None and canonical not in columns.values():
            columns[index] = canonical
    if "order_id" not in columns.values():
        raise OrderError(f"{source}, line 1: no order id column (expected one of: {', '.join(HEADERS['order_id'])})")
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row = {columns[i]: unsafe_cell(v.strip()) or "" for i, v in enumerate(values) if i in columns}
        rows.append((number, row))
    return rows


def _groups(rows: list[tuple[int, dict[str, str]]]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    ordered: list[_Group] = []
    for number, row in rows:
        order = row.get("order_id", "")
        if not order:
            ordered.append(_Group(order="", rows=[number], error="the order id is empty", bad_field="order_id"))
            continue
        group = groups.get(order)
        if group is None:
            group = groups[order] = _Group(order)
            ordered.append(group)
        group.rows.append(number)
        for name in ("carrier", "tracking_number", "tracking_url"):
            value = row.get(name, "")
            if not value:
                continue
            if group.fields.get(name, value) != value:
                group.error = f"{name} differs between the rows of this order ({group.fields[name]} / {value}): one parcel per order"
                group.bad_field = name
            group.fields[name] = value
        if row.get("imei") or row.get("serial_number"):
            group.identifiers.append(LineIdentifier(row.get("imei") or None, row.get("serial_number") or None, row.get("sku") or None))
    return ordered


def _prepare_all(session: Session, groups: list[_Group]) -> list[tuple[BulkShipItem, PreparedAction | None, OrderFacts | None]]:
    """Validate every order of the file with a few set-wise reads (thousands of rows in seconds)."""
    found = find_order_ids(session, [g.order for g in groups if g.order and not g.error])
    facts_by_id = order_facts_many(session, [v for v in found.values() if isinstance(v, int)])
    result: list[tuple[BulkShipItem, PreparedAction | None, OrderFacts | None]] = []
    for group in groups:
        rows = tuple(group.rows)
        if group.error:
            result.append((BulkShipItem(rows, group.order, error=group.error, field=group.bad_field), None, None))
            continue
        order_id = found.get(group.order.strip())
        if not isinstance(order_id, int):
            result.append((BulkShipItem(rows, group.order, error=str(order_id), field="order_id"), None, None))
            continue
        facts = facts_by_id[order_id]
        try:
            prepared = prepare_for(session, facts, "ship", group.fields, identifiers=group.identifiers)
        except ActionRefused as exc:
            message = str(exc).removeprefix(f"order {facts.marketplace_order_id}: ")
            result.append((BulkShipItem(rows, group.order, error=message, field=exc.field), None, None))
            continue
        result.append((BulkShipItem(rows, group.order, facts.id, prepared.kind, prepared.summary), prepared, facts))
    return result


def _text_of(source: Path | str) -> tuple[str, str]:
    path = Path(source)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise OrderError(f"{path} is larger than {MAX_FILE_BYTES // 1_000_000} MB; split it")
    try:
        return path.read_text(encoding="utf-8-sig"), str(path)
    except UnicodeDecodeError as exc:
        raise OrderError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None


def plan_bulk_ship(ctx: AppContext, source: Path | str, *, text: str | None = None) -> BulkShipPlan:
    """The preview: every order of the file with what will be sent, or why it cannot be."""
    if text is None:
        text, name = _text_of(source)
    else:
        name = str(source)
    plan = BulkShipPlan(name)
    groups = _groups(read_rows(text, name))
    with ctx.read_session() as session:
        plan.items.extend(item for item, _, _ in _prepare_all(session, groups))
    return plan


def apply_bulk_ship(ctx: AppContext, source: Path | str, *, batch_key: str, text: str | None = None) -> tuple[BulkShipPlan, BulkQueued]:
    """Validate the file again and queue every valid order in one transaction, under ``batch_key``."""
    ctx.require_write()
    if text is None:
        text, name = _text_of(source)
    else:
        name = str(source)
    plan = BulkShipPlan(name)
    with ctx.write_session() as session:
        prepared_all = _prepare_all(session, _groups(read_rows(text, name)))
        plan.items.extend(item for item, _, _ in prepared_all)
        valid = [(facts, prepared) for _, prepared, facts in prepared_all if prepared is not None and facts is not None]
        queued = queue_many(session, valid, actor=ctx.actor, now=ctx.clock.now(), batch_key=batch_key)
    refused = [ActionRefused(f"{i.where}: order {i.order}: {i.error}", order=i.order, field=i.field) for i in plan.invalid]
    return plan, BulkQueued(batch_key, queued, refused)


def refused_path(source: Path | str) -> Path:
    """Where the refused rows of ``source`` go by default: beside it, ``parcels-refused.csv``."""
    path = Path(source)
    return path.with_name(f"{path.stem}-refused{path.suffix or '.csv'}")


def write_refused(plan: BulkShipPlan, text: str, target: Path | str) -> int:
    """Write the rows of ``text`` that cannot be applied, as typed (same columns and delimiter), each
    with why in a last column; returns how many rows. Cells no spreadsheet evaluates; atomic."""
    why = {line: item.error or "" for item in plan.invalid for line in item.rows}
    delimiter = _delimiter(text)
    records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not records:
        return 0
    written = 0
    with atomic_text_file(target) as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        writer.writerow([*records[0], REASON_COLUMN])
        for number, values in enumerate(records[1:], start=2):
            if number in why:
                writer.writerow([*(safe_cell(v) for v in values), safe_cell(why[number])])
                written += 1
    return written


def plan_as_dict(plan: BulkShipPlan) -> Mapping[str, object]:
    return {
        "source": plan.source,
        "valid": [
            {"rows": list(i.rows), "order": i.order, "action": i.kind.value if i.kind else None, "summary": i.summary} for i in plan.valid
        ],
        "invalid": [{"rows": list(i.rows), "order": i.order, "field": i.field, "error": i.error} for i in plan.invalid],
    }
