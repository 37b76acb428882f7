"""Hypothesis strategies for malformed requests to a sandbox: paths, query parameters, bodies, CSV batches.

Malformed, not random: values are drawn from what each route reads (its field
and parameter names, ids that exist, the seed's SKUs and EANs) mixed with what
breaks readers (wrong JSON types, NaN and huge numbers, lone surrogates,
deep nesting, control characters, one-character and multi-character CSV
dialects), so most requests reach a handler's checks instead of stopping at
the first type test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st
from starlette.routing import Route

from shelfdesk.sandbox.app import SandboxApp
from shelfdesk.sandbox.backmarket_rules import CSV_COLUMNS

#: Names any route of either sandbox reads from a query string or a body.
FIELD_NAMES = (
    # Back Market
    "catalog",
    "quotechar",
    "delimiter",
    "encoding",
    "new_state",
    "sku",
    "order_id",
    "id",
    "tracking_number",
    "tracking_url",
    "imei",
    "serial_number",
    "return_reason",
    "return_message",
    "date_shipping",
    "shipper",
    "vat_type",
    "price",
    "quantity",
    "min_price",
    "max_price",
    "comment",
    "currency",
    "warranty_delay",
    "shipper_1",
    "shipping_delay_1",
    "shipping_price_1",
    "shipper_display_1",
    "page",
    "page-size",
    "state",
    "country_code",
    "date_modification",
    "date_creation",
    "publication_state",
    "min_quantity",
    "max_quantity",
    "listing_id",
    # Back Market Care
    "last_id",
    "orderline",
    "last_modification_date",
    "last_message_date",
    "message",
    "problem_type",
    "shipperName",
    "trackingNumber",
    "action",
    "orderline_pk",
    "refund_type",
    "amount",
    "issue",
    "resolution",
    "warranty",
    "legacy",
    "return_label",
    "from",
    # Leboncoin
    "reference",
    "items",
    "carrier",
    "reason",
    "body",
    "grant_type",
    "refresh_token",
    "per_page",
    "updated_since",
    "title",
    "description",
    "category",
    "condition",
    "new_reason",
    "attributes",
    "secure_payment",
    # admin
    "skus",
    "fate",
    "count",
    "single_order",
    "seed",
    "advance",
    "to",
    "orders_per_hour",
    "token",
    "products",
    "ean",
    "grades",
    "rules",
    "kind",
    "rate",
    "method",
    "path",
    "prefix",
    "window",
    "valid_days",
    "retry_after",
    "latency",
    "skip",
    "after_effect",
)

#: Text that breaks naive readers.
NASTY_TEXT = (
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e999999999",
    "9" * 30,
    "-" + "9" * 30,
    "true",
    "null",
    "[]",
    "{}",
    "\x00",
    "\ud800",
    "é",
    "💥",
    "a;;b",
    ";;",
    '""',
    "\n",
    "\r\n",
    "%",
    "../",
    "2026-03-02",
    "2026-03-02T09:30:00",
    "2026-03-02T09:30:00+00:00",
    "2026-03-02T09:30:00Z",
    "2026-03-02-09-30",
    "2026-13-45-99-99",
    "9999-12-31T23:59:59+00:00",
    "fr-fr",
    "FR",
    "EXCELLENT",
    "GOOD",
    "Colissimo",
    "REGULAR",
    "paid",
    "refurbished",
    "new",
    "clearance",
    "x" * 600,
)

#: Numbers as they arrive, as JSON numbers or text: the values number readers get wrong.
NASTY_NUMBERS = (
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1e999999999",
    "-1e999999999",
    "1E+5",
    "1_000",
    " 12 ",
    "12.",
    ".5",
    "0x10",
    "9" * 30,
    "-" + "9" * 30,
    "1.999999999999999999",
    "-0",
    "0",
    "-1",
    "1",
    "2",
    "3",
    "12",
    "24",
    "150.00",
    "",
    10**30,
    -(10**30),
    1e20,
    -1,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    9,
    10,
    12,
    2**31,
    1.5,
    0.001,
    True,
    False,
    None,
)

#: The numbers that once entered a sandbox's state and failed every later request.
POISON_NUMBERS = ("NaN", "sNaN", "Infinity", "1e999999999", "9" * 30, 10**30, -1)

#: Path fragment -> the fields its handler reads: an object for that route takes its keys from here most of the time.
ROUTE_FIELDS = {
    "/msg": ("message",),
    "/problem": ("problem_type", "message"),
    "/item-transfer": ("shipperName", "trackingNumber", "action"),
    "/ws/sav/refund": ("orderline_pk", "refund_type", "amount"),
    "/ws/sav": ("last_id", "state", "orderline", "last_modification_date", "last_message_date", "page"),
    "/_sandbox/care/": ("message", "from"),
    "/_sandbox/care": ("orderline", "order_id", "issue", "resolution", "message", "warranty", "legacy", "return_label"),
    "/ws/orders/": (
        "order_id",
        "new_state",
        "sku",
        "imei",
        "serial_number",
        "tracking_number",
        "tracking_url",
        "vat_type",
        "date_shipping",
        "shipper",
        "return_reason",
        "return_message",
    ),
    "/ws/orderlines/": ("imei", "serial_number"),
    "/ws/listings/": (
        "price",
        "quantity",
        "min_price",
        "currency",
        "comment",
        "warranty_delay",
        "shipper_1",
        "shipping_delay_1",
        "shipping_price_1",
        "shipper_display_1",
    ),
    "/ws/listings": ("catalog", "quotechar", "delimiter", "encoding"),
    "/ads/": ("price", "quantity", "sku"),
    "/feeds/": ("reference", "items"),
    "confirm-shipping": ("carrier",),
    "/cancel": ("reason",),
    "/messages": ("body",),
    "/oauth/token": ("grant_type", "refresh_token"),
    "/_sandbox/orders": ("skus", "fate", "count", "quantity", "single_order"),
    "/_sandbox/clock": ("advance", "to"),
    "/_sandbox/generator": ("orders_per_hour",),
    "/_sandbox/faults": ("kind", "count", "rate", "method", "path", "skip", "latency", "retry_after", "after_effect", "rules"),
    "/_sandbox/products": ("products",),
    "/_sandbox/tokens": ("token",),
    "/_sandbox/refresh-tokens": ("token", "valid_days"),
    "/_sandbox/reset": ("seed",),
}
NUMERIC_FIELDS = {
    "price",
    "quantity",
    "min_price",
    "max_price",
    "warranty_delay",
    "new_state",
    "return_reason",
    "order_id",
    "count",
    "advance",
    "orders_per_hour",
    "valid_days",
    "seed",
    "rate",
    "latency",
    "skip",
    "retry_after",
    "shipping_delay_1",
    "shipping_price_1",
    "page",
    "page-size",
    "per_page",
    "state",
    "publication_state",
    "min_quantity",
    "max_quantity",
    "listing_id",
    "window",
    "last_id",
    "orderline",
    "orderline_pk",
    "refund_type",
    "amount",
}

#: What a URL can carry: bytes, so no lone surrogate.
URL_TEXT = tuple(t for t in NASTY_TEXT if t != "\ud800")


@dataclass
class Pools:
    """What exists in a sandbox when fuzzing starts: ids for paths, SKUs and EANs for bodies."""

    ids: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    eans: list[str] = field(default_factory=list)
    #: Path parameter name -> ids that exist for it (or will: the next batches' and feeds' ids).
    by_param: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, sandbox: SandboxApp) -> Pools:
        state, pools = sandbox.state, cls()
        param = {"orders": "order_id", "listings": "listing_id", "tasks": "task_id", "ads": "ad_id", "feeds": "feed_id"}
        for name in ("orders", "listings", "tasks", "products", "ads", "feeds"):
            for key, entry in (state.get(name) or {}).items():
                found = [str(key), *(str(entry[i]) for i in ("listing_id", "order_id") if i in entry)]
                pools.ids.extend(found)
                pools.by_param.setdefault(param.get(name, ""), []).extend(found)
                for line in entry.get("orderlines") or entry.get("items") or []:
                    if isinstance(line, dict) and "id" in line:
                        pools.ids.append(str(line["id"]))
                        pools.by_param.setdefault("line_id", []).append(str(line["id"]))
                if "sku" in entry:
                    pools.skus.append(entry["sku"])
                if "ean" in entry:
                    pools.eans.append(entry["ean"])
        for key, _folder in (state.get("care") or {}).items():
            pools.ids.append(str(key))
            pools.by_param.setdefault("care_folder_id", []).append(str(key))
        next_ids = state.get("next_ids", {})
        pools.by_param["task_id"] = [str(next_ids.get("task", 1) + n) for n in range(8)]
        pools.by_param["feed_id"] = pools.by_param.get("feed_id", []) + [f"F{next_ids.get('feed', 1) + n}" for n in range(8)]
        return pools


def scalars(pools: Pools) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(NASTY_TEXT),
        st.text(max_size=20),
        st.sampled_from(pools.ids or ["1"]),
        st.sampled_from(pools.skus or ["SKU"]),
        st.sampled_from(pools.eans or ["0"]),
    )


def json_values(pools: Pools) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(pools),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=5)),
        max_leaves=6,
    )


def objects(pools: Pools, names: tuple[str, ...] = FIELD_NAMES) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object of field names (``names`` mostly) with values: numbers' nasties for number fields, anything else."""
    any_value = json_values(pools)
    numbers = st.sampled_from(POISON_NUMBERS) | st.sampled_from(NASTY_NUMBERS) | any_value
    mine = st.sampled_from(names)
    keys = st.lists(st.one_of(mine, mine, mine, st.sampled_from(FIELD_NAMES), st.text(max_size=8)), max_size=6, unique=True)

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        return {k: draw(numbers if k in NUMERIC_FIELDS else any_value) for k in draw(keys)}

    return build()


