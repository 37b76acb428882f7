"""Pre-flight checks of an order action: nothing is queued unless it can be sent as asked.

Everything here is pure (capabilities + plain facts about the order in, a
prepared payload or :class:`ActionRefused` out), so the CLI, the console, bulk
CSV previews and the auto-accept rule refuse the same inputs with the same
words, and tests need no database. What is checked before anything is sent:

* the action exists for the marketplace and is allowed in the order's current
  state (normalized status *and* the marketplace's own transitions);
* fields the marketplace requires (a tracking number to ship on Back Market)
  and their lengths and choices, through the connector's capability table;
* IMEI: 15 digits with a valid Luhn check digit; one per unit, so only on a
  line of quantity 1; lines whose category needs an IMEI or serial number
  cannot ship without one; identifiers are write-once on the marketplace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shelfdesk.channels.base import ActionSpec, Capabilities, check_action_fields
from shelfdesk.channels.errors import InvalidActionInput, UnsupportedOperation
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus
from shelfdesk.orders.errors import ActionRefused

S = NormalizedStatus

#: Operator intents that map to whichever action a marketplace offers for them.
INTENTS: dict[str, tuple[ActionKind, ...]] = {
    "accept": (ActionKind.accept, ActionKind.confirm_availability),
    "ship": (ActionKind.ship, ActionKind.confirm_shipping),
    "cancel": (ActionKind.cancel,),
}
#: Actions an operator may queue (set_line_details rides inside ship; invoices belong elsewhere).
QUEUEABLE = frozenset({ActionKind.accept, ActionKind.cancel, ActionKind.ship, ActionKind.confirm_availability, ActionKind.confirm_shipping})
#: Operator-facing shipping fields -> the names a capability may use for them.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "carrier": ("carrier", "shipper"),
    "tracking_number": ("tracking_number",),
    "tracking_url": ("tracking_url",),
    "reason": ("reason",),
}
#: Kept on the order by shelfdesk whether or not the marketplace takes them (Leboncoin's tracking).
LOCAL_FIELDS = ("carrier", "tracking_number", "tracking_url", "note", "shipping_method")


# ---------------------------------------------------------------------- identifiers


def luhn_check_digit(body: str) -> str:
    """The Luhn digit completing ``body`` (the 14 first digits of an IMEI)."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def imei_problem(value: str) -> str | None:
    """Why ``value`` is not a valid IMEI, or None when it is one."""
    if not value.isdigit() or len(value) != 15:
        return f"IMEI {value!r} must be exactly 15 digits"
    expected = luhn_check_digit(value[:14])
    if value[14] != expected:
        return f"IMEI {value} fails the Luhn check (its last digit should be {expected}): check for a typo"
    return None


# ---------------------------------------------------------------------- facts about an order


@dataclass(frozen=True)
class LineFacts:
    """What validation needs to know about one order line."""

    remote_id: str
    sku: str | None
    quantity: int
    status: NormalizedStatus
    title: str | None = None
    imei: str | None = None
    serial_number: str | None = None
    needs_identifier: bool = False  #: its category needs an IMEI or serial number to ship
    category: str | None = None

    @property
    def label(self) -> str:
        return f"line {self.sku or self.remote_id}"


@dataclass(frozen=True)
class OrderFacts:
    """What validation needs to know about one order."""

    id: int
    marketplace: Marketplace
    marketplace_order_id: str
    status: NormalizedStatus
    marketplace_status: str | None = None
    allowed_actions: frozenset[ActionKind] | None = None  #: None when the marketplace's view is unknown
    lines: tuple[LineFacts, ...] = ()
    open_action: str | None = None  #: e.g. "ship (pending)" when an action is still in flight

    @property
    def single_unit(self) -> bool:
        return len(self.lines) == 1 and self.lines[0].quantity == 1

    def line(self, sku_or_id: str) -> LineFacts | None:
        wanted = sku_or_id.casefold()
        return next((l for l in self.lines if (l.sku or "").casefold() == wanted or l.remote_id == sku_or_id), None)


@dataclass(frozen=True)
class LineIdentifier:
    """An IMEI and/or serial number given for a line (``sku`` None: the next line that needs one)."""

    imei: str | None = None
    serial_number: str | None = None
    sku: str | None = None


