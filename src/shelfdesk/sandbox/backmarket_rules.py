"""Back Market's rules, as the sandbox enforces them: order-line transitions and listing lines.

Kept apart from the HTTP layer so they read as a specification. Facts marked
[C] come from the reference; messages and anything marked [I] are ours
(Back Market does not document the bodies of its order errors nor the shape
of a task's ``result``).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfdesk.sandbox.app import ApiError, iso
from shelfdesk.sandbox.inputs import as_datetime, as_decimal, as_int, field_str
from shelfdesk.sandbox.seeddata import valid_gtin

GRADES = ("PREMIUM", "EXCELLENT", "VERY_GOOD", "GOOD", "FAIR", "STALLONE")  # [C]
ORDER_STATES = (0, 10, 1, 3, 8, 9)  # [C] OrderState, the values GET /ws/orders?state= takes
RETURN_REASONS = {0, 1, 11, 12, 13, 21, 22, 23, 24, 25}  # [C]
CANCELLED_LINES = {4, 5, 7}
PRICE_MIN, PRICE_MAX = Decimal("1.00"), Decimal("20000.00")  # [I] the real bounds are not published
MAX_CSV_LINES = 15_000  # [C]
CSV_COLUMNS = {
    "sku",
    "product_id",
    "ean",
    "quantity",
    "price",
    "min_price",
    "max_price",
    "currency",
    "grade",
    "warranty_delay",
    "comment",
    "state",
    "shipper_1",
    "shipping_delay_1",
    "shipping_price_1",
}


def refused(message: str, code: str = "invalid-transition", status: int = 400) -> ApiError:
    return ApiError(status, message, code)


def find_line(order: dict[str, Any], sku: Any) -> dict[str, Any]:
    if not sku:
        raise refused("sku is required for this new_state", "missing-sku")
    wanted = str(sku).casefold()
    for line in order["orderlines"]:
        if str(line["listing"]).casefold() == wanted:
            return line
    raise refused(f"No orderline with sku {sku} in order {order['order_id']}", "unknown-sku", 404)


def line_total(line: dict[str, Any]) -> Decimal:
    """What a line cost its buyer, so the most a refund can give back [I]: unit price times quantity, plus its shipping."""
    price = as_decimal(line.get("price")) or Decimal("0")
    shipping = as_decimal(line.get("shipping_price")) or Decimal("0")
    return price * int(line.get("quantity") or 1) + shipping


def settle_order(order: dict[str, Any]) -> None:
    """Order state follows its lines [C]: 3 once no line waits for a decision, 9 when nothing is left to ship."""
    states = [line["state"] for line in order["orderlines"]]
    if order["state"] == 1 and 1 not in states:
        order["state"] = 3 if 2 in states else 9
    elif order["state"] == 3 and 2 not in states:  # every accepted line refunded before shipping
        order["state"] = 9


#: UpdateOrder's string fields and their longest length [C] (date_shipping is a date-time, checked apart).
UPDATE_TEXT_FIELDS = {
    "sku": None,
    "imei": 15,
    "serial_number": 50,
    "tracking_number": 200,
    "tracking_url": 300,
    "shipper": 200,
    "return_message": 500,
}
LINE_STATES = (0, 9, 8, 1, 2, 3, 4, 5, 6, 7)  # [C] OrderLineState
VAT_TYPES = ("REGULAR", "MARGINAL")  # [C]


def check_update_order(body: Any) -> dict[str, Any]:
    """POST /ws/orders/{id}'s body as the spec types it (UpdateOrder), or a 400 naming the field.

    Checked before anything moves, so a half-typed body changes nothing. The
    spec lists ``id`` as required but names the field ``order_id``; neither is
    required here, and ``order_id`` must match the URL when given [I].
    """
    if not isinstance(body, dict):
        raise refused("The body must be a JSON object", "invalid-body")
    for name, longest in UPDATE_TEXT_FIELDS.items():
        field_str(body, name, max_len=longest, code="invalid-field", nullable=True)
    if "order_id" in body and as_int(body["order_id"]) is None:
        raise refused("order_id must be an integer", "invalid-field")
    if body.get("date_shipping") is not None and as_datetime(body["date_shipping"]) is None:
        raise refused("date_shipping must be an RFC 3339 date-time with its offset", "invalid-field")
    if body.get("vat_type") is not None and body["vat_type"] not in VAT_TYPES:
        raise refused("vat_type must be REGULAR or MARGINAL", "invalid-vat-type")
    new_state = as_int(body.get("new_state"))
    if new_state is None or new_state not in LINE_STATES:
        raise refused("new_state is required (2 accept, 3 ship, 4 cancel, 5 refund before shipping, 6 refund)", "missing-new-state")
    if body.get("return_reason") is not None and as_int(body["return_reason"]) not in RETURN_REASONS:
        raise refused(f"return_reason must be one of {', '.join(map(str, sorted(RETURN_REASONS)))}", "invalid-return-reason")
    return body


def apply_update(order: dict[str, Any], body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """POST /ws/orders/{id}: move lines as Back Market allows, or raise. Returns the effect."""
    check_update_order(body)
    if "order_id" in body and str(body["order_id"]) != str(order["order_id"]):
        raise refused("order_id does not match the URL", "order-id-mismatch")
    try:
        new_state = int(body["new_state"])
    except (KeyError, TypeError, ValueError):
        raise refused(
            "new_state is required (2 accept, 3 ship, 4 cancel, 5 refund before shipping, 6 refund)", "missing-new-state"
        ) from None

    if new_state == 3:
        return _ship(order, body, now)
    line = find_line(order, body.get("sku"))
    current = line["state"]
    allowed_from = {2: {1}, 4: {1}, 5: {2}, 6: {3}}.get(new_state)
    if allowed_from is None:
        raise refused(f"new_state {new_state} cannot be set by a merchant", "invalid-new-state")
    if new_state in (2, 4) and order["state"] != 1:
        raise refused(f"Order {order['order_id']} is in state {order['state']}: lines can only be accepted or cancelled in state 1")
    if current not in allowed_from:
        raise refused(f"Orderline {line['id']} is in state {current} and cannot move to state {new_state}")
    if new_state == 6:
        try:
            reason = int(body.get("return_reason"))  # type: ignore[arg-type]  # None (no reason given) raises TypeError, refused below
        except (TypeError, ValueError):
            raise refused("return_reason is required to refund a shipped line", "missing-return-reason") from None
        if reason not in RETURN_REASONS:
            raise refused(f"Unknown return_reason {reason}", "invalid-return-reason")
        message = str(body.get("return_message") or "")
        if len(message) > 500:
            raise refused("return_message is limited to 500 characters", "invalid-return-message")
        line["return_reason"], line["return_message"] = reason, message
    line["state"] = new_state
    if new_state in (5, 6):  # [I] a refund through the orders endpoint gives the whole line back
        line["refunded_amount"] = f"{line_total(line):.2f}"
    settle_order(order)
    order["date_modification"] = iso(now)
    return {"order_id": order["order_id"], "new_state": new_state, "sku": line["listing"], "line_id": line["id"]}


def _ship(order: dict[str, Any], body: dict[str, Any], now: datetime) -> dict[str, Any]:
    if order["state"] != 3:
        raise refused(f"Order {order['order_id']} is in state {order['state']}: only state 3 (all lines accepted) can be shipped")
    tracking = str(body.get("tracking_number") or "").strip()
    if not tracking:
        raise refused("tracking_number is required to ship", "missing-tracking-number")
    lines = [line for line in order["orderlines"] if line["state"] == 2]
    details = {k: str(body[k]).strip() for k in ("imei", "serial_number") if body.get(k)}
    if details:
        if len(order["orderlines"]) != 1 or order["orderlines"][0]["quantity"] != 1:
            raise refused(
                "imei and serial_number are accepted in the ship call only for an order of one line of quantity 1; "
                "use PATCH /ws/orderlines/{id} for each line before shipping",
                "imei-multi-line",
            )
        check_line_details(order["orderlines"][0], details)
    vat = body.get("vat_type")
    if vat is not None and vat not in ("REGULAR", "MARGINAL"):
        raise refused("vat_type must be REGULAR or MARGINAL", "invalid-vat-type")
    for line in lines:
        line["state"] = 3
    if details:
        order["orderlines"][0].update(details)
    order.update(
        state=9,
        tracking_number=tracking,
        tracking_url=body.get("tracking_url") or None,
        shipper_display=body.get("shipper") or None,
        date_shipping=str(body.get("date_shipping") or iso(now)),
        date_modification=iso(now),
    )
    return {"order_id": order["order_id"], "new_state": 3, "tracking_number": tracking, "lines": [l["id"] for l in lines]}


def check_line_details(line: dict[str, Any], details: dict[str, str]) -> None:
    """IMEI ≤ 15 digits, serial ≤ 50 characters, each written once [C]; 422 otherwise."""
    imei = details.get("imei")
    if imei is not None and (not imei.isdigit() or len(imei) > 15):
        raise ApiError(422, "imei must be at most 15 digits", "invalid-imei")
    serial = details.get("serial_number")
    if serial is not None and (not serial or len(serial) > 50):
        raise ApiError(422, "serial_number must be 1 to 50 characters", "invalid-serial-number")
    for key in details:
        if line.get(key):
            raise ApiError(422, f"{key} is already set on orderline {line['id']} and cannot be changed", f"{key}-already-set")


def set_line_details(order: dict[str, Any], line: dict[str, Any], body: Any, now: datetime) -> dict[str, Any]:
    """PATCH /ws/orderlines/{id}."""
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object", "invalid-body")
    for name in ("imei", "serial_number"):
        field_str(body, name, code="invalid-field", nullable=True)  # lengths are the 422s below [C]
    details = {k: str(body[k]).strip() for k in ("imei", "serial_number") if body.get(k) not in (None, "")}
    if not details:
        raise ApiError(400, "Give imei and/or serial_number", "missing-fields")
    unknown = set(body) - {"imei", "serial_number"}
    if unknown:
        raise ApiError(400, f"Unknown field(s): {', '.join(sorted(unknown))}", "unknown-fields")
    if line["state"] not in (1, 2):  # [I] once shipped or cancelled the line is closed
        raise ApiError(422, f"Orderline {line['id']} is in state {line['state']}: its details can no longer be set", "line-closed")
    check_line_details(line, details)
    line.update(details)
    order["date_modification"] = iso(now)
    return {"order_id": order["order_id"], "line_id": line["id"], **details}


# ---------------------------------------------------------------------- listing lines


def _decimal(row: dict[str, str], key: str) -> Decimal | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    number = as_decimal(text)
    if number is None:
        raise ValueError(f"{key} '{text[:40]}' is not a number")
    return number


def _integer(row: dict[str, str], key: str) -> int | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    number = as_int(text)
    if number is None:
        raise ValueError(f"{key} '{text[:40]}' is not an integer")
    return number


_TEXT, _NUMBER, _NULL = (str,), (int, float), (type(None),)
#: POST /ws/listings/{id}'s fields and the JSON types each takes [C]. The shippers' enum (95 names) is
#: not copied: a shipper is checked to be a string, and it is not applied by the sandbox anyway [I].
LISTING_UPDATE_FIELDS: dict[str, tuple[type, ...]] = {
    "price": _TEXT + _NUMBER,
    "currency": _TEXT,
    "comment": _TEXT + _NULL,
    "warranty_delay": _TEXT + (int,),
    "quantity": _TEXT + (int,),
    "min_price": _TEXT + _NUMBER + _NULL,
    **{f"shipper_{n}": _TEXT + _NULL for n in (1, 2, 3)},
    **{f"shipper_display_{n}": _TEXT + _NULL for n in (1, 2, 3)},
    **{f"shipping_delay_{n}": (int,) + _NULL for n in (1, 2, 3)},
    **{f"shipping_price_{n}": _TEXT + _NUMBER + _NULL for n in (1, 2, 3)},
}


def check_listing_update_types(body: dict[str, Any]) -> list[dict[str, str]]:
    """Errors for the fields of a real-time listing update whose JSON type the spec does not allow."""
    errors = []
    for name, kinds in LISTING_UPDATE_FIELDS.items():
        if name in body and (isinstance(body[name], bool) or not isinstance(body[name], kinds)):
            errors.append({"code": "invalid-field", "message": f"{name} has the wrong type"})
    return errors


def check_listing_values(values: dict[str, Any], *, new: bool) -> list[dict[str, str]]:
    """Errors for a listing's values (a CSV line or a real-time update)."""
    errors: list[dict[str, str]] = []
    price, lo, hi = values.get("price"), values.get("min_price"), values.get("max_price")
    if new and price is None:
        errors.append({"code": "missing-price", "message": "price is mandatory to create a listing"})
    if price is not None and not PRICE_MIN <= price <= PRICE_MAX:
        errors.append({"code": "price-out-of-range", "message": f"price {price} is out of the allowed range ({PRICE_MIN} to {PRICE_MAX})"})
    if price is not None and lo is not None and lo > price:
        errors.append({"code": "price-below-min", "message": f"min_price {lo} is above price {price}"})
    if price is not None and hi is not None and price > hi:
        errors.append({"code": "price-above-max", "message": f"price {price} is above max_price {hi}"})
    qty = values.get("quantity")
    if new and qty is None:
        errors.append({"code": "missing-quantity", "message": "quantity is mandatory to create a listing"})
    if qty is not None and qty < 0:
        errors.append({"code": "invalid-quantity", "message": "quantity cannot be negative"})
    warranty = values.get("warranty_delay")
    if warranty is not None and warranty < 12:
        errors.append({"code": "invalid-warranty", "message": "warranty_delay must be at least 12 months"})
    currency = values.get("currency")
    if currency is not None and not (len(currency) == 3 and currency.isascii() and currency.isupper() and currency.isalpha()):
        errors.append({"code": "invalid-currency", "message": "currency is an ISO 4217 code, like EUR"})
    if len(values.get("comment") or "") > 500:
        errors.append({"code": "comment-too-long", "message": "comment is limited to 500 characters"})
    return errors


