"""A Back Market Seller API imitation (``/ws/``) for the demo and the contract tests.

Faithful to the reference's [C] facts: ``Authorization: Basic <token>``, a
mandatory ``User-Agent: BM-{company}-{integration};{email}``, ``/ws/orders``
paged by ``page``/``page-size`` (≤ 50) with absolute ``next`` links and
``date_modification`` as a "since" bound, states 0 and 8 left out unless asked
for, line transitions through ``POST /ws/orders/{id}``, write-once IMEI/serial,
listing batches as CSV in JSON answered by a task id to poll, real-time listing
updates, Backbox competitors, and Cloudflare-style throttling (over 200
requests in 10 s, or 20 on catalog endpoints, blocks for 10 s with a 429 and
no ``Retry-After``; over 2,000 listing lines in an hour refuses batches).
Care (after-sales folders, messages, problems, item transfers, refunds and
their budgets) is in :mod:`shelfdesk.sandbox.backmarket_care`.

Guesses, marked [I] where they are made: error bodies of order endpoints (V2
envelope), the shape of a task's ``result``, which endpoints are
"catalog-type", the order in which ``/ws/orders`` lists (by ``order_id``, so
paging is stable while orders change), one market per sandbox, price bounds,
a missing User-Agent answered by 400, an unknown token by 403.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shelfdesk.clock import Clock
from shelfdesk.domain import Marketplace
from shelfdesk.markets import BACKMARKET_LOCALES, market_by_code
from shelfdesk.sandbox.app import ApiError, RouteOptions, SandboxApp, iso, parse_iso
from shelfdesk.sandbox.backmarket_care import CareSandbox
from shelfdesk.sandbox.backmarket_rules import (
    CSV_COLUMNS,
    LISTING_UPDATE_FIELDS,
    ORDER_STATES,
    BatchUnreadable,
    GRADES,
    MAX_CSV_LINES,
    apply_update,
    check_grade,
    check_listing_update_types,
    check_listing_values,
    parse_listing_row,
    read_batch,
    read_catalog,
    resolve_product,
    set_line_details,
)
from shelfdesk.sandbox.core import RateWindow, as_datetime, shape_problem, utf8_clean
from shelfdesk.sandbox.inputs import as_decimal, as_int, is_uuid, multipart_parts, query_int
from shelfdesk.sandbox.seeddata import gtin_check_digit, make_address, make_uuid, valid_gtin

DEFAULT_TOKEN = "bm-sandbox-token"
USER_AGENT = re.compile(r"^BM-[^;\s][^;]*-[^;]+;[^;\s]+@[^;\s]+$")
MAX_USER_AGENT = 512

#: The sandbox's slice of the Back Market catalog: (title, category, is Apple).
PRODUCTS = (
    ("iPhone 13 128 Go - Minuit - Débloqué", "smartphones", True),
    ("iPhone 12 64 Go - Noir - Débloqué", "smartphones", True),
    ("iPhone SE (2022) 64 Go - Rouge - Débloqué", "smartphones", True),
    ("Galaxy S21 5G 128 Go - Gris - Débloqué", "smartphones", False),
    ("Galaxy A52 128 Go - Noir - Débloqué", "smartphones", False),
    ("Pixel 7 128 Go - Obsidienne - Débloqué", "smartphones", False),
    ('MacBook Air 13" M1 (2020) 8 Go 256 Go SSD', "laptops", True),
    ("iPad 9 (2021) 64 Go Wi-Fi - Gris sidéral", "tablets", True),
    ("AirPods Pro (1re génération)", "audio", True),
    ("Apple Watch Series 7 GPS 41 mm - Minuit", "watches", True),
    ("Nintendo Switch OLED - Blanc", "consoles", False),
    ("PlayStation 5 Standard 825 Go", "consoles", False),
    ("Dyson V11 Absolute", "home", False),
    ("Redmi Note 11 128 Go - Gris", "smartphones", False),
    ("iPhone 8 64 Go - Gris sidéral - Débloqué", "smartphones", True),
    ("Galaxy S9 128 Go - Noir - Débloqué", "smartphones", False),
)

#: Listings the account starts with: (sku, product index, grade, price, quantity, publication_state).
#: The last four are SKUs that no shelfdesk catalog has, as a real account carries old ones.
SEED_LISTINGS = (
    ("IPH13-128-MID-EXC", 0, "EXCELLENT", "629.00", 4, 2),
    ("IPH13-128-MID-GOOD", 0, "GOOD", "559.00", 7, 2),
    ("IPH13-128-MID-PREM", 0, "PREMIUM", "689.00", 2, 2),
    ("IPH12-64-BLK-VG", 1, "VERY_GOOD", "389.00", 3, 2),
    ("IPHSE22-64-RED-FAIR", 2, "FAIR", "219.00", 5, 2),
    ("GS21-128-GRY-GOOD", 3, "GOOD", "329.00", 2, 2),
    ("GA52-128-BLK-EXC", 4, "EXCELLENT", "229.00", 6, 2),
    ("PIX7-128-OBS-VG", 5, "VERY_GOOD", "399.00", 1, 2),
    ("MBA-M1-256-GRY-EXC", 6, "EXCELLENT", "749.00", 2, 2),
    ("IPAD9-64-GRY-GOOD", 7, "GOOD", "279.00", 4, 2),
    ("APP1-WHT-EXC", 8, "EXCELLENT", "139.00", 9, 2),
    ("AW7-41-MID-FAIR", 9, "FAIR", "229.00", 0, 3),
    ("NSW-OLED-WHT-EXC", 10, "EXCELLENT", "279.00", 3, 2),
    ("PS5-STD-825-GOOD", 11, "GOOD", "389.00", 0, 3),
    ("DYS-V11-ABS-VG", 12, "VERY_GOOD", "299.00", 2, 1),
    ("LEGACY-IPH8-64-GRY", 14, "GOOD", "149.00", 1, 2),
    ("OLD-GS9-128-BLK", 15, "FAIR", "99.00", 2, 2),
    ("ZZ-TEST-0001", 13, "STALLONE", "59.00", 0, 3),
    ("BM-IMPORT-7731", 13, "GOOD", "119.00", 1, 2),
)
ORPHAN_SKUS = tuple(s[0] for s in SEED_LISTINGS[-4:])

#: How a generated order looks when it first appears: (fate, weight). [I] proportions.
FATES = (("paid", 40), ("checks", 15), ("pending_payment", 10), ("accepted", 15), ("shipped", 12), ("failed", 5), ("cancelled", 3))
_FATE_STATES = {  # fate -> (order state, line state)
    "checks": (0, 0),
    "pending_payment": (10, 8),
    "paid": (1, 1),
    "accepted": (3, 2),
    "shipped": (9, 3),
    "failed": (8, 7),
    "cancelled": (9, 4),
}
CHECKS_DELAY = timedelta(minutes=20)  # [I] state 0 -> 1 once checks pass
PAYMENT_DELAY = timedelta(minutes=45)  # [I] state 10 -> 1 (or 8) once the customer pays (or not)
CARRIERS = ("Colissimo", "Chronopost", "UPS", "DHL Express")


def _amount(value: Any) -> bool:
    return as_decimal(value) is not None


def _one_char(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 1


def _lines(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(shape_problem(line, _LINE) is None for line in value)


_DATE, _NULL = as_datetime, type(None)
_LINE = {"id": int, "state": int, "listing": str, "listing_id": int, "quantity": int, "price": _amount}


class BackMarketSandbox(CareSandbox, SandboxApp):
    name = "backmarket"
    #: The market (locale) of the orders it generates; the admin API's orders may name another.
    market = "fr-fr"
    order_options = ("country_code",)
    keyed_collections = ("orders", "listings", "tasks", "products", "care", "care_attachments")
    appended_lists = ("effects", "invoices", "refunds")
    fates = tuple(fate for fate, _ in FATES)
    entry_shapes = {
        "listings": {
            "id": str,
            "listing_id": int,
            "product_id": str,
            "sku": str,
            "title": str,
            "quantity": int,
            "price": _amount,
            "min_price": lambda v: v is None or _amount(v),
            "max_price": lambda v: v is None or _amount(v),
            "publication_state": int,
            "grade": str,
        },
        "orders": {
            "order_id": int,
            "state": int,
            "orderlines": _lines,
            "date_creation": _DATE,
            "date_modification": _DATE,
            "_due": lambda v: v is None or _DATE(v),
            "country_code": str,
        },
        "tasks": {
            "task_id": int,
            "created_at": _DATE,
            "seconds": (int, float),
            "action_status": int,
            "catalog": str,
            "delimiter": _one_char,
            "quotechar": _one_char,
        },
        "products": {"product_id": str, "ean": str, "title": str, "grades": list},
        "effects": {"kind": str},
        "invoices": {"order_id": int},
        "care": {
            "id": int,
            "orderline": int,
            "order_id": int,
            "state": int,
            "client": dict,
            "country_code": str,
            "backcare": bool,
            "lines": list,
            "messages": lambda v: isinstance(v, list) and all(isinstance(m, dict) and isinstance(m.get("attachments"), list) for m in v),
            "problems": list,
            "transfers": lambda v: isinstance(v, list) and all(isinstance(t, dict) and "trackingNumber" in t for t in v),
            "date_creation": _DATE,
            "date_modification": _DATE,
            "date_last_message": _DATE,
        },
        "care_attachments": {"id": int, "name": str, "content_type": str, "data": str, "date_creation": str},
        "refunds": {"orderline": int, "amount": str},
        "lines_log": lambda e: isinstance(e, list) and len(e) == 2 and all(isinstance(n, (int, float)) for n in e),
        "tokens": str,
    }

    def __init__(
        self,
        folder: Path | str,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        token: str = DEFAULT_TOKEN,
        orders_per_hour: float | None = None,
        task_seconds: float = 120.0,
        hang_cap: float = 15.0,
        history_orders: int = 12,
    ) -> None:
        self._token = token
        #: Orders a new sandbox starts with (a real account has some); the demo writes its own month.
        self.history_orders = history_orders
        self.task_seconds = task_seconds
        self.reset_limits()
        super().__init__(folder, clock=clock, seed=seed, orders_per_hour=orders_per_hour, hang_cap=hang_cap)
        if token not in self.state["tokens"]:
            self.state["tokens"].append(token)
            self._persist()

    def reset_limits(self) -> None:
        self.requests = RateWindow(200, 10.0, 10.0)  # [C] about 200 / 10 s, blocked 10 s
        self.catalog = RateWindow(20, 10.0, 10.0)  # [C] about 20 / 10 s on catalog endpoints
        self.competitors = RateWindow(2, 1.0, 1.0)  # [C] 2 calls / s per token
        self.reset_care_limits()

    # ------------------------------------------------------------------ seeding and generation

    def seed_state(self, seed: int) -> dict[str, Any]:
        rng = self.rng_for("catalog")
        products: dict[str, dict[str, Any]] = {}
        product_ids: list[str] = []
        for index, (title, category, apple) in enumerate(PRODUCTS):
            pid = make_uuid(rng)
            body = "0190198" + f"{index:05d}"  # stable, valid EAN-13s
            products[pid] = {
                "product_id": pid,
                "ean": body + gtin_check_digit(body),
                "title": title,
                "category": category,
                # [I] PREMIUM is offered on Apple products only
                "grades": list(GRADES) if apple else list(GRADES[1:]),
            }
            product_ids.append(pid)
        now = self.clock.now()
        state: dict[str, Any] = {
            "version": 1,
            "seed": seed,
            "tokens": [self._token],
            "products": products,
            "listings": {},
            "orders": {},
            "tasks": {},
            "effects": [],
            "invoices": [],
            "care": {},
            "care_attachments": {},
            "refunds": [],
            "lines_log": [],
            "next_ids": {"listing": 100001, "order": 40000001, "line": 60000001, "task": 9001},
            "generator": {"rate_per_hour": 0.0, "epoch": iso(now), "generated": 0},
        }
        self.state = state
        for sku, index, grade, price, qty, pub in SEED_LISTINGS:
            self._new_listing(sku, products[product_ids[index]], grade, Decimal(price), qty, pub, now, rng)
        for k in range(self.history_orders):  # history: orders of the last three days
            self.generate_order(now - timedelta(hours=6 * (self.history_orders - k)), -(k + 1))
        return state

    def add_products(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add products to the sandbox's slice of the Back Market catalog; returns the ones added.

        The real catalog knows most refurbished electronics by EAN; the sandbox
        seeds only a few, so a demo or a test that publishes its own catalog
        adds its EANs here first (an EAN left out answers ``unknown-ean``, as a
        product missing from Back Market's catalog would). Each entry needs a
        valid ``ean``; ``title``, ``category`` and ``grades`` are optional.
        Known EANs are left as they are.
        """
        known = {p["ean"] for p in self.state["products"].values()}
        added: list[dict[str, Any]] = []
        for entry in entries:  # all checked before any is added
            if not isinstance(entry, dict) or not isinstance(entry.get("ean"), (str, int)) or isinstance(entry["ean"], bool):
                raise ValueError("each product is an object with its ean")
            ean = str(entry["ean"]).strip()
            if not valid_gtin(ean):
                raise ValueError(f"ean {ean[:20]!r} is not a valid EAN")
            grades = entry.get("grades") or list(GRADES)
            if not isinstance(grades, list) or (unknown := sorted(set(map(str, grades)) - set(GRADES))):
                raise ValueError(f"grades must be a list of {', '.join(GRADES)}")
            texts = {k: entry.get(k) for k in ("title", "category")}
            if not all(v is None or (isinstance(v, str) and len(v) <= 200 and utf8_clean(v)) for v in texts.values()):
                raise ValueError("title and category must be strings of at most 200 characters")
            if ean in known:
                continue
            pid = make_uuid(self.rng_for("product", ean))
            added.append(
                {
                    "product_id": pid,
                    "ean": ean,
                    "title": texts["title"] or f"Product {ean}",
                    "category": texts["category"] or "other",
                    "grades": [str(g) for g in grades],
                }
            )
            known.add(ean)
        for product in added:
            self.state["products"][product["product_id"]] = product
        self._persist()
        return added

    def _new_listing(
        self, sku: str, product: dict[str, Any], grade: str, price: Decimal, qty: int, pub: int, now: datetime, rng: Any
    ) -> dict[str, Any]:
        listing = {
            "id": make_uuid(rng),
            "listing_id": self._next_id("listing"),
            "product_id": product["product_id"],
            "backmarket_id": 500000 + self.state["next_ids"]["listing"],
            "sku": sku,
            "title": product["title"],
            "quantity": qty,
            "price": f"{price:.2f}",
            "currency": "EUR",
            "min_price": None,
            "max_price": None,
            "publication_state": pub,
            "grade": grade,
            "state": _LEGACY_STATE.get(grade, 2),
            "warranty_delay": 12,
            "comment": "",
            "shippings": [],
            "date_creation": iso(now),
            "date_modification": iso(now),
        }
        self.state["listings"][listing["id"]] = listing
        return listing

    def _pick_listing(self, rng: Any) -> dict[str, Any]:
        listings = list(self.state["listings"].values())
        live = [l for l in listings if l["publication_state"] == 2 and l["quantity"] > 0]
        return rng.choice(live or listings)

    def generate_order(
        self,
        created_at: datetime,
        index: int,
        *,
        skus: list[str] | None = None,
        fate: str | None = None,
        quantity: int | None = None,
        country_code: str | None = None,
    ) -> dict[str, Any]:
        """One order; ``country_code`` is its market's locale (the sandbox's own market unless given)."""
        locale = (country_code or self.market).lower()
        market = market_by_code(Marketplace.backmarket, locale)
        if market is None or market.code != locale:
            raise ValueError(f"unknown country_code {country_code!r}: one of {', '.join(BACKMARKET_LOCALES)}")
        rng = self.rng_for("order", index, iso(created_at))
        if fate is None:
            fate = rng.choices([f for f, _ in FATES], [w for _, w in FATES])[0]
        if fate not in _FATE_STATES:
            raise ValueError(f"unknown fate {fate!r}: one of {', '.join(_FATE_STATES)}")
        if skus:
            listings = [self._listing_for_sku(s, rng) for s in skus]
        else:
            listings = [self._pick_listing(rng)]
            if rng.random() < 0.15:
                second = self._pick_listing(rng)
                if second is not listings[0]:
                    listings.append(second)
        order_state, line_state = _FATE_STATES[fate]
        address = make_address(rng, market.country)
        lines, total = [], Decimal("0")
        for listing in listings:
            qty = quantity or (2 if rng.random() < 0.1 else 1)
            price = Decimal(listing["price"])
            total += price * qty
            listing["quantity"] = max(0, listing["quantity"] - qty)
            self.touch("listings", listing["id"])
            lines.append(
                {
                    "id": self._next_id("line"),
                    "state": line_state,
                    "listing": listing["sku"],
                    # [C] ``price`` is the unit price; ``product_id`` an integer (the listing's backmarket_id).
                    "listing_id": listing["listing_id"],
                    "product": listing["title"],
                    "product_id": listing["backmarket_id"],
                    "quantity": qty,
                    "price": f"{price:.2f}",
                    "shipping_price": "0.00",
                    "currency": "EUR",
                    "orderline_fee": f"{(price * qty * Decimal('0.10')):.2f}",
                    "return_reason": None,
                    "return_message": None,
                    "imei": None,
                    "serial_number": None,
                    "condition": 10,
                }
            )
        oid = self._next_id("order")
        paid = created_at + (PAYMENT_DELAY if fate == "pending_payment" else timedelta(minutes=1))
        order = {
            "order_id": oid,
            "state": order_state,
            "orderlines": lines,
            "shipping_address": address,
            "billing_address": dict(address),
            "price": f"{total:.2f}",
            "shipping_price": "0.00",
            "currency": "EUR",
            "country_code": locale,
            "date_creation": iso(created_at),
            "date_modification": iso(created_at),
            "date_payment": iso(paid) if order_state in (1, 3, 9) else None,
            "date_shipping": None,
            "expected_dispatch_date": iso(paid + timedelta(days=2)),
            "tracking_number": None,
            "tracking_url": None,
            "shipper_display": None,
            "delivery_note": f"https://sandbox.invalid/delivery-notes/{oid}.pdf",
            "payment_method": "CARD",
            "_due": None,
            "_fate": fate,
        }
        if fate == "checks":
            order["_due"] = iso(created_at + CHECKS_DELAY)
        elif fate == "pending_payment":
            order["_due"] = iso(created_at + PAYMENT_DELAY)
            order["_pays"] = rng.random() < 0.7
        elif fate == "shipped":
            order.update(
                tracking_number=f"6A{rng.randrange(10**10, 10**11)}",
                shipper_display=rng.choice(CARRIERS),
                date_shipping=iso(min(created_at + timedelta(hours=20), max(created_at, self.clock.now()))),
            )
        self.state["orders"][str(oid)] = order
        return order

    def ensure_listing(
        self, sku: str, price: Decimal, *, grade: str = "GOOD", quantity: int = 5, title: str | None = None
    ) -> dict[str, Any]:
        """Seeding (demo, tests): the online listing for ``sku`` at ``price``, created when unknown.

        A real account's orders are for listings it sells at its own prices; without
        this, orders for an unknown SKU get a placeholder listing at 100.00. ``title``
        names what is sold (else the sandbox's first catalog product lends its own,
        and a laptop's orders would read "iPhone 13").
        """
        listing = self._listing_for_sku(sku, self.rng_for("listing", sku))
        listing.update(price=f"{price:.2f}", grade=grade, quantity=quantity)
        if title:
            listing["title"] = title
        self.touch("listings", listing["id"])
        self._persist()
        return listing

    def _listing_for_sku(self, sku: str, rng: Any) -> dict[str, Any]:
        """The listing with this SKU; created on the fly (pending nothing) for an unknown one."""
        found = self._listing_by_sku(sku)
        if found is not None:
            return found
        product = next(iter(self.state["products"].values()))
        return self._new_listing(sku, product, "GOOD", Decimal("100.00"), 5, 2, self.clock.now(), rng)

    def advance(self, now: datetime) -> None:
        """Orders leave checks and pending payment; tasks progress and are processed."""
        for order in self.state["orders"].values():
            due = order.get("_due")
            if due and parse_iso(due) <= now:
                when = parse_iso(due)
                if order["state"] == 0 or (order["state"] == 10 and order.get("_pays", True)):
                    order["state"], new_line = 1, 1
                    order["date_payment"] = iso(when)
                else:
                    order["state"], new_line = 8, 7
                for line in order["orderlines"]:
                    line["state"] = new_line
                order["_due"], order["date_modification"] = None, iso(when)
                self.touch("orders", order["order_id"])
        for task in self.state["tasks"].values():
            if task["action_status"] in (8, 9):
                continue
            created = parse_iso(task["created_at"])
            if now >= created + timedelta(seconds=task["seconds"]):
                self.touch("tasks", task["task_id"])
                with self.contained(f"task {task['task_id']}") as failed:
                    self._process_task(task, created + timedelta(seconds=task["seconds"]))
                if failed:
                    task.update(action_status=8, last_action_error="Task has been interrupted.", result=task.get("result") or [])
            elif now >= created + timedelta(seconds=task["seconds"] / 2) and task["action_status"] == 0:
                task["action_status"] = 2
                self.touch("tasks", task["task_id"])

    # ------------------------------------------------------------------ gatekeeping

    def gate(self, request: Request, opts: RouteOptions) -> Response | None:
        key = request.headers.get("authorization") or (request.client.host if request.client else "?")
        now = self.clock.now().timestamp()
        if not self.requests.allow(key, now):
            return self.throttled(None)
        if "catalog" in opts.limits and not self.catalog.allow(key, now):
            return self.throttled(None)
        if "competitors" in opts.limits and not self.competitors.allow(key, now):
            return self.throttled(None)
        agent = request.headers.get("user-agent", "")
        # Length first: the pattern backtracks quadratically, and a 64 kB header held the event loop for seconds [I].
        if len(agent) > MAX_USER_AGENT or not USER_AGENT.match(agent):
            return self.error(
                ApiError(400, "User-Agent is mandatory and must read BM-{company}-{integration};{contact email}", "invalid-user-agent")
            )
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Basic ") or not auth[6:].strip():
            return self.error(ApiError(401, "Authentication credentials were not provided.", "unauthorized"))
        if auth[6:].strip() not in self.state["tokens"]:
            return self.error(ApiError(403, "Invalid token.", "forbidden"))
        return self.care_budget_refusal(auth, opts.limits, now)  # per seller, so after the token is known

    def error(self, exc: ApiError) -> Response:
        """[C] Listings and tasks answer ``{"error": {"code", "message"}, "requestId"}`` (a 400 of
        ``POST /ws/listings`` and ``POST /ws/listings/{id}``: a plain JSON string). The orders
        endpoints document no body: they answer the ``{"errors": [...]}`` envelope the spec
        defines elsewhere [I]."""
        if exc.plain or (exc.status == 400 and self.current_method == "POST" and self.current_path.startswith("/ws/listings")):
            return JSONResponse(exc.message, exc.status)  # also for a body that is not JSON at all
        request_id = hashlib.sha1(f"{self.seed}:{len(self.log.entries)}".encode()).hexdigest()[:20]
        error = {"code": exc.code or "error", "message": exc.message}
        if self.current_path.startswith(("/ws/listings", "/ws/tasks")):
            body: dict[str, Any] = {"error": error, "requestId": request_id}
        else:
            body = {"errors": [error], "requestId": request_id}
        return JSONResponse(body, exc.status, headers=exc.headers)

    def credentials(self) -> dict[str, Any]:
        return {
            "authorization": [f"Basic {t}" for t in self.state["tokens"]],
            "user_agent": "BM-{company}-{integration};{contact email} (mandatory)",
        }

    # ------------------------------------------------------------------ routes

    def routes(self) -> list[Route]:
        r = self.route
        return [
            r("/ws/orders", self.list_orders, ["GET"]),
            r("/ws/orders/{order_id}", self.get_order, ["GET"]),
            r("/ws/orders/{order_id}", self.update_order, ["POST"]),
            r("/ws/orders/{order_id}/invoice", self.upload_invoice, ["POST"]),
            r("/ws/orderlines/{line_id}", self.patch_line, ["PATCH"]),
            r("/ws/listings", self.list_listings, ["GET"], limits=("requests", "catalog")),
            r("/ws/listings", self.post_listings, ["POST"], limits=("requests", "catalog")),
            r("/ws/listings/detail", self.listing_detail, ["GET"], limits=("requests", "catalog")),
            r("/ws/listings/{listing_id}", self.get_listing, ["GET"], limits=("requests", "catalog")),
            r("/ws/listings/{listing_id}", self.update_listing, ["POST"], limits=("requests", "catalog")),
            r("/ws/tasks/{task_id}", self.get_task, ["GET"], limits=("requests", "catalog")),
            r("/ws/backbox/v1/competitors/{listing_id}", self.get_competitors, ["GET"], limits=("requests", "competitors")),
            *self.care_routes(),
        ]

    def _page(self, request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        q = request.query_params
        page = query_int(q, "page", minimum=1, code="invalid-pagination") or 1
        size = query_int(q, "page-size", minimum=1, maximum=50, code="invalid-pagination") or 10
        start = (page - 1) * size
        chunk = items[start : start + size]
        more = start + size < len(items)
        return JSONResponse(
            {
                "count": len(items),
                "next": str(request.url.include_query_params(page=page + 1)) if more else None,
                "previous": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
                "results": chunk,
            }
        )

    async def list_orders(self, request: Request, _: Any) -> Response:
        q = request.query_params
        state = query_int(q, "state", choices=ORDER_STATES)
        bounds = {}
        for key in ("date_modification", "date_creation"):
            if q.get(key):
                bounds[key] = as_datetime(q[key])
                if bounds[key] is None:
                    raise ApiError(400, f"{key} must be an RFC 3339 datetime with its offset", "invalid-date")
        wanted = (q.get("country_code") or "").lower()
        if wanted and wanted not in BACKMARKET_LOCALES:  # [C] a market's locale
            raise ApiError(400, f"country_code must be one of {', '.join(BACKMARKET_LOCALES)}", "invalid-country-code")
        orders = sorted(self.state["orders"].values(), key=lambda o: o["order_id"])
        if state is not None:
            orders = [o for o in orders if o["state"] == state]
        else:  # [C] states 0 and 8 are left out by default
            orders = [o for o in orders if o["state"] not in (0, 8)]
        for key, since in bounds.items():
            orders = [o for o in orders if parse_iso(o[key]) >= since]
        if wanted:
            orders = [o for o in orders if str(o["country_code"]).lower() == wanted]
        return self._page(request, [self.public_order(o) for o in orders])

    def public_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """[C] The spec types these fields as strings (or integers) that are never null: an unset one is
        an empty string, or absent for dates and codes. The state keeps None."""
        public = _never_null({k: v for k, v in order.items() if not k.startswith("_")})
        public["orderlines"] = [_never_null(line) for line in order["orderlines"]]
        return public

    def _order(self, order_id: str) -> dict[str, Any]:
        if as_int(order_id, minimum=0) is None:  # [C] an integer path parameter; Back Market answers 400 to others
            raise ApiError(400, f"order_id must be an integer, not {order_id[:40]!r}", "invalid-parameter")
        order = self.state["orders"].get(str(as_int(order_id)))
        if order is None:
            raise ApiError(404, f"Order {order_id} not found", "not-found")
        return order

    async def get_order(self, request: Request, _: Any) -> Response:
        return JSONResponse(self.public_order(self._order(request.path_params["order_id"])))

    async def update_order(self, request: Request, body: Any) -> Response:
        order = self._order(request.path_params["order_id"])
        self.touch("orders", order["order_id"])  # before: a refusal may come after a first change
        effect = apply_update(order, body, self.clock.now())
        self.effect("order_action", **effect)
        return JSONResponse(self.public_order(order))

    async def patch_line(self, request: Request, body: Any) -> Response:
        line_id = request.path_params["line_id"]
        if as_int(line_id, minimum=0) is None:  # [C] an integer path parameter
            raise ApiError(400, f"orderline_id must be an integer, not {line_id[:40]!r}", "invalid-parameter")
        line_id = str(as_int(line_id))
        for order in self.state["orders"].values():
            for line in order["orderlines"]:
                if str(line["id"]) == line_id:
                    self.touch("orders", order["order_id"])
                    effect = set_line_details(order, line, body, self.clock.now())
                    self.effect("line_details", **effect)
                    return JSONResponse(_never_null(line))
        raise ApiError(404, f"Orderline {line_id} not found", "not-found")

    async def upload_invoice(self, request: Request, body: Any) -> Response:
        order = self._order(request.path_params["order_id"])
        ctype = request.headers.get("content-type", "")
        if "multipart/form-data" not in ctype or not isinstance(body, bytes):
            raise ApiError(400, "Send the invoice as multipart/form-data in the field 'invoice'", "invalid-invoice")
        for part in multipart_parts(ctype, body):
            if part.field == "invoice":
                content = part.content
                record = {
                    "order_id": order["order_id"],
                    "filename": part.filename or "invoice.pdf",
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
                self.state["invoices"].append(record)
                self.effect("invoice", **record)
                return JSONResponse({"order_id": order["order_id"], "invoice": record["filename"]})
        raise ApiError(400, "The field 'invoice' is missing", "invalid-invoice")

    # ---- listings

    def _listing_by_sku(self, sku: str) -> dict[str, Any] | None:
        wanted = sku.casefold()
        return next((l for l in self.state["listings"].values() if l["sku"].casefold() == wanted), None)

    def _listing(self, ident: str, *, status: int = 400, plain: bool = False) -> dict[str, Any]:
        """A listing by its UUID or its integer id (the path's ``oneOf`` [C]); ``status`` for an id of neither shape."""
        if not is_uuid(ident) and as_int(ident, minimum=0) is None:
            raise ApiError(status, f"listingId must be a UUID or an integer, not {ident[:40]!r}", "invalid-parameter", plain=plain)
        listing = self.state["listings"].get(ident) or next(
            (l for l in self.state["listings"].values() if str(l["listing_id"]) == ident), None
        )
        if listing is None:
            raise ApiError(404, f"Listing {ident} not found", "not-found")
        return listing

    async def list_listings(self, request: Request, _: Any) -> Response:
        q = request.query_params
        publication = query_int(q, "publication_state", choices=(0, 1, 2, 3, 4))  # [C]
        least, most = query_int(q, "min_quantity"), query_int(q, "max_quantity")
        listings = sorted(self.state["listings"].values(), key=lambda l: l["listing_id"])
        if publication is not None:
            listings = [l for l in listings if l["publication_state"] == publication]
        if least is not None:
            listings = [l for l in listings if l["quantity"] >= least]
        if most is not None:
            listings = [l for l in listings if l["quantity"] <= most]
        return self._page(request, [_public_listing(l) for l in listings])

    async def get_listing(self, request: Request, _: Any) -> Response:
        return JSONResponse(_public_listing(self._listing(request.path_params["listing_id"]), statuscode=200))

    async def listing_detail(self, request: Request, _: Any) -> Response:
        q = request.query_params
        listing_id = query_int(q, "listing_id", minimum=0)  # [C] an integer
        if q.get("id") and not is_uuid(q["id"]):  # [C] a UUID
            raise ApiError(400, f"id must be a UUID, not {q['id'][:40]!r}", "invalid-parameter")
        if q.get("sku"):
            listing = self._listing_by_sku(q["sku"])
            if listing is None:
                raise ApiError(404, f"No listing with sku {q['sku'][:100]}", "not-found")
            return JSONResponse(_public_listing(listing, statuscode=200))
        ident = str(listing_id) if listing_id is not None else q.get("id")
        if not ident:
            raise ApiError(400, "Give sku, listing_id or id", "missing-parameter")
        return JSONResponse(_public_listing(self._listing(ident), statuscode=200))

    def _lines_in_last_hour(self, now: float) -> int:
        self.state["lines_log"] = [e for e in self.state["lines_log"] if e[0] + 3600 > now]
        return sum(n for _, n in self.state["lines_log"])

    def _take_lines(self, count: int) -> None:
        """[C] about 2,000 SKU lines an hour across listing updates; beyond, 429."""
        now = self.clock.now().timestamp()
        if self._lines_in_last_hour(now) + count > 2000:
            raise ApiError(429, "Too many listing lines in the last hour (limit 2000)", "too-many-lines")
        self.state["lines_log"].append([now, count])

    async def update_listing(self, request: Request, body: Any) -> Response:
        listing = self._listing(request.path_params["listing_id"], plain=True)
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a JSON object", plain=True)  # [C] a 400 here is a plain string
        errors = check_listing_update_types(body)
        row = {k: "" if v is None else str(v) for k, v in body.items() if isinstance(v, (str, int, float))}
        values, more = parse_listing_row(row)
        errors += more
        unknown = sorted(set(body) - set(LISTING_UPDATE_FIELDS))
        if unknown:
            errors.append({"code": "unknown-fields", "message": f"Unknown field(s): {', '.join(u[:40] for u in unknown[:5])}"})
        merged = {"price": Decimal(listing["price"]), "min_price": _dec(listing["min_price"]), "max_price": _dec(listing["max_price"])}
        merged.update({k: v for k, v in values.items() if v is not None and k in body})
        errors += check_listing_values(merged, new=False)
        if errors:
            raise ApiError(400, "; ".join(e["message"] for e in errors), errors[0]["code"], plain=True)
        self._take_lines(1)
        self._apply_values(listing, values, body.keys())
        self.effect("listing_update", listing_id=listing["id"], sku=listing["sku"], fields=sorted(body))
        return JSONResponse(_public_listing(listing, statuscode=200))

    def _apply_values(self, listing: dict[str, Any], values: dict[str, Any], keys: Any) -> None:
        for key in keys:
            value = values.get(key)
            if value is None:
                continue
            if key in ("price", "min_price", "max_price"):
                listing[key] = f"{value:.2f}"
            elif key == "quantity":
                listing["quantity"] = value
                if listing["publication_state"] in (2, 3):  # [I] quantity 0 takes a listing offline
                    listing["publication_state"] = 2 if value > 0 else 3
            elif key in ("warranty_delay", "comment", "currency", "grade"):
                listing[key] = value
        listing["date_modification"] = iso(self.clock.now())
        self.touch("listings", listing["id"])

    async def post_listings(self, request: Request, body: Any) -> Response:
        batch = read_batch(body)
        count = max(0, len([line for line in batch["catalog"].splitlines() if line.strip()]) - 1)
        if count == 0:
            raise ApiError(400, "The catalog has no line after its header", plain=True)
        if count > MAX_CSV_LINES:
            raise ApiError(400, f"The catalog has {count} lines; the maximum is {MAX_CSV_LINES}", plain=True)
        self._take_lines(count)
        now = self.clock.now()
        task_id = self._next_id("task")
        self.state["tasks"][str(task_id)] = {
            "task_id": task_id,
            "created_at": iso(now),
            "seconds": self.task_seconds,
            "action_status": 0,
            "last_action_error": None,
            "result": None,
            "lines": count,
            **batch,
        }
        self.effect("listing_batch", task_id=task_id, lines=count)
        return JSONResponse({"bodymessage": task_id, "statuscode": 200})

    async def get_task(self, request: Request, _: Any) -> Response:
        task_id = as_int(request.path_params["task_id"], minimum=0)  # [C] an integer; the spec gives no 400 here [I]
        task = self.state["tasks"].get(str(task_id)) if task_id is not None else None
        if task is None:
            raise ApiError(404, f"Task {request.path_params['task_id']} not found", "not-found")
        return JSONResponse({k: task[k] for k in ("task_id", "action_status", "last_action_error", "result")} | {"statuscode": 200})

    def _process_task(self, task: dict[str, Any], when: datetime) -> None:
        """Apply a batch line by line, as Back Market does once the task runs.

        A batch that cannot be read (an unknown encoding, a CSV the reader gives up on)
        fails as a task, status 8 with its reason, as the spec's ``last_action_error``
        says; it never stops the sandbox. The lines applied before the reader gave up
        stay applied, as a real import that stops half-way leaves them.
        """
        try:
            rows = read_catalog(task["catalog"], task["delimiter"], task["quotechar"], task.get("encoding", "utf-8"))
            header = next(rows, [])
        except BatchUnreadable as exc:
            task.update(action_status=8, last_action_error=str(exc), result=[])
            return
        if "sku" not in header:
            task.update(action_status=8, last_action_error="The catalog has no 'sku' column (check the delimiter)", result=[])
            return
        unknown = sorted(set(header) - CSV_COLUMNS)
        results: list[dict[str, Any]] = []
        try:
            for number, values in enumerate(rows, start=2):
                row = {key: value for key, value in zip(header, values, strict=False) if key}
                results.append(self._apply_row(row, number, unknown, when))
        except BatchUnreadable as exc:
            task.update(action_status=8, last_action_error=f"{exc} (after {len(results)} line(s) applied)", result=results)
            return
        task.update(action_status=9, result=results)

    def _apply_row(self, row: dict[str, str], number: int, unknown: list[str], when: datetime) -> dict[str, Any]:
        values, errors = parse_listing_row(row)
        sku = values.get("sku")
        if not sku:
            return {"line": number, "sku": "", "status": "error", "errors": [{"code": "missing-sku", "message": "sku is mandatory"}]}
        listing = self._listing_by_sku(sku)
        product = None
        if listing is None:
            product, product_errors = resolve_product(values, self.state["products"])
            errors += product_errors
        errors += check_grade(
            values.get("grade"), product or (self.state["products"].get(listing["product_id"]) if listing else None), new=listing is None
        )
        if listing is not None:
            merged = {"price": Decimal(listing["price"]), "min_price": _dec(listing["min_price"]), "max_price": _dec(listing["max_price"])}
            merged.update({k: v for k, v in values.items() if v is not None})
            errors += check_listing_values(merged, new=False)
        else:
            errors += check_listing_values(values, new=True)
        if errors:
            return {"line": number, "sku": sku, "status": "error", "errors": errors, "message": "; ".join(e["message"] for e in errors)}
        if listing is None:
            assert product is not None
            listing = self._new_listing(
                sku,
                product,
                values["grade"],
                values["price"],
                values["quantity"],
                2 if values["quantity"] > 0 else 3,
                when,
                self.rng_for("listing", sku),
            )
            self._apply_values(listing, values, ("min_price", "max_price", "warranty_delay", "comment"))
            outcome = "created"
        else:
            self._apply_values(listing, values, [k for k, v in row.items() if v.strip() and k not in unknown])
            outcome = "updated"
        return {"line": number, "sku": listing["sku"], "status": outcome, "listing_id": listing["id"], "message": ""}

    async def get_competitors(self, request: Request, _: Any) -> Response:
        listing = self._listing(request.path_params["listing_id"], status=422)  # [C] 422 for an unprocessable id
        rng = self.rng_for("competitors", listing["id"], self.clock.now().date())
        price = Decimal(listing["price"])
        rows = []
        for market in ("FR", "BE", "ES"):  # [I] the markets a French listing is sold in
            winner = (price * Decimal(str(rng.uniform(0.9, 1.05)))).quantize(Decimal("0.01"))
            to_win = min(price, winner - Decimal("1.00")) if winner <= price else price
            rows.append(
                {
                    "listing_id": listing["id"],
                    "product_id": listing["product_id"],
                    "market": market,
                    "price": _money(price),
                    "min_price": _money(_dec(listing["min_price"])),
                    "price_to_win": _money(to_win),
                    "winner_price": _money(winner),
                    "is_winning": price <= winner,
                }
            )
        return JSONResponse(rows)

    # ------------------------------------------------------------------ admin

    def received(self) -> dict[str, Any]:
        effects = self.state["effects"]
        return {
            "listing_batches": [
                {k: t[k] for k in ("task_id", "created_at", "lines", "action_status", "catalog")} for t in self.state["tasks"].values()
            ],
            "listing_updates": [e for e in effects if e["kind"] == "listing_update"],
            "order_actions": [e for e in effects if e["kind"] in ("order_action", "line_details")],
            "invoices": self.state["invoices"],
            **self.care_received(),
        }

    def admin_routes(self, admin: Any) -> list[Route]:
        async def tokens(request: Request, payload: Any) -> Any:
            if request.method in ("POST", "DELETE") and not (
                isinstance(payload.get("token"), str) and 0 < len(payload["token"]) <= 200 and utf8_clean(payload["token"])
            ):
                raise ApiError(400, "token must be a string of 1 to 200 characters")
            if request.method == "POST":
                token = payload["token"]
                if token not in self.state["tokens"]:
                    self.state["tokens"].append(token)
            elif request.method == "DELETE":
                self.state["tokens"] = [t for t in self.state["tokens"] if t != payload.get("token")]
            return {"tokens": self.state["tokens"]}

        async def products(request: Request, payload: Any) -> Any:
            """GET lists the catalog slice; POST ``{"products": [{"ean", "title"?, "category"?, "grades"?}]}`` adds to it."""
            if request.method == "POST":
                if not isinstance(payload.get("products"), list):
                    raise ApiError(400, "give products: a list of {ean, title?, category?, grades?}")
                added = self.add_products(payload["products"])
                return JSONResponse({"added": len(added), "products": added}, 201)
            return {"products": list(self.state["products"].values())}

        async def raw_orders(request: Request, payload: Any) -> Any:
            """POST ``{"orders": [order, ...]}``: orders stored exactly as given (a payload copied from
            Back Market's documentation, say), each with an integer ``order_id`` and a list of ``orderlines``."""
            stored = []
            for order in payload["orders"]:
                if (
                    not isinstance(order, dict)
                    or not isinstance(order.get("order_id"), int)
                    or not isinstance(order.get("orderlines"), list)
                ):
                    raise ValueError("each order needs an integer order_id and a list of orderlines")
                self.state["orders"][str(order["order_id"])] = {**order, "_due": None, "_fate": "raw"}
                self.touch("orders", order["order_id"])
                stored.append(order["order_id"])
            return JSONResponse({"orders": stored}, 201)

        return [
            Route("/_sandbox/tokens", admin(tokens), methods=["GET", "POST", "DELETE"]),
            Route("/_sandbox/orders/raw", admin(raw_orders), methods=["POST"]),
            Route("/_sandbox/products", admin(products), methods=["GET", "POST"]),
            *self.care_admin_routes(admin),
        ]


#: [C] Order and line fields the spec types as non-nullable: an unset one is "" (text) or absent (dates, codes).
_EMPTY_WHEN_UNSET = ("tracking_number", "tracking_url", "shipper_display", "imei", "serial_number", "return_message")
_ABSENT_WHEN_UNSET = ("date_shipping", "date_payment", "return_reason")


def _never_null(entry: dict[str, Any]) -> dict[str, Any]:
    public = {k: v for k, v in entry.items() if not (v is None and k in _ABSENT_WHEN_UNSET)}
    public.update({k: "" for k in _EMPTY_WHEN_UNSET if k in public and public[k] is None})
    return public


def _public_listing(listing: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A listing as the API shows it: [C] ``max_price`` is a string that is never null (empty when unset)."""
    public = {**listing, **extra}
    if public.get("max_price") is None:
        public["max_price"] = ""
    return public


_LEGACY_STATE = {"PREMIUM": 9, "EXCELLENT": 0, "VERY_GOOD": 1, "GOOD": 2, "FAIR": 3, "STALLONE": 4}  # [C]


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _money(value: Decimal | None) -> dict[str, str] | None:
    return None if value is None else {"amount": f"{value:.2f}", "currency": "EUR"}