@dataclass(frozen=True)
class PreparedAction:
    """A validated action, ready to be written to the outbox.

    ``payload`` holds ``fields`` (sent as they are), ``skus`` (lines of a
    per-line action), ``lines`` (identifiers to set per line before shipping)
    and ``local`` (what shelfdesk keeps on the order, such as a tracking
    number the marketplace does not take).
    """

    kind: ActionKind
    payload: dict[str, Any]
    summary: str

    def canonical(self) -> str:
        return json.dumps(self.payload, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------- resolution


def resolve_kind(caps: Capabilities, requested: str | ActionKind, order: str | None = None) -> ActionSpec:
    """The marketplace's action for ``requested`` (an intent such as "ship", or an exact kind)."""
    name = str(requested).replace("-", "_")
    where = f"order {order}: " if order else ""
    candidates = INTENTS.get(name)
    if candidates is None:
        try:
            candidates = (ActionKind(name),)
        except ValueError:
            known = ", ".join(sorted({*INTENTS, *(k.value for k in QUEUEABLE)}))
            raise ActionRefused(f"{where}unknown action {requested!r} (one of: {known})", order=order, field="action") from None
    for kind in candidates:
        if kind in caps.actions and kind in QUEUEABLE:
            return caps.actions[kind]
    offered = ", ".join(k.value for k in caps.actions if k in QUEUEABLE)
    raise ActionRefused(
        f"{where}{caps.marketplace} has no action {name.replace('_', '-')} (it offers: {offered})", order=order, field="action"
    )


def state_problem(spec: ActionSpec, order: OrderFacts) -> str | None:
    """Why ``spec`` cannot be sent now, or None."""
    if order.open_action:
        return f"{order.open_action} is still in flight for this order; wait for it, or dismiss it if it failed"
    if order.status not in spec.allowed_statuses:
        allowed = sorted(s.value for s in spec.allowed_statuses)
        either = allowed[0] if len(allowed) == 1 else f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        return f"{spec.label.lower()} needs an order that is {either}; this one is {order.status}"
    if order.allowed_actions is not None and spec.kind not in order.allowed_actions:
        from shelfdesk.orders.marketplace_states import state_words

        raw = f" ({state_words(order.marketplace, order.marketplace_status)})" if order.marketplace_status else ""
        return f"the marketplace does not allow {spec.label.lower()} in the order's current state{raw}"
    return None


def allowed_now(caps: Capabilities, order: OrderFacts) -> dict[str, bool]:
    """For each queueable action of the marketplace: can it be asked for right now? (greyed keys)."""
    return {spec.kind.value: state_problem(spec, order) is None for spec in caps.actions.values() if spec.kind in QUEUEABLE}


# ---------------------------------------------------------------------- preparation


def prepare_action(
    caps: Capabilities,
    order: OrderFacts,
    requested: str | ActionKind,
    fields: Mapping[str, Any] | None = None,
    *,
    skus: Sequence[str] = (),
    identifiers: Sequence[LineIdentifier] = (),
) -> PreparedAction:
    """Validate an operator's request against the marketplace's rules and the order; never sends.

    ``fields`` use operator names (``carrier``, ``tracking_number``,
    ``tracking_url``, ``note``, ``reason``); they are mapped to the
    marketplace's own field names. Raises :class:`ActionRefused` naming the
    order and the field at fault.
    """
    oid = order.marketplace_order_id
    spec = resolve_kind(caps, requested, oid)
    problem = state_problem(spec, order)
    if problem:
        raise ActionRefused(f"order {oid}: {problem}", order=oid, field="status")
    given = {k: (v.strip() if isinstance(v, str) else v) for k, v in (fields or {}).items()}
    given = {k: v for k, v in given.items() if v not in (None, "")}
    unknown = sorted(set(given) - set(FIELD_ALIASES) - set(LOCAL_FIELDS))
    if unknown:
        raise ActionRefused(f"order {oid}: unknown field(s) {', '.join(unknown)}", order=oid, field=unknown[0])
    send: dict[str, Any] = {}
    for name, value in given.items():
        target = next((alias for alias in FIELD_ALIASES.get(name, ()) if spec.field(alias) is not None), None)
        if target is not None:
            send[target] = value
        elif name == "reason":
            pass  # kept in the payload for the history; this marketplace takes no reason
    payload: dict[str, Any] = {}
    local = {k: str(given[k]) for k in LOCAL_FIELDS if k in given}
    if "reason" in given:
        payload["reason"] = str(given["reason"])

    if spec.per_line:
        payload["skus"] = _lines_for(spec, order, skus)
    elif skus:
        raise ActionRefused(f"order {oid}: {spec.label.lower()} applies to the whole order; do not name lines", order=oid, field="sku")

    if spec.kind in (ActionKind.ship, ActionKind.confirm_shipping):
        per_line = _identifiers(caps, spec, order, identifiers)
        if per_line:
            if order.single_unit and spec.field("imei") is not None:
                line_id, values = next(iter(per_line.items()))
                send.update(values)
            else:
                if ActionKind.set_line_details not in caps.actions:
                    raise ActionRefused(
                        f"order {oid}: {caps.marketplace} cannot take IMEI or serial numbers per line", order=oid, field="imei"
                    )
                payload["lines"] = per_line
    elif identifiers:
        raise ActionRefused(
            f"order {oid}: IMEI and serial numbers go with shipping, not with {spec.label.lower()}", order=oid, field="imei"
        )

    sku_for_check = {"sku": payload["skus"][0]} if spec.per_line and spec.field("sku") is not None else {}
    try:
        clean = check_action_fields(spec, {**send, **sku_for_check}, single_unit=order.single_unit)
    except (InvalidActionInput, UnsupportedOperation) as exc:
        where = _field_named(str(exc.message), spec)
        raise ActionRefused(f"order {oid}: {exc.message}", order=oid, field=where) from None
    clean.pop("sku", None)
    payload["fields"] = {k: str(v) for k, v in clean.items()}
    if local:
        payload["local"] = local
    return PreparedAction(spec.kind, payload, _summary(spec, payload))


def _lines_for(spec: ActionSpec, order: OrderFacts, skus: Sequence[str]) -> list[str]:
    """The SKUs a per-line action applies to: the named ones, else every line it can apply to."""
    oid = order.marketplace_order_id
    open_statuses = spec.allowed_statuses
    if skus:
        chosen = []
        for sku in skus:
            line = order.line(sku)
            if line is None or not line.sku:
                raise ActionRefused(f"order {oid} has no line with SKU {sku}", order=oid, field="sku")
            if line.status not in open_statuses:
                raise ActionRefused(
                    f"order {oid}: {line.label} is {line.status}; {spec.label.lower()} needs "
                    f"{', '.join(sorted(s.value for s in open_statuses))}",
                    order=oid,
                    field="sku",
                )
            chosen.append(line.sku)
        return chosen
    chosen = [l.sku for l in order.lines if l.sku and l.status in open_statuses]
    if not chosen:
        raise ActionRefused(f"order {oid}: no line can take {spec.label.lower()} now", order=oid, field="status")
    return chosen


def _identifiers(caps: Capabilities, spec: ActionSpec, order: OrderFacts, given: Sequence[LineIdentifier]) -> dict[str, dict[str, str]]:
    """Assign IMEIs/serials to lines and enforce one per unit; returns {line remote id: values to set}."""
    oid = order.marketplace_order_id
    takes = {f.name for f in caps.line_detail_fields}
    if given and not takes:
        raise ActionRefused(f"order {oid}: {caps.marketplace} takes no IMEI or serial number", order=oid, field="imei")
    assigned: dict[str, LineIdentifier] = {}
    for ident in given:
        if not (ident.imei or ident.serial_number):
            continue
        if ident.sku:
            line = order.line(ident.sku)
            if line is None:
                raise ActionRefused(f"order {oid} has no line with SKU {ident.sku}", order=oid, field="sku")
        else:
            unassigned = [l for l in order.lines if l.remote_id not in assigned]
            free = [l for l in unassigned if not (l.imei or l.serial_number)] or unassigned
            needing = [l for l in free if l.needs_identifier] or free
            if not needing:
                raise ActionRefused(f"order {oid}: more IMEI/serial numbers given than lines to take them", order=oid, field="imei")
            line = needing[0]
        if line.remote_id in assigned:
            raise ActionRefused(f"order {oid}: two IMEI/serial numbers given for {line.label}", order=oid, field="imei")
        assigned[line.remote_id] = ident

    seen: set[str] = set()
    result: dict[str, dict[str, str]] = {}
    for line in order.lines:
        ident = assigned.get(line.remote_id)
        has = bool(line.imei or line.serial_number)
        if ident is None:
            if line.needs_identifier and not has and line.status in spec.allowed_statuses:
                what = f" ({line.category})" if line.category else ""
                raise ActionRefused(
                    f"order {oid}: {line.label}{what} needs an IMEI or serial number per unit to ship",
                    order=oid,
                    field="imei",
                )
            continue
        if line.quantity != 1:
            raise ActionRefused(
                f"order {oid}: {line.label} has quantity {line.quantity}; {caps.marketplace} takes one IMEI or serial "
                "number per order line and only on a line of quantity 1, so this line cannot carry one "
                "(ask the marketplace to split it into single units)",
                order=oid,
                field="imei",
            )
        values: dict[str, str] = {}
        for name, value in (("imei", ident.imei), ("serial_number", ident.serial_number)):
            if not value:
                continue
            value = value.strip()
            if name not in takes:
                raise ActionRefused(f"order {oid}: {caps.marketplace} takes no {name.replace('_', ' ')}", order=oid, field=name)
            if name == "imei":
                problem = imei_problem(value)
                if problem:
                    raise ActionRefused(f"order {oid}, {line.label}: {problem}", order=oid, field="imei")
            limit = next((f.max_length for f in caps.line_detail_fields if f.name == name), None)
            if limit is not None and len(value) > limit:
                raise ActionRefused(f"order {oid}, {line.label}: {name} is longer than {limit} characters", order=oid, field=name)
            current = getattr(line, name)
            if current and current != value:
                raise ActionRefused(
                    f"order {oid}, {line.label}: {name} is already {current} on the marketplace and cannot be changed (write-once)",
                    order=oid,
                    field=name,
                )
            if value in seen:
                raise ActionRefused(f"order {oid}: {value} is given for two lines", order=oid, field=name)
            seen.add(value)
            if current != value:
                values[name] = value
        if values:
            result[line.remote_id] = values
    return result


def _field_named(message: str, spec: ActionSpec) -> str | None:
    return next((f.name for f in spec.fields if f.name in message), None)


def _summary(spec: ActionSpec, payload: Mapping[str, Any]) -> str:
    parts = [spec.label]
    fields = payload.get("fields", {})
    local = payload.get("local", {})
    carrier = fields.get("shipper") or fields.get("carrier") or local.get("carrier")
    tracking = fields.get("tracking_number") or local.get("tracking_number")
    if carrier:
        parts.append(str(carrier))
    if tracking:
        parts.append(str(tracking))
    if payload.get("skus"):
        parts.append("lines " + ", ".join(payload["skus"]))
    if payload.get("reason"):
        parts.append(f"reason: {payload['reason']}")
    return " ".join(parts)


def parse_allowed(text: str | None) -> frozenset[ActionKind] | None:
    """The stored ``orders.allowed_actions`` text as a set (None when never harvested)."""
    if text is None:
        return None
    kinds = []
    for part in text.split(","):
        try:
            kinds.append(ActionKind(part.strip()))
        except ValueError:
            continue
    return frozenset(kinds)


def format_allowed(kinds: Iterable[ActionKind]) -> str:
    return ",".join(sorted(k.value for k in kinds))


def error_fields(refusal: ActionRefused) -> dict[str, Any]:
    """A refusal as data (CLI ``--json``, bulk previews)."""
    return {"order": refusal.order, "field": refusal.field, "error": str(refusal)}


__all__ = [
    "INTENTS",
    "LOCAL_FIELDS",
    "QUEUEABLE",
    "LineFacts",
    "LineIdentifier",
    "OrderFacts",
    "PreparedAction",
    "allowed_now",
    "error_fields",
    "format_allowed",
    "imei_problem",
    "luhn_check_digit",
    "parse_allowed",
    "prepare_action",
    "resolve_kind",
    "state_problem",
]