def parse_listing_row(row: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A CSV line to typed values and format errors."""
    values: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for key, parse in (
        ("price", _decimal),
        ("min_price", _decimal),
        ("max_price", _decimal),
        ("quantity", _integer),
        ("warranty_delay", _integer),
    ):
        try:
            values[key] = parse(row, key)
        except ValueError as exc:
            errors.append({"code": "invalid-number", "message": str(exc)})
    for key in ("sku", "product_id", "ean", "grade", "comment", "currency"):
        values[key] = (row.get(key) or "").strip() or None
    return values, errors


def resolve_product(values: dict[str, Any], products: dict[str, dict[str, Any]]) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The catalog product of a new listing: ``product_id`` wins over ``ean`` [C]."""
    if values.get("product_id"):
        product = products.get(values["product_id"])
        if product is None:
            return None, [
                {"code": "unknown-product", "message": f"product_id {values['product_id']} does not exist in the Back Market catalog"}
            ]
        return product, []
    ean = values.get("ean")
    if not ean:
        return None, [{"code": "missing-product", "message": "product_id or ean is mandatory to create a listing"}]
    if not valid_gtin(ean):
        return None, [{"code": "invalid-ean", "message": f"ean {ean} is not a valid EAN (check digit)"}]
    product = next((p for p in products.values() if p["ean"] == ean), None)
    if product is None:
        return None, [
            {
                "code": "unknown-ean",
                "message": f"No product of the Back Market catalog matches ean {ean}; propose it with the product's data",
            }
        ]
    return product, []


def check_grade(grade: str | None, product: dict[str, Any] | None, *, new: bool) -> list[dict[str, str]]:
    if grade is None:
        return [{"code": "missing-grade", "message": "grade is mandatory to create a listing"}] if new else []
    if grade not in GRADES:
        return [{"code": "invalid-grade", "message": f"grade {grade} is not one of {', '.join(GRADES)}"}]
    if product is not None and grade not in product["grades"]:
        return [{"code": "grade-not-allowed", "message": f"grade {grade} is not allowed for {product['title']}"}]
    return []


# ---------------------------------------------------------------------- listing batches

BATCH_FIELDS = (("catalog", 1, None), ("quotechar", 1, 1), ("delimiter", 1, 1), ("encoding", 2, 64))  # [C] bounds


class BatchUnreadable(ValueError):
    """A batch's catalog cannot be read as CSV: its task fails (status 8) with this reason."""


def read_batch(body: Any) -> dict[str, str]:
    """``POST /ws/listings``'s body checked as the spec bounds it, or its plain-string 400 [C].

    ``catalog`` a non-empty string, ``quotechar`` and ``delimiter`` one character
    each, ``encoding`` 2 to 64 characters. What passes can always be handed to a
    CSV reader, so a stored batch never stops the ticks that process it.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object with catalog, quotechar, delimiter and encoding", plain=True)
    batch: dict[str, str] = {}
    for name, shortest, longest in BATCH_FIELDS:
        if body.get(name) in (None, ""):
            raise ApiError(400, f"parameter {name} not found", plain=True)
        value = field_str(body, name, min_len=shortest, max_len=longest, plain=True)
        assert value is not None
        batch[name] = value
    return batch


def read_catalog(catalog: str, delimiter: str, quotechar: str, encoding: str) -> Iterator[list[str]]:
    """The catalog's rows, its header first (names stripped and lower-cased); :class:`BatchUnreadable` otherwise.

    The catalog travels as a JSON string; ``encoding`` names the file it stands
    for, so it must be a text encoding that can write it [I]. Raised errors can
    come while iterating (a CSV error on a later line).
    """
    try:
        codecs.lookup(encoding)
        catalog.encode(encoding)
    except LookupError:
        raise BatchUnreadable(f"Unknown encoding {encoding!r}") from None
    except (UnicodeError, ValueError, TypeError):
        raise BatchUnreadable(f"The catalog cannot be written in {encoding!r}") from None
    try:
        reader = csv.reader(io.StringIO(catalog, newline=""), delimiter=delimiter, quotechar=quotechar)
    except (csv.Error, TypeError) as exc:
        raise BatchUnreadable(f"The delimiter and quotechar do not make a CSV dialect: {exc}") from None
    return _rows(reader)


def _rows(reader: Any) -> Iterator[list[str]]:
    first = True
    try:
        for values in reader:
            if first:
                yield [value.strip().lower() for value in values]
                first = False
            elif any(value.strip() for value in values):
                yield values
    except csv.Error as exc:
        raise BatchUnreadable(f"The catalog is not valid CSV at line {reader.line_num}: {exc}") from None
