"""A Leboncoin pro API imitation. Leboncoin publishes NO API: this whole shape is INVENTED [I].

It is designed to be thin and plausible, from what is known of the seller flow
(see ``leboncoin_rules.py`` for the [C] facts), and the connector follows it
exactly. The invented contract:

Authentication (OAuth2, refresh-token grant)
    The merchant generates a refresh token in their pro account (valid 365
    days) and pastes it into shelfdesk. ``POST /oauth/token`` with form fields
    ``grant_type=refresh_token`` and ``refresh_token`` answers
    ``{access_token, token_type: "Bearer", expires_in: 3600,
    refresh_token_expires_at}``; the refresh token is not rotated. Generating a
    new one revokes the old and restarts the 365 days. Errors follow OAuth:
    400 ``{error: "invalid_grant", error_description}`` ("refresh token
    expired", "unknown refresh token", "refresh token revoked").
    API calls send ``Authorization: Bearer <access_token>``; 401 with code
    ``token_expired`` or ``invalid_token`` otherwise.

Resources (under ``/api/v1``; lists are ``{items, page, per_page, total, next}``
with ``per_page`` ≤ 100 and an absolute ``next`` link; errors are
``{error: {code, message}}`` with French messages)
    ``GET /me`` — the pro account and the refresh token's expiry.
    ``GET /ads`` — the account's ads. ``PATCH /ads/{id}`` — real-time price/quantity.
    ``POST /feeds/products`` and ``POST /feeds/offers`` — ``{reference, items}``
    (≤ 1,000 items) → 202 ``{feed_id, status, reference}``; a reference already
    used returns the existing feed (200), so a lost answer can be checked with
    ``GET /feeds?reference=``. ``GET /feeds/{id}`` — ``status`` pending →
    processing → done (or failed) with a per-line ``report``.
    Products are matched on ``sku`` only (no EAN matching).
    ``GET /orders?updated_since=`` (sorted by creation), ``GET /orders/{id}``,
    ``POST /orders/{id}/confirm-availability``, ``POST /orders/{id}/confirm-shipping``
    (``{carrier}`` only: no tracking number through the API),
    ``POST /orders/{id}/cancel`` (``{reason}``; the refund is automatic),
    ``GET|POST /orders/{id}/messages`` (to give the buyer a tracking number).
    Order states: paid → awaiting_shipment → shipped → delivered, or cancelled
    (automatically when a confirmation deadline passes).

Throttling [I]: 100 requests per 10 s per token; beyond, 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shelfdesk.clock import Clock
from shelfdesk.sandbox import leboncoin_rules as rules
from shelfdesk.sandbox.app import ApiError, RouteOptions, SandboxApp, iso, parse_iso
from shelfdesk.sandbox.core import RateWindow, as_datetime, utf8_clean
from shelfdesk.sandbox.inputs import admin_number, as_decimal, query_int
from shelfdesk.sandbox.seeddata import make_address

DEFAULT_REFRESH_TOKEN = "lbc-sandbox-refresh-token"
ACCESS_TTL = timedelta(hours=1)
REFRESH_TTL = timedelta(days=365)
RATE_LIMIT, RATE_WINDOW = 100, 10.0
MAX_FEED_ITEMS = 1000
PER_PAGE_MAX = 100

#: Ads the account starts with: (sku, title, category, condition, new_reason, price, quantity, attributes).
#: The last three are SKUs that no shelfdesk catalog has.
SEED_ADS = (
    (
        "IPH13-128-MID-GOOD",
        "iPhone 13 128 Go minuit reconditionné",
        "multimedia.phones.smartphones",
        "refurbished",
        None,
        "549.00",
        3,
        {"brand": "Apple", "model": "iPhone 13", "storage": "128 Go"},
    ),
    (
        "IPH12-64-BLK-VG",
        "iPhone 12 64 Go noir très bon état",
        "multimedia.phones.smartphones",
        "refurbished",
        None,
        "379.00",
        2,
        {"brand": "Apple", "model": "iPhone 12", "storage": "64 Go"},
    ),
    (
        "GS21-128-GRY-GOOD",
        "Samsung Galaxy S21 128 Go gris",
        "multimedia.phones.smartphones",
        "used",
        None,
        "319.00",
        1,
        {"brand": "Samsung", "model": "Galaxy S21", "storage": "128 Go"},
    ),
    (
        "MBA-M1-256-GRY-EXC",
        "MacBook Air M1 256 Go gris sidéral",
        "multimedia.computers.laptops",
        "refurbished",
        None,
        "739.00",
        1,
        {"brand": "Apple", "model": "MacBook Air M1"},
    ),
    (
        "NSW-OLED-WHT-EXC",
        "Nintendo Switch OLED blanche",
        "multimedia.consoles",
        "used",
        None,
        "269.00",
        2,
        {"brand": "Nintendo", "model": "Switch OLED"},
    ),
    ("APP1-WHT-EXC", "AirPods Pro première génération", "multimedia.image_sound", "refurbished", None, "135.00", 4, {"brand": "Apple"}),
    (
        "JBL-FLIP5-NEW",
        "Enceinte JBL Flip 5 neuve (fin de série)",
        "multimedia.image_sound",
        "new",
        "clearance",
        "79.00",
        6,
        {"brand": "JBL"},
    ),
    ("CHAIR-OAK-01", "Chaise en chêne massif faite main", "home.furniture.seating", "new", "craftsmanship", "189.00", 2, {}),
    (
        "LEGACY-IPAD2-16",
        "iPad 2 16 Go pour pièces",
        "multimedia.phones.tablets",
        "used",
        None,
        "39.00",
        1,
        {"brand": "Apple", "model": "iPad 2", "storage": "16 Go"},
    ),
    ("OLD-VELO-ENF-16", "Vélo enfant 16 pouces", "leisure.bikes", "used", None, "45.00", 1, {}),
    ("VIDE-GRENIER-042", "Lot de livres de poche", "leisure.books", "used", None, "12.00", 1, {}),
)
ORPHAN_SKUS = tuple(a[0] for a in SEED_ADS[-3:])

FATES = (("paid", 55), ("awaiting_shipment", 15), ("shipped", 12), ("delivered", 10), ("cancelled", 8))  # [I]


_DATE = as_datetime


def _maybe_date(value: Any) -> bool:
    return value is None or bool(_DATE(value))


def _amount(value: Any) -> bool:
    return as_decimal(value) is not None


class LeboncoinSandbox(SandboxApp):
    name = "leboncoin"
    keyed_collections = ("orders", "ads", "feeds")
    appended_lists = ("effects", "messages")
    fates = tuple(fate for fate, _ in FATES)
    entry_shapes = {
        "ads": {
            "id": str,
            "sku": str,
            "title": str,
            "price": _amount,
            "quantity": int,
            "status": str,
            "secure_payment": bool,
            "attributes": dict,
            "category": str,
            "condition": str,
        },
        "orders": {
            "id": str,
            "state": str,
            "created_at": _DATE,
            "updated_at": _DATE,
            "availability_deadline": _DATE,
            "shipping_deadline": _maybe_date,
            "shipped_at": _maybe_date,
            "items": list,
            "total": _amount,
        },
        "feeds": {
            "feed_id": str,
            "type": lambda v: v in ("products", "offers"),
            "reference": str,
            "status": str,
            "created_at": _DATE,
            "seconds": (int, float),
            "items": list,
        },
        "refresh_tokens": {"issued_at": _DATE, "expires_at": _DATE, "revoked": bool},
        "access_tokens": {"expires_at": _DATE, "refresh_token": str},
        "messages": {"order_id": str},
        "effects": {"kind": str},
    }

    def __init__(
        self,
        folder: Path | str,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        refresh_token: str | None = DEFAULT_REFRESH_TOKEN,
        orders_per_hour: float | None = None,
        feed_seconds: float = 120.0,
        hang_cap: float = 15.0,
        refresh_token_days: float = 365,
    ) -> None:
        """``refresh_token`` None keeps the live tokens a saved state holds (a demo's), else issues the default.

        A token issued here lives ``refresh_token_days`` (Leboncoin's 365 unless
        a demo wants one that expires this month).

        Issuing a token revokes the others, as in the merchant's account: a
        sandbox restarted on a demo's state without naming a token must not
        revoke the token the demo's workspace holds.
        """
        self._initial_refresh = refresh_token or DEFAULT_REFRESH_TOKEN
        self._refresh_days = refresh_token_days
        self.feed_seconds = feed_seconds
        self.reset_limits()
        super().__init__(folder, clock=clock, seed=seed, orders_per_hour=orders_per_hour, hang_cap=hang_cap)
        live = [t for t, r in self.state["refresh_tokens"].items() if not r.get("revoked")]
        if refresh_token is None:
            if not live:
                self.issue_refresh_token(DEFAULT_REFRESH_TOKEN)
        elif refresh_token not in self.state["refresh_tokens"]:
            self.issue_refresh_token(refresh_token, valid_days=refresh_token_days)

    def reset_limits(self) -> None:
        self.requests = RateWindow(RATE_LIMIT, RATE_WINDOW, RATE_WINDOW)

    # ------------------------------------------------------------------ seeding and generation

    def seed_state(self, seed: int) -> dict[str, Any]:
        now = self.clock.now()
        self.state = {
            "version": 1,
            "seed": seed,
            "account": {
                "id": "pro-" + hashlib.sha1(str(seed).encode()).hexdigest()[:8],
                "name": "Boutique Sandbox",
                "pro": True,
                "secure_payment": True,
            },
            "refresh_tokens": {},
            "access_tokens": {},
            "ads": {},
            "orders": {},
            "feeds": {},
            "messages": [],
            "effects": [],
            "next_ids": {"ad": 2894561001, "order": 100001, "item": 1, "feed": 501, "token": 1},
            "generator": {"rate_per_hour": 0.0, "epoch": iso(now), "generated": 0},
        }
        self._issue_refresh_token(self._initial_refresh, valid_days=self._refresh_days)
        for sku, title, category, condition, reason, price, qty, attrs in SEED_ADS:
            self._new_ad(
                {
                    "sku": sku,
                    "title": title,
                    "description": f"{title}. Envoi soigné sous 48 h, facture fournie.",
                    "category": category,
                    "condition": condition,
                    "new_reason": reason,
                    "price": Decimal(price),
                    "quantity": qty,
                    "attributes": attrs,
                    "secure_payment": True,
                },
                now,
            )
        for k in range(10):
            self.generate_order(now - timedelta(hours=8 * (10 - k)), -(k + 1))
        return self.state

    def issue_refresh_token(self, token: str | None = None, *, valid_days: float = 365) -> dict[str, Any]:
        """What the merchant does in their account: a new refresh token, the old ones revoked."""
        issued = self._issue_refresh_token(token, valid_days=valid_days)
        self._persist()
        return issued

    def _issue_refresh_token(self, token: str | None = None, *, valid_days: float = 365) -> dict[str, Any]:
        now = self.clock.now()
        token = token or "lbc-rt-" + hashlib.sha256(f"{self.seed}:rt:{self._next_id('token')}".encode()).hexdigest()[:32]
        for record in self.state["refresh_tokens"].values():
            record["revoked"] = True
        record = {"issued_at": iso(now), "expires_at": iso(now + timedelta(days=valid_days)), "revoked": False}
        self.state["refresh_tokens"][token] = record
        return {"refresh_token": token, **record}

    def _new_ad(self, values: dict[str, Any], now: datetime) -> dict[str, Any]:
        ad_id = str(self._next_id("ad"))
        ad = {
            "id": ad_id,
            "sku": values["sku"],
            "title": values["title"],
            "description": values["description"],
            "category": values["category"],
            "condition": values["condition"],
            "new_reason": values["new_reason"],
            "price": f"{values['price']:.2f}",
            "currency": "EUR",
            "quantity": values["quantity"],
            "attributes": values["attributes"],
            "status": "online" if values["quantity"] else "offline",
            "secure_payment": values["secure_payment"],
            "fees": rules.fees(values["secure_payment"], values["price"]),
            "url": f"https://sandbox.invalid/ad/{ad_id}",
            "created_at": iso(now),
            "updated_at": iso(now),
        }
        self.state["ads"][ad_id] = ad
        return ad

    def _ad_by_sku(self, sku: str) -> dict[str, Any] | None:
        wanted = sku.casefold()
        return next((a for a in self.state["ads"].values() if a["sku"].casefold() == wanted), None)

    def generate_order(
        self, created_at: datetime, index: Any, *, skus: list[str] | None = None, fate: str | None = None, quantity: int | None = None
    ) -> dict[str, Any]:
        rng = self.rng_for("order", index, iso(created_at))
        fate = fate or rng.choices([f for f, _ in FATES], [w for _, w in FATES])[0]
        if fate not in dict(FATES):
            raise ValueError(f"unknown fate {fate!r}: one of {', '.join(dict(FATES))}")
        ads = [a for a in self.state["ads"].values() if a["secure_payment"]]
        if skus:
            chosen = [self._ad_by_sku(s) or self._placeholder_ad(s, created_at) for s in skus]
        else:
            live = [a for a in ads if a["status"] == "online" and a["quantity"] > 0]
            chosen = [rng.choice(live or ads)]
        items, total = [], Decimal("0")
        for ad in chosen:
            qty = quantity or 1
            ad["quantity"] = max(0, ad["quantity"] - qty)
            self.touch("ads", ad["id"])
            total += Decimal(ad["price"]) * qty
            items.append(
                {
                    "id": self._next_id("item"),
                    "ad_id": ad["id"],
                    "sku": ad["sku"],
                    "title": ad["title"],
                    "quantity": qty,
                    "unit_price": ad["price"],
                }
            )
        address = make_address(rng)
        order_id = f"LBC{self._next_id('order'):09d}"
        order: dict[str, Any] = {
            "id": order_id,
            "state": "paid",
            "created_at": iso(created_at),
            "updated_at": iso(created_at),
            "paid_at": iso(created_at),
            "availability_deadline": iso(created_at + rules.AVAILABILITY_DELAY),
            "availability_confirmed_at": None,
            "shipping_deadline": None,
            "shipped_at": None,
            "carrier": None,
            "delivered_at": None,
            "cancelled_at": None,
            "cancel_reason": None,
            "refund": None,
            "items": items,
            "total": f"{total:.2f}",
            "currency": "EUR",
            "fees": {"commission": f"{total * rules.COMMISSION_RATE:.2f}"},
            "buyer": {
                "name": f"{address['first_name']} {address['last_name'][0]}.",
                "pseudo": address["first_name"].lower() + str(rng.randint(10, 99)),
            },
            "shipping": {"method": rng.choice(["colissimo", "mondial_relay", "shop2shop"]), "price": "4.99", "address": address},
        }
        # Advance the order to its fate as the seller (or time) would have, never past now.
        at = _between(created_at, self.clock.now())
        if fate in ("awaiting_shipment", "shipped", "delivered"):
            rules.confirm_availability(order, at(timedelta(hours=5), 0.25))
        if fate in ("shipped", "delivered"):
            rules.confirm_shipping(order, {"carrier": "colissimo"}, at(timedelta(hours=20), 0.5))
        if fate == "delivered":
            order.update(state="delivered", delivered_at=iso(at(timedelta(days=2), 1.0)), updated_at=iso(at(timedelta(days=2), 1.0)))
        if fate == "cancelled":
            rules.close_with_refund(order, "buyer_request", at(timedelta(hours=2), 0.1))
        self.state["orders"][order_id] = order
        return order

    def _placeholder_ad(self, sku: str, now: datetime) -> dict[str, Any]:
        return self._new_ad(
            {
                "sku": sku,
                "title": f"Article {sku}",
                "description": f"Article {sku} créé par le bac à sable.",
                "category": "home.decoration",
                "condition": "used",
                "new_reason": None,
                "price": Decimal("50.00"),
                "quantity": 5,
                "attributes": {},
                "secure_payment": True,
            },
            now,
        )

    def ensure_listing(
        self,
        sku: str,
        price: Decimal | str,
        *,
        quantity: int = 5,
        title: str | None = None,
        category: str | None = None,
        condition: str | None = None,
        new_reason: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Seeding (demo, tests): the online ad for ``sku`` at ``price``, created when unknown; returns the ad.

        Leboncoin's counterpart of :meth:`BackMarketSandbox.ensure_listing`: a real
        account's orders are for ads it publishes at its own prices, and without
        this an order for an unknown SKU gets a placeholder ad at 50.00. An existing
        ad gets the price and quantity, and whichever of title, category,
        condition (with ``new_reason`` for a new good) and attributes are given; a
        new ad takes them, or a placeholder's (``home.decoration``, used). The ad
        is checked like a products feed line (leaf category, its mandatory
        attributes, title of 5 to 100 characters, longer ones are cut): a
        ``ValueError`` says what is wrong. Persisted before it returns.
        """
        ad = self._ad_by_sku(sku)
        kept = ad or {
            "title": f"Article {sku}",
            "category": "home.decoration",
            "condition": "used",
            "new_reason": None,
            "attributes": {},
            "secure_payment": True,
        }
        name = (title or kept["title"]).strip()[:100]
        item = {
            "sku": sku,
            "title": name,
            "description": ad["description"] if ad else f"{name}. Envoi soigné sous 48 h, facture fournie.",
            "category": category or kept["category"],
            "condition": condition or kept["condition"],
            "new_reason": new_reason if condition else kept["new_reason"],
            "attributes": kept["attributes"] if attributes is None else attributes,
            "price": str(price),
            "quantity": quantity,
            "secure_payment": kept["secure_payment"],
        }
        values, errors = rules.check_product(item)
        if errors:
            raise ValueError(f"ad {sku}: " + "; ".join(e["message"] for e in errors))
        if ad is None:
            ad = self._new_ad(values, self.clock.now())
        else:
            for key in ("title", "category", "condition", "new_reason", "attributes"):
                ad[key] = values[key]
            self._apply_offer(ad, values)
        self._persist()
        return ad

    def advance(self, now: datetime) -> None:
        """Deadlines: no confirmation in time cancels and refunds; shipped parcels get delivered."""
        for order in self.state["orders"].values():
            state = order["state"]
            if state == "paid" and parse_iso(order["availability_deadline"]) <= now:
                rules.close_with_refund(order, "availability_timeout", parse_iso(order["availability_deadline"]))
            elif state == "awaiting_shipment" and parse_iso(order["shipping_deadline"]) <= now:
                rules.close_with_refund(order, "shipping_timeout", parse_iso(order["shipping_deadline"]))
            elif state == "shipped" and parse_iso(order["shipped_at"]) + rules.DELIVERY_DELAY <= now:
                when = parse_iso(order["shipped_at"]) + rules.DELIVERY_DELAY
                order.update(state="delivered", delivered_at=iso(when), updated_at=iso(when))
            else:
                continue
            self.touch("orders", order["id"])
        for feed in self.state["feeds"].values():
            if feed["status"] in ("done", "failed"):
                continue
            created = parse_iso(feed["created_at"])
            if now >= created + timedelta(seconds=feed["seconds"]):
                self._process_feed(feed, created + timedelta(seconds=feed["seconds"]))
            elif now >= created + timedelta(seconds=feed["seconds"] / 2):
                feed["status"] = "processing"
            else:
                continue
            self.touch("feeds", feed["feed_id"])

    # ------------------------------------------------------------------ gatekeeping

    def gate(self, request: Request, opts: RouteOptions) -> Response | None:
        key = request.headers.get("authorization") or (request.client.host if request.client else "?")
        if not self.requests.allow(key, self.clock.now().timestamp()):
            return self.throttled(RATE_WINDOW)
        if not opts.auth:
            return None
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self.error(ApiError(401, "Jeton d'accès manquant", "unauthorized"))
        record = self.state["access_tokens"].get(auth[7:].strip())
        if record is None:
            return self.error(ApiError(401, "Jeton d'accès invalide", "invalid_token"))
        if parse_iso(record["expires_at"]) <= self.clock.now():
            return self.error(ApiError(401, "Jeton d'accès expiré", "token_expired"))
        return None

    def throttled(self, retry_after: float | None) -> Response:
        body = {"error": {"code": "rate_limited", "message": "Trop de requêtes, réessayez plus tard"}}
        headers = {"Retry-After": str(int(retry_after if retry_after is not None else RATE_WINDOW))}
        return JSONResponse(body, 429, headers=headers)

    def credentials(self) -> dict[str, Any]:
        live = {t: r for t, r in self.state["refresh_tokens"].items() if not r["revoked"]}
        return {"refresh_tokens": live, "token_endpoint": "/oauth/token (grant_type=refresh_token)"}

    # ------------------------------------------------------------------ routes

    def routes(self) -> list[Route]:
        r = self.route
        p = "/api/v1"
        return [
            r("/oauth/token", self.token, ["POST"], auth=False),
            r(f"{p}/me", self.me, ["GET"]),
            r(f"{p}/ads", self.list_ads, ["GET"]),
            r(f"{p}/ads/{{ad_id}}", self.get_ad, ["GET"]),
            r(f"{p}/ads/{{ad_id}}", self.patch_ad, ["PATCH"]),
            r(f"{p}/feeds", self.list_feeds, ["GET"]),
            r(f"{p}/feeds/products", self.post_products, ["POST"]),
            r(f"{p}/feeds/offers", self.post_offers, ["POST"]),
            r(f"{p}/feeds/{{feed_id}}", self.get_feed, ["GET"]),
            r(f"{p}/orders", self.list_orders, ["GET"]),
            r(f"{p}/orders/{{order_id}}", self.get_order, ["GET"]),
            r(f"{p}/orders/{{order_id}}/confirm-availability", self.confirm_availability, ["POST"]),
            r(f"{p}/orders/{{order_id}}/confirm-shipping", self.confirm_shipping, ["POST"]),
            r(f"{p}/orders/{{order_id}}/cancel", self.cancel, ["POST"]),
            r(f"{p}/orders/{{order_id}}/messages", self.messages, ["GET", "POST"]),
        ]

    async def token(self, request: Request, body: Any) -> Response:
        if isinstance(body, bytes):
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        else:
            form = body if isinstance(body, dict) else {}
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "only grant_type=refresh_token"}, 400)
        token = str(form.get("refresh_token") or "")
        record = self.state["refresh_tokens"].get(token)
        if record is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown refresh token"}, 400)
        if record["revoked"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "refresh token revoked"}, 400)
        if parse_iso(record["expires_at"]) <= self.clock.now():
            return JSONResponse({"error": "invalid_grant", "error_description": "refresh token expired"}, 400)
        now = self.clock.now()
        access = "lbc-at-" + hashlib.sha256(f"{self.seed}:at:{self._next_id('token')}".encode()).hexdigest()[:40]
        # Access tokens live an hour; drop the long-dead ones so the state stays small.
        self.state["access_tokens"] = {
            t: r for t, r in self.state["access_tokens"].items() if parse_iso(r["expires_at"]) > now - timedelta(days=1)
        }
        self.state["access_tokens"][access] = {"expires_at": iso(now + ACCESS_TTL), "refresh_token": token}
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": int(ACCESS_TTL.total_seconds()),
                "refresh_token_expires_at": record["expires_at"],
                "scope": "pro",
            }
        )

    async def me(self, request: Request, _: Any) -> Response:
        token = request.headers["authorization"][7:].strip()
        refresh = self.state["access_tokens"][token]["refresh_token"]
        return JSONResponse(self.state["account"] | {"refresh_token_expires_at": self.state["refresh_tokens"][refresh]["expires_at"]})

    def _page(self, request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        q = request.query_params
        page = query_int(q, "page", minimum=1, code="invalid_pagination", message="page doit être un entier à partir de 1") or 1
        per_page = (
            query_int(
                q,
                "per_page",
                minimum=1,
                maximum=PER_PAGE_MAX,
                code="invalid_pagination",
                message=f"per_page doit être un entier compris entre 1 et {PER_PAGE_MAX}",
            )
            or 20
        )
        start = (page - 1) * per_page
        more = start + per_page < len(items)
        return JSONResponse(
            {
                "items": items[start : start + per_page],
                "page": page,
                "per_page": per_page,
                "total": len(items),
                "next": str(request.url.include_query_params(page=page + 1)) if more else None,
            }
        )

    async def list_ads(self, request: Request, _: Any) -> Response:
        return self._page(request, sorted(self.state["ads"].values(), key=lambda a: int(a["id"])))

    def _ad(self, ad_id: str) -> dict[str, Any]:
        ad = self.state["ads"].get(ad_id)
        if ad is None:
            raise ApiError(404, f"L'annonce {ad_id} n'existe pas", "not_found")
        return ad

    async def get_ad(self, request: Request, _: Any) -> Response:
        return JSONResponse(self._ad(request.path_params["ad_id"]))

    async def patch_ad(self, request: Request, body: Any) -> Response:
        ad = self._ad(request.path_params["ad_id"])
        values, errors = rules.check_offer({"sku": ad["sku"], **(body if isinstance(body, dict) else {})})
        if errors:
            raise ApiError(400, "; ".join(e["message"] for e in errors), errors[0]["code"])
        self._apply_offer(ad, values)
        self.effect("ad_update", ad_id=ad["id"], sku=ad["sku"], fields=sorted(k for k in values if k != "sku"))
        return JSONResponse(ad)

    def _apply_offer(self, ad: dict[str, Any], values: dict[str, Any]) -> None:
        if values.get("price") is not None:
            ad["price"] = f"{values['price']:.2f}"
            ad["fees"] = rules.fees(ad["secure_payment"], values["price"])
        if values.get("quantity") is not None:
            ad["quantity"] = values["quantity"]
            if ad["status"] in ("online", "offline"):
                ad["status"] = "online" if values["quantity"] > 0 else "offline"
        ad["updated_at"] = iso(self.clock.now())
        self.touch("ads", ad["id"])

    # ---- feeds

    async def list_feeds(self, request: Request, _: Any) -> Response:
        ref = request.query_params.get("reference")
        feeds = [f for f in self.state["feeds"].values() if ref is None or f["reference"] == ref]
        return JSONResponse({"items": [_feed_view(f, report=False) for f in feeds], "total": len(feeds)})

    async def post_products(self, request: Request, body: Any) -> Response:
        return self._post_feed("products", body)

    async def post_offers(self, request: Request, body: Any) -> Response:
        return self._post_feed("offers", body)

    def _post_feed(self, kind: str, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ApiError(400, "Le corps doit être un objet {reference, items}", "invalid_body")
        reference = body.get("reference")
        if reference is not None and not isinstance(reference, str):
            raise ApiError(400, "Le champ reference est un texte", "invalid_reference")
        reference = (reference or "").strip()
        if not reference:
            raise ApiError(400, "Le champ reference est obligatoire", "missing_reference")
        if len(reference) > 100:  # [I]
            raise ApiError(400, "Le champ reference contient au plus 100 caractères", "invalid_reference")
        existing = next((f for f in self.state["feeds"].values() if f["reference"] == reference), None)
        if existing is not None and existing["type"] != kind:  # [I] a reference names one feed, of one type
            raise ApiError(409, f"La référence {reference} est déjà celle d'un flux {existing['type']}", "reference_conflict")
        if existing is not None:  # the same feed sent twice is not created twice
            return JSONResponse(_feed_view(existing, report=False), 200)
        items = body["items"]
        if not items or len(items) > MAX_FEED_ITEMS:
            raise ApiError(400, f"Un flux contient de 1 à {MAX_FEED_ITEMS} lignes", "invalid_size")
        feed_id = f"F{self._next_id('feed')}"
        feed = {
            "feed_id": feed_id,
            "type": kind,
            "reference": reference,
            "status": "pending",
            "created_at": iso(self.clock.now()),
            "processed_at": None,
            "seconds": self.feed_seconds,
            "items": items,
            "report": None,
            "counts": {"total": len(items), "ok": 0, "error": 0},
        }
        self.state["feeds"][feed_id] = feed
        self.effect("feed", feed_id=feed_id, feed_type=kind, lines=len(items), reference=reference)
        return JSONResponse(_feed_view(feed, report=False), 202)

    async def get_feed(self, request: Request, _: Any) -> Response:
        feed = self.state["feeds"].get(request.path_params["feed_id"])
        if feed is None:
            raise ApiError(404, f"Le flux {request.path_params['feed_id']} n'existe pas", "not_found")
        return JSONResponse(_feed_view(feed, report=True))

    def _process_feed(self, feed: dict[str, Any], when: datetime) -> None:
        report = []
        for line, item in enumerate(feed["items"], start=1):
            check = rules.check_product if feed["type"] == "products" else rules.check_offer
            values, errors = check(item)
            ad = self._ad_by_sku(values["sku"]) if values.get("sku") else None
            if feed["type"] == "offers" and ad is None and values.get("sku"):
                errors.append({"code": "unknown_sku", "message": f"Aucune annonce pour le SKU {values['sku']}"})
            if errors:
                report.append({"line": line, "sku": values.get("sku", ""), "status": "error", "ad_id": None, "errors": errors})
                continue
            if feed["type"] == "offers":
                assert ad is not None
                self._apply_offer(ad, values)
            elif ad is None:
                ad = self._new_ad(values, when)
            else:
                for key in ("title", "description", "category", "condition", "new_reason", "attributes", "secure_payment"):
                    ad[key] = values[key]
                self._apply_offer(ad, values)
            report.append({"line": line, "sku": ad["sku"], "status": "ok", "ad_id": ad["id"], "errors": []})
        ok = sum(1 for r in report if r["status"] == "ok")
        feed.update(
            status="done", processed_at=iso(when), report=report, counts={"total": len(report), "ok": ok, "error": len(report) - ok}
        )

    # ---- orders

    async def list_orders(self, request: Request, _: Any) -> Response:
        orders = sorted(self.state["orders"].values(), key=lambda o: o["id"])
        since = request.query_params.get("updated_since")
        if since:
            bound = as_datetime(since)
            if bound is None:  # a date without its offset could not be compared with the orders'
                raise ApiError(400, "updated_since doit être une date RFC 3339 avec son fuseau", "invalid_date")
            orders = [o for o in orders if parse_iso(o["updated_at"]) >= bound]
        return self._page(request, orders)

    def _order(self, order_id: str) -> dict[str, Any]:
        order = self.state["orders"].get(order_id)
        if order is None:
            raise ApiError(404, f"La commande {order_id} n'existe pas", "not_found")
        return order

    async def get_order(self, request: Request, _: Any) -> Response:
        return JSONResponse(self._order(request.path_params["order_id"]))

    async def confirm_availability(self, request: Request, body: Any) -> Response:
        order = self._order(request.path_params["order_id"])
        self.touch("orders", order["id"])
        rules.confirm_availability(order, self.clock.now())
        self.effect("order_action", order_id=order["id"], action="confirm-availability")
        return JSONResponse(order)

    async def confirm_shipping(self, request: Request, body: Any) -> Response:
        order = self._order(request.path_params["order_id"])
        self.touch("orders", order["id"])
        rules.confirm_shipping(order, body if isinstance(body, dict) else {}, self.clock.now())
        self.effect("order_action", order_id=order["id"], action="confirm-shipping", carrier=order["carrier"])
        return JSONResponse(order)

    async def cancel(self, request: Request, body: Any) -> Response:
        order = self._order(request.path_params["order_id"])
        self.touch("orders", order["id"])
        rules.cancel(order, body if isinstance(body, dict) else {}, self.clock.now())
        self.effect("order_action", order_id=order["id"], action="cancel", reason=order["cancel_reason"])
        return JSONResponse(order)

    async def messages(self, request: Request, body: Any) -> Response:
        order = self._order(request.path_params["order_id"])
        if request.method == "GET":
            return JSONResponse({"items": [m for m in self.state["messages"] if m["order_id"] == order["id"]]})
        text = body.get("body") if isinstance(body, dict) else None
        text = text.strip() if isinstance(text, str) else ""
        if not 1 <= len(text) <= 2000:
            raise ApiError(400, "Le message doit contenir entre 1 et 2000 caractères", "invalid_message")
        message = {"id": len(self.state["messages"]) + 1, "order_id": order["id"], "body": text, "sent_at": iso(self.clock.now())}
        self.state["messages"].append(message)
        self.effect("message", order_id=order["id"], message_id=message["id"])
        return JSONResponse(message, 201)

    # ------------------------------------------------------------------ admin

    def received(self) -> dict[str, Any]:
        effects = self.state["effects"]
        return {
            "feeds": [_feed_view(f, report=True) | {"items": f["items"]} for f in self.state["feeds"].values()],
            "ad_updates": [e for e in effects if e["kind"] == "ad_update"],
            "order_actions": [e for e in effects if e["kind"] == "order_action"],
            "messages": self.state["messages"],
        }

    def admin_routes(self, admin: Any) -> list[Route]:
        async def refresh_tokens(request: Request, payload: Any) -> Any:
            if request.method == "POST":
                token = payload.get("token")
                if token is not None and not (isinstance(token, str) and 0 < len(token) <= 200 and utf8_clean(token)):
                    raise ApiError(400, "token must be a string of 1 to 200 characters")
                return self.issue_refresh_token(token, valid_days=admin_number(payload, "valid_days", -3650, 3650, default=365))
            return self.credentials()

        async def expire_access(request: Request, payload: Any) -> Any:
            past = iso(self.clock.now() - timedelta(seconds=1))
            for record in self.state["access_tokens"].values():
                record["expires_at"] = past
            return {"expired": len(self.state["access_tokens"])}

        return [
            Route("/_sandbox/refresh-tokens", admin(refresh_tokens), methods=["GET", "POST"]),
            Route("/_sandbox/access-tokens/expire", admin(expire_access), methods=["POST"]),
        ]


def _between(start: datetime, now: datetime) -> Any:
    """``at(delay, share)``: ``start + delay``, or ``share`` of the time up to now when that is sooner."""

    def at(delay: timedelta, share: float) -> datetime:
        return start + min(delay, max(timedelta(0), now - start) * share)

    return at


def _feed_view(feed: dict[str, Any], *, report: bool) -> dict[str, Any]:
    keys = ("feed_id", "type", "reference", "status", "created_at", "processed_at", "counts")
    view = {k: feed[k] for k in keys}
    if report:
        view["report"] = feed["report"]
    return view
