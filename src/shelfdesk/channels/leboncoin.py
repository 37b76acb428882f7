"""Leboncoin connector, for an INVENTED API shape [I].

Leboncoin publishes no API documentation; the shape this connector speaks is
written down in :mod:`shelfdesk.sandbox.leboncoin` (OAuth2 refresh-token grant
with a 365-day refresh token the merchant pastes in, short-lived access tokens
refreshed here automatically, separate products and offers feeds with
per-line reports, orders following the real seller flow). When Leboncoin
gives an integrator access, only this module and the sandbox should change.

What is real and drives the design [C]: pro ads in five universes, second-hand,
refurbished or new with one of seven reasons; no EAN matching; a commission
with secure payment, insertion fees otherwise; availability confirmed within
3 days of payment, shipping confirmed within 72 h, else automatic cancellation
and refund; no tracking number through the platform (shelfdesk keeps it and
can send it to the buyer as a message).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shelfdesk.channels.base import (
    ActionSpec,
    BatchItemResult,
    BatchResult,
    BatchState,
    BatchTicket,
    Capabilities,
    Competitor,
    Connector,
    CredentialStatus,
    FieldSpec,
    ListingUpdate,
    OfferUpdate,
    RemoteListing,
    RemoteOrder,
    RemoteOrderLine,
    check_action_fields,
)
from shelfdesk.channels.errors import AuthError, RemoteRejected, UnsupportedOperation, WafBlocked, keep_submitted
from shelfdesk.channels.http import ApiClient, RetryPolicy, call_with_verification
from shelfdesk.channels.parsing import money_text, rfc3339, text_or_none, to_datetime, to_decimal, to_int
from shelfdesk.channels.ratelimit import shared_limiter
from shelfdesk.channels.statuses import LEBONCOIN_ORDER
from shelfdesk.clock import Clock
from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus, PublicationKind, PublicationMode
from shelfdesk.logs import register_secret

if TYPE_CHECKING:
    import httpx  # loaded by channels.http when a client is built: reading capabilities needs no HTTP

S = NormalizedStatus

#: No public host exists; a placeholder the merchant replaces when Leboncoin gives one [I].
DEFAULT_BASE_URL = "https://api.leboncoin.fr/pro"
CONDITIONS = ("used", "refurbished", "new")
NEW_REASONS = ("liquidation", "clearance", "defective", "exhibition_model", "craftsmanship", "customer_return", "off_label")
CANCEL_REASONS = ("out_of_stock", "item_damaged", "buyer_request", "other")
MAX_FEED_ITEMS = 1000
PER_PAGE = 100
#: Refresh the access token this long before it expires, so a call never races the expiry.
REFRESH_MARGIN = timedelta(seconds=60)

_CAPABILITIES = Capabilities(
    marketplace=Marketplace.leboncoin,
    feed_modes=frozenset({PublicationMode.full, PublicationMode.update}),
    feeds=frozenset({PublicationKind.products, PublicationKind.offers}),
    ean_mandatory=False,
    ean_matching=False,
    actions={
        ActionKind.confirm_availability: ActionSpec(
            ActionKind.confirm_availability,
            "Confirm availability",
            (),
            frozenset({S.New}),
            help="within 3 days of payment, else Leboncoin cancels and refunds",
        ),
        ActionKind.confirm_shipping: ActionSpec(
            ActionKind.confirm_shipping,
            "Confirm shipping",
            (
                FieldSpec("carrier"),
                FieldSpec("tracking_number", help="not sent through the API: kept by shelfdesk and sent to the buyer as a message"),
                FieldSpec("tracking_url", help="added to the buyer message with the tracking number"),
            ),
            frozenset({S.InProgress}),
            help="within 72 h of confirming availability, else Leboncoin cancels and refunds",
        ),
        ActionKind.cancel: ActionSpec(
            ActionKind.cancel,
            "Cancel order",
            (FieldSpec("reason", required=True, choices=CANCEL_REASONS),),
            frozenset({S.New, S.InProgress, S.Shipped}),
            help="the buyer is refunded automatically",
        ),
    },
    conditions=CONDITIONS,
    new_reasons=NEW_REASONS,
    competitors=False,
    credential_expires=True,
    max_batch_lines=MAX_FEED_ITEMS,
)


class _TokenAuth:
    """Access tokens from the refresh token, renewed before expiry and once on a 401."""

    def __init__(self, connector: LeboncoinConnector) -> None:
        self.connector = connector
        self.access_token: str | None = None
        self.expires_at: datetime | None = None
        self._lock = asyncio.Lock()

    async def headers(self) -> Mapping[str, str]:
        now = self.connector.clock.now()
        if self.access_token is None or self.expires_at is None or now >= self.expires_at - REFRESH_MARGIN:
            await self._exchange(stale=self.access_token)
        return {"Authorization": f"Bearer {self.access_token}"}

    async def refresh(self) -> bool:
        await self._exchange(stale=self.access_token)
        return True

    async def _exchange(self, *, stale: str | None) -> None:
        async with self._lock:
            if self.access_token != stale:  # another call refreshed while we waited
                return
            c = self.connector
            try:
                response = await c.api.request(
                    "POST",
                    "/oauth/token",
                    data={"grant_type": "refresh_token", "refresh_token": c._refresh_token},
                    use_auth=False,
                    safe=True,  # a new access token each time: repeating is harmless
                )
            except RemoteRejected as exc:
                expired = "expired" in exc.message.lower()
                raise AuthError(
                    f"Leboncoin refused the refresh token: {exc.message}", expired=expired, marketplace="leboncoin", status=exc.status
                ) from exc
            data = response.data if isinstance(response.data, Mapping) else {}
            token = text_or_none(data.get("access_token"))
            if token is None:
                raise AuthError("Leboncoin's token endpoint sent no access token", marketplace="leboncoin")
            register_secret(token)
            self.access_token = token
            self.expires_at = c.clock.now() + timedelta(seconds=to_int(data.get("expires_in"), 3600))
            c.refresh_token_expires_at = to_datetime(data.get("refresh_token_expires_at"))


class LeboncoinConnector(Connector):
    marketplace = Marketplace.leboncoin
    batch_poll_interval = 30.0

    def __init__(
        self,
        *,
        refresh_token: str,
        clock: Clock,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        requests_per_10s: int = 90,
        rng: random.Random | None = None,
    ) -> None:
        if not refresh_token:
            raise AuthError("a Leboncoin refresh token is required", marketplace="leboncoin")
        register_secret(refresh_token)
        self.clock = clock
        self._refresh_token = refresh_token
        self.refresh_token_expires_at: datetime | None = None
        self._rng = rng or random.Random()
        # Real: 100 / 10 s [I], per client account: every connector of this process shares it.
        self._limiter = shared_limiter(requests_per_10s, 10.0, clock, name="lbc-requests", account=refresh_token, where=base_url)
        self._auth = _TokenAuth(self)
        self.api = ApiClient(
            marketplace="leboncoin",
            base_url=base_url,
            clock=clock,
            headers={"Accept": "application/json", "User-Agent": "shelfdesk (Leboncoin connector)"},
            auth=self._auth,
            limiters_for=lambda method, path: [self._limiter],
            policy=policy or RetryPolicy(rate_limit_delay=10.0),
            client=client,
            transport=transport,
            timeout=timeout,
            rng=self._rng,
        )

    @classmethod
    def capabilities(cls) -> Capabilities:
        return _CAPABILITIES

    async def aclose(self) -> None:
        await self.api.aclose()

    async def check_credentials(self) -> CredentialStatus:
        """Exchange the refresh token and read the account; tells the refresh token's expiry."""
        try:
            await self._auth.refresh()
            response = await self.api.request("GET", "/api/v1/me")
        except AuthError as exc:
            return CredentialStatus(False, exc.message, self.refresh_token_expires_at, expired=exc.expired)
        except WafBlocked as exc:
            return CredentialStatus(False, exc.message, self.refresh_token_expires_at)
        data = response.data if isinstance(response.data, Mapping) else {}
        expires = to_datetime(data.get("refresh_token_expires_at")) or self.refresh_token_expires_at
        self.refresh_token_expires_at = expires
        return CredentialStatus(True, f"connected as {data.get('name') or data.get('id')}", expires)

    # ------------------------------------------------------------------ paging

    async def _pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[list[Mapping[str, Any]]]:
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **params}
        while url:
            response = await self.api.request("GET", url, params=query)
            data = response.data if isinstance(response.data, Mapping) else {}
            yield [i for i in data.get("items") or [] if isinstance(i, Mapping)]
            url, query = data.get("next") or None, None

    # ------------------------------------------------------------------ orders

    async def iter_orders(self, modified_since: datetime | None = None) -> AsyncIterator[list[RemoteOrder]]:
        params = {} if modified_since is None else {"updated_since": rfc3339(modified_since - _CAPABILITIES.sync_overlap)}
        async for items in self._pages("/api/v1/orders", params):
            yield [self._order(o) for o in items]

    async def get_order(self, order_id: str) -> RemoteOrder:
        response = await self.api.request("GET", f"/api/v1/orders/{order_id}")
        return self._order(response.data)

    async def apply_action(self, order_id: str, action: ActionKind | str, fields: Mapping[str, Any] | None = None) -> RemoteOrder:
        spec = _CAPABILITIES.action(action)
        clean = check_action_fields(spec, dict(fields or {}))
        if spec.kind is ActionKind.confirm_availability:
            path, body, targets = "confirm-availability", {}, {"awaiting_shipment", "shipped", "delivered"}
        elif spec.kind is ActionKind.confirm_shipping:
            path, targets = "confirm-shipping", {"shipped", "delivered"}
            body = {"carrier": clean["carrier"]} if clean.get("carrier") else {}
        else:
            path, body, targets = "cancel", {"reason": clean["reason"]}, {"cancelled"}

        async def send() -> RemoteOrder:
            response = await self.api.request("POST", f"/api/v1/orders/{order_id}/{path}", json_body=body, safe=False)
            return self._order(response.data)

        async def verify() -> RemoteOrder | None:
            order = await self.get_order(order_id)
            return order if order.raw_status in targets else None

        order = await call_with_verification(send, verify)
        if spec.kind is ActionKind.confirm_shipping and clean.get("tracking_number"):
            text = f"Votre commande a été expédiée. Numéro de suivi : {clean['tracking_number']}"
            if clean.get("carrier"):
                text += f" ({clean['carrier']})"
            if clean.get("tracking_url"):
                text += f" — {clean['tracking_url']}"
            await self.send_message(order_id, text)
        return order

    async def send_message(self, order_id: str, text: str) -> None:
        """Write to the buyer; re-sent after an unknown outcome only if the message is not there."""

        async def send() -> bool:
            await self.api.request("POST", f"/api/v1/orders/{order_id}/messages", json_body={"body": text}, safe=False)
            return True

        async def verify() -> bool:
            response = await self.api.request("GET", f"/api/v1/orders/{order_id}/messages")
            items = (response.data or {}).get("items", []) if isinstance(response.data, Mapping) else []
            return any(isinstance(m, Mapping) and m.get("body") == text for m in items)

        await call_with_verification(send, verify)

    async def set_line_details(
        self, order_id: str, line_id: str, *, imei: str | None = None, serial_number: str | None = None
    ) -> RemoteOrder:
        raise UnsupportedOperation("Leboncoin takes no IMEI or serial number", marketplace="leboncoin")

    def _order(self, raw: Any) -> RemoteOrder:
        if not isinstance(raw, Mapping):
            raise RemoteRejected("Leboncoin sent an order that is not an object", marketplace="leboncoin")
        state = text_or_none(raw.get("state"))
        currency = str(raw.get("currency") or "EUR")
        lines = [
            RemoteOrderLine(
                remote_id=str(i.get("id")),
                sku=str(i.get("sku") or ""),
                quantity=to_int(i.get("quantity"), 1),
                unit_price=to_decimal(i.get("unit_price"), Decimal("0")),
                currency=currency,
                raw_status=state,
                status=LEBONCOIN_ORDER.normalize(state),
                title=str(i.get("title") or ""),
                product_id=text_or_none(i.get("ad_id")),
                raw=dict(i),
            )
            for i in raw.get("items") or []
            if isinstance(i, Mapping)
        ]
        shipping = raw.get("shipping") or {}
        deadline = {"paid": raw.get("availability_deadline"), "awaiting_shipment": raw.get("shipping_deadline")}.get(state or "")
        allowed = {
            "paid": (ActionKind.confirm_availability, ActionKind.cancel),
            "awaiting_shipment": (ActionKind.confirm_shipping, ActionKind.cancel),
            "shipped": (ActionKind.cancel,),
        }.get(state or "", ())
        created = to_datetime(raw.get("created_at")) or self.clock.now()
        return RemoteOrder(
            marketplace=Marketplace.leboncoin,
            remote_id=str(raw.get("id")),
            raw_status=state,
            status=LEBONCOIN_ORDER.normalize(state),
            created_at=created,
            modified_at=to_datetime(raw.get("updated_at")) or created,
            currency=currency,
            total=to_decimal(raw.get("total"), Decimal("0")),
            shipping_price=to_decimal(shipping.get("price"), Decimal("0")),
            lines=lines,
            country=text_or_none((shipping.get("address") or {}).get("country")),
            customer_name=str((raw.get("buyer") or {}).get("name") or ""),
            shipping_address=dict(shipping.get("address") or {}),
            shipper=text_or_none(raw.get("carrier")),
            deadline=to_datetime(deadline),
            allowed_actions=allowed,
            raw=dict(raw),
        )

    # ------------------------------------------------------------------ ads and feeds

    async def iter_listings(self) -> AsyncIterator[list[RemoteListing]]:
        async for items in self._pages("/api/v1/ads", {}):
            yield [_ad(a) for a in items]

    async def submit_offers(self, updates: Sequence[OfferUpdate]) -> list[BatchTicket]:
        items = [
            {k: v for k, v in (("sku", u.sku), ("price", money_text(u.price) or None), ("quantity", u.quantity)) if v is not None}
            for u in updates
        ]
        return await self._submit(PublicationKind.offers, items)

    async def submit_listings(self, updates: Sequence[ListingUpdate]) -> list[BatchTicket]:
        items = [
            {
                "sku": u.sku,
                "title": u.title,
                "description": u.description,
                "category": u.category,
                "condition": u.condition,
                "new_reason": u.new_reason,
                "price": money_text(u.price) or None,
                "quantity": u.quantity,
                "attributes": dict(u.attributes),
            }
            for u in updates
        ]
        return await self._submit(PublicationKind.products, [{k: v for k, v in i.items() if v is not None} for i in items])

    async def _submit(self, kind: PublicationKind, items: list[dict[str, Any]]) -> list[BatchTicket]:
        """Post each feed with a client reference; after an unknown outcome, look the reference up
        (``GET /feeds?reference=``) before sending again, so a feed is never created twice."""
        tickets: list[BatchTicket] = []
        with keep_submitted(tickets):  # a later feed's error carries the earlier feeds' tickets
            for start in range(0, len(items), MAX_FEED_ITEMS):
                part = items[start : start + MAX_FEED_ITEMS]
                reference = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
                body = {"reference": reference, "items": part}

                async def send(body: dict[str, Any] = body) -> Mapping[str, Any]:
                    response = await self.api.request("POST", f"/api/v1/feeds/{kind.value}", json_body=body, safe=False)
                    return response.data if isinstance(response.data, Mapping) else {}

                async def verify(reference: str = reference) -> Mapping[str, Any] | None:
                    response = await self.api.request("GET", "/api/v1/feeds", params={"reference": reference})
                    found = (response.data or {}).get("items") if isinstance(response.data, Mapping) else None
                    return next((f for f in found or [] if isinstance(f, Mapping) and f.get("type") in (None, kind.value)), None)

                data = await call_with_verification(send, verify)
                feed_id = text_or_none(data.get("feed_id"))
                if feed_id is None:
                    raise RemoteRejected(f"Leboncoin accepted the feed without an id: {data!r}", marketplace="leboncoin")
                if data.get("type") not in (None, kind.value):  # never follow another feed as if it were ours
                    raise RemoteRejected(
                        f"Leboncoin answered {kind.value} feed {reference} with {data.get('type')} feed {feed_id}", marketplace="leboncoin"
                    )
                tickets.append(
                    BatchTicket(Marketplace.leboncoin, kind, feed_id, tuple(str(i.get("sku", "")) for i in part), self.clock.now())
                )
        return tickets

    async def get_batch(self, ticket: BatchTicket) -> BatchResult:
        response = await self.api.request("GET", f"/api/v1/feeds/{ticket.remote_id}")
        data = response.data if isinstance(response.data, Mapping) else {}
        status = str(data.get("status") or "")
        state = {"done": BatchState.done, "failed": BatchState.failed}.get(status, BatchState.pending)
        items: list[BatchItemResult] = []
        if state is BatchState.done:
            by_sku = {str(r.get("sku", "")).casefold(): r for r in data.get("report") or [] if isinstance(r, Mapping)}
            for sku in ticket.skus:
                r = by_sku.get(sku.casefold())
                if r is None:
                    items.append(BatchItemResult(sku, False, "no result reported for this SKU"))
                    continue
                errors = [e for e in r.get("errors") or [] if isinstance(e, Mapping)]
                items.append(
                    BatchItemResult(
                        sku,
                        r.get("status") == "ok",
                        "; ".join(str(e.get("message")) for e in errors),
                        text_or_none(errors[0].get("code")) if errors else None,
                        text_or_none(r.get("ad_id")),
                    )
                )
        return BatchResult(ticket, state, items, error=text_or_none(data.get("error")), raw=dict(data))

    async def update_offer(self, update: OfferUpdate) -> RemoteListing:
        """``PATCH /ads/{id}`` with absolute values: repeating it is harmless (safe)."""
        ad_id = update.remote_id
        if ad_id is None:
            async for page in self.iter_listings():
                found = next((a for a in page if a.sku.casefold() == update.sku.casefold()), None)
                if found:
                    ad_id = found.remote_id
                    break
            else:
                raise RemoteRejected(f"no Leboncoin ad has SKU {update.sku}", marketplace="leboncoin")
        body = {k: v for k, v in (("price", money_text(update.price) or None), ("quantity", update.quantity)) if v is not None}
        response = await self.api.request("PATCH", f"/api/v1/ads/{ad_id}", json_body=body, safe=True)
        return _ad(response.data)

    async def get_competitors(self, listing_id: str) -> list[Competitor]:
        raise UnsupportedOperation("Leboncoin has no competitor data", marketplace="leboncoin")


def _ad(raw: Any) -> RemoteListing:
    if not isinstance(raw, Mapping):
        raise RemoteRejected("Leboncoin sent an ad that is not an object", marketplace="leboncoin")
    status = text_or_none(raw.get("status"))
    return RemoteListing(
        remote_id=str(raw.get("id")),
        sku=str(raw.get("sku") or ""),
        title=str(raw.get("title") or ""),
        quantity=to_int(raw.get("quantity")),
        price=to_decimal(raw.get("price")),
        currency=str(raw.get("currency") or "EUR"),
        raw_state=status,
        online=status == "online",
        condition=text_or_none(raw.get("condition")),
        raw=dict(raw),
    )