def fields_for(template: str) -> tuple[str, ...]:
    """The fields the route at ``template`` reads (every known name when none is listed)."""
    for fragment, names in ROUTE_FIELDS.items():
        if fragment in template and (fragment != "/ws/listings" or template == "/ws/listings"):
            return names
    return FIELD_NAMES


@st.composite
def csv_batches(draw: Any, pools: Pools) -> dict[str, Any]:
    """A ``POST /ws/listings`` body whose catalog is CSV in the drawn dialect, its values half plausible."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " ", '"', "\n"]) | st.characters(max_codepoint=0x2FF))
    quotechar = draw(st.sampled_from(['"', "'", ","]) | st.characters(max_codepoint=0x2FF))
    header = draw(st.lists(st.sampled_from(sorted(CSV_COLUMNS)) | st.text(max_size=6), min_size=1, max_size=7))
    value = st.one_of(
        st.sampled_from(pools.skus or ["SKU"]),
        st.sampled_from(pools.eans or ["0"]),
        st.sampled_from(pools.ids or ["1"]),
        st.sampled_from(NASTY_TEXT[:40]),
        st.decimals(allow_nan=True, places=2).map(str),
        st.integers(-5, 10**6).map(str),
        st.sampled_from(["PREMIUM", "EXCELLENT", "VERY_GOOD", "GOOD", "FAIR", "STALLONE", "EUR", "12", "24"]),
    )
    rows = draw(st.lists(st.lists(value, min_size=len(header), max_size=len(header) + 1), min_size=0, max_size=4))
    quote_all = draw(st.booleans())

    def cell(text: str) -> str:
        return quotechar + text.replace(quotechar, quotechar * 2) + quotechar if quote_all else text

    catalog = "\n".join(delimiter.join(cell(c) for c in row) for row in [header, *rows])
    body: dict[str, Any] = {
        "catalog": catalog,
        "quotechar": quotechar,
        "delimiter": delimiter,
        "encoding": draw(st.sampled_from(["utf-8", "UTF-8", "latin-1", "ascii", "utf-16", "klingon", "rot13"])),
    }
    # sometimes one field of the batch is malformed too
    broken = draw(st.sampled_from([None, None, "catalog", "quotechar", "delimiter", "encoding"]))
    if broken:
        body[broken] = draw(json_values(pools))
    return body


@st.composite
def feed_items(draw: Any, pools: Pools) -> dict[str, Any]:
    """A Leboncoin feed body: ``{reference, items}`` with product or offer lines, half plausible."""
    item = st.fixed_dictionaries(
        {},
        optional={
            "sku": st.sampled_from(pools.skus or ["SKU"]) | st.sampled_from(NASTY_TEXT),
            "title": st.text(max_size=120) | st.sampled_from(NASTY_TEXT),
            "description": st.text(min_size=0, max_size=40),
            "category": st.sampled_from(["multimedia.consoles", "home.decoration", "home", "nope", ""]),
            "condition": st.sampled_from(["used", "refurbished", "new", "", "broken"]),
            "new_reason": st.sampled_from(["clearance", "craftsmanship", None, "x"]),
            "attributes": json_values(pools),
            "price": st.sampled_from(POISON_NUMBERS) | st.sampled_from(NASTY_NUMBERS) | scalars(pools),
            "quantity": st.sampled_from(POISON_NUMBERS) | st.sampled_from(NASTY_NUMBERS) | scalars(pools),
            "secure_payment": scalars(pools),
        },
    )
    reference = st.text(min_size=1, max_size=10) | st.text(min_size=1, max_size=10) | scalars(pools)
    return {"reference": draw(reference), "items": draw(st.lists(item | item | json_values(pools), min_size=0, max_size=4))}


@dataclass
class Request:
    method: str
    path: str
    params: list[tuple[str, str]]
    content: bytes | None
    headers: dict[str, str]

    def __str__(self) -> str:
        body = (self.content or b"")[:300]
        return f"{self.method} {self.path} params={self.params} headers={self.headers} body={body!r}"


def routes_of(sandbox: SandboxApp) -> list[tuple[str, str]]:
    """Every (method, path template) the sandbox serves, read from its Starlette app: new routes are fuzzed too."""
    found = []
    for route in sandbox.app.routes:
        if isinstance(route, Route):
            found.extend((method, route.path) for method in sorted(route.methods or ()) if method != "HEAD")
    return found


def requests(route: tuple[str, str], pools: Pools) -> st.SearchStrategy[Request]:
    """Malformed requests at one route (the tests take the routes one at a time, so that each gets its share).

    Every strategy is built here once: building them at each draw costs more than the requests.
    """
    method, template = route
    names = re.findall(r"\{([^}]+)\}", template)
    anything = st.one_of(st.sampled_from(pools.ids or ["1"]), st.sampled_from(URL_TEXT[:25]), st.text(min_size=1, max_size=12))
    segments = {name: st.sampled_from(pools.by_param.get(name) or pools.ids or ["1"]) | anything for name in names}
    param_value = st.sampled_from(URL_TEXT) | st.sampled_from([str(n) for n in NASTY_NUMBERS]) | st.text(max_size=12)
    params = st.lists(
        st.tuples(st.sampled_from(sorted(NUMERIC_FIELDS)) | st.sampled_from(FIELD_NAMES) | st.text(max_size=6), param_value), max_size=4
    )
    own = objects(pools, fields_for(template)).map(lambda v: json.dumps(v).encode())
    kinds: dict[str, st.SearchStrategy[Any]] = {
        "own": own,
        "json": json_values(pools).map(lambda v: json.dumps(v).encode()),
        "raw": st.sampled_from(
            [b"{", b"NaN", b'{"price": NaN}', b'{"sku": "\\ud800"}', b"[" * 5000 + b"]" * 5000, b'{"a": Infinity}', b"\xff\xfe", b"null"]
        )
        | st.binary(max_size=40),
        "form": st.sampled_from([b"grant_type=refresh_token&refresh_token=lbc-sandbox-refresh-token", b"grant_type=x", b"%zz"])
        | st.binary(max_size=30),
        "none": st.none(),
    }
    weights = ["own", "own", "own", "json", "raw", "form", "none"]
    if template == "/ws/listings":
        kinds["csv"] = csv_batches(pools).map(lambda v: json.dumps(v).encode())
        weights += ["csv"] * 4
    if "/feeds/" in template:
        kinds["feed"] = feed_items(pools).map(lambda v: json.dumps(v).encode())
        weights += ["feed"] * 4
    if "invoice" in template:
        kinds["multipart"] = st.sampled_from(["b", "xyz", ""]).flatmap(
            lambda b: st.tuples(
                st.just(b),
                st.sampled_from(
                    [
                        f'--{b}\r\nContent-Disposition: form-data; name="invoice"; filename="i.pdf"\r\n\r\n%PDF\r\n--{b}--\r\n'.encode(),
                        f"--{b}\r\n\r\n--{b}--".encode(),
                        b"garbage",
                    ]
                )
                | st.binary(max_size=60),
            )
        )
        weights += ["multipart"] * 3
    kind_of = st.sampled_from(weights)

    @st.composite
    def one(draw: Any) -> Request:
        path = template
        for name in names:
            path = path.replace("{" + name + "}", quote(draw(segments[name]) or "x", safe=""), 1)
        kind = draw(kind_of)
        content = draw(kinds[kind])
        if kind == "none":
            return Request(method, path, draw(params), None, {})
        ctype = "application/x-www-form-urlencoded" if kind == "form" else "application/json"
        if kind == "multipart":
            boundary, content = content
            ctype = f"multipart/form-data; boundary={boundary}"
        return Request(method, path, draw(params), content, {"content-type": ctype})

    return one()


# ---------------------------------------------------------------------- the poison table

#: Values that, in one field or another, once entered a sandbox's state or broke a handler.
POISON_VALUES: tuple[Any, ...] = (
    *POISON_NUMBERS,
    "-Infinity",
    "1_000",
    "",
    " ",
    "x" * 6000,
    "\x00",
    [],
    {},
    [1],
    {"a": 1},
    True,
    None,
    1.5,
    "é💥",
)

#: Path fragment -> a body its handler accepts: the table puts one poison into one field of it at a time.
BASE_BODIES: dict[str, dict[str, Any]] = {
    "/msg": {"message": "Bonjour, nous vous renvoyons un appareil."},
    "/problem": {"problem_type": "OTHER"},
    "/item-transfer": {"shipperName": "DHL", "trackingNumber": "1Z999", "action": "REPAIR"},
    "/ws/sav/refund": {"orderline_pk": 60000001, "refund_type": 6, "amount": 1.5},
    "/_sandbox/care/": {"message": "Toujours rien ?", "from": "Customer"},
    "/_sandbox/care": {"order_id": 40000001, "issue": "SCREEN_DEFECT", "resolution": "REFUND", "legacy": True, "return_label": True},
    "/ws/orders/": {
        "new_state": 3,
        "tracking_number": "6A1",
        "tracking_url": "https://t.example/1",
        "shipper": "Colissimo",
        "date_shipping": "2026-03-02T09:30:00+00:00",
        "vat_type": "REGULAR",
    },
    "/ws/orderlines/": {"imei": "123456789012345", "serial_number": "SN1"},
    "/ws/listings/": {
        "price": "100.00",
        "quantity": 3,
        "min_price": "90.00",
        "currency": "EUR",
        "comment": "ok",
        "warranty_delay": 12,
        "shipper_1": "Colissimo",
        "shipping_delay_1": 24,
        "shipping_price_1": "0.00",
    },
    "/ws/listings": {"catalog": "sku,quantity,price\nIPH12-64-BLK-VG,3,389.00", "quotechar": '"', "delimiter": ",", "encoding": "utf-8"},
    "/ads/": {"price": "10.00", "quantity": 1},
    "/feeds/": {
        "reference": "poison",
        "items": [
            {
                "sku": "CHAIR-OAK-01",
                "title": "Chaise en chêne",
                "description": "Une chaise en chêne massif faite main.",
                "category": "home.furniture.seating",
                "condition": "used",
                "price": "100.00",
                "quantity": 1,
                "attributes": {},
            }
        ],
    },
    "confirm-shipping": {"carrier": "colissimo"},
    "/cancel": {"reason": "out_of_stock"},
    "/messages": {"body": "Bonjour"},
    "/_sandbox/orders": {"skus": ["IPH12-64-BLK-VG"], "fate": "paid", "count": 1, "quantity": 1},
    "/_sandbox/clock": {"advance": 1},
    "/_sandbox/generator": {"orders_per_hour": 0},
    "/_sandbox/faults": {"kind": "503", "count": 1, "rate": 1.0, "path": "/nowhere"},
    "/_sandbox/products": {"products": [{"ean": "0190198000019", "title": "T", "category": "c", "grades": ["GOOD"]}]},
    "/_sandbox/tokens": {"token": "fuzz-token"},
    "/_sandbox/refresh-tokens": {"token": "fuzz-refresh", "valid_days": 1},
    "/_sandbox/reset": {"seed": 0},
}


def base_body(template: str) -> dict[str, Any] | None:
    for fragment, body in BASE_BODIES.items():
        if fragment in template and (fragment != "/ws/listings" or template == "/ws/listings"):
            return body
    return None


def poisoned_bodies(template: str) -> list[Any]:
    """The route's base body with one field (or, for a feed, one field of its line) at a time set to each poison."""
    base = base_body(template)
    if base is None:
        return []
    bodies: list[Any] = []
    for name in base:
        for value in POISON_VALUES:
            if name == "items":
                bodies.extend({**base, "items": [{**base["items"][0], key: value}]} for key in base["items"][0])
            else:
                bodies.append({**base, name: value})
    if template == "/ws/listings":  # each CSV cell of the batch, too
        header = ["sku", "quantity", "price", "min_price", "max_price", "warranty_delay", "grade", "ean", "currency", "comment"]
        good = ["IPH12-64-BLK-VG", "3", "389.00", "300.00", "400.00", "12", "GOOD", "0190198000019", "EUR", "ok"]
        for column in range(len(header)):
            for value in POISON_VALUES:
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    row = [*good[:column], str(value).replace(",", ";").replace("\n", " "), *good[column + 1 :]]
                    bodies.append({**base, "catalog": ",".join(header) + "\n" + ",".join(row)})
    return bodies
