"""The repricer: follow the buybox between a listing's minimum and default price, with guardrails.

For each listed product that has a minimum price (the channel's ``min_price``
mapping) and a default price (its offer price), read the buybox (Back
Market's competitors endpoint, which the connector keeps at 2 calls a
second) for the channel's market. When the price to win lies between the
minimum and the default, price at it; otherwise use the default. Never under
the minimum. Guardrails: a maximum step per run (percent of the current
price), a cooldown per listing, and the account's hourly line budget shared
with the feeds. A simulation shows what it would change and sends nothing.
Every change, applied or simulated, is logged with its reason.

Settings (channel ``settings["repricer"]``): ``max_step_percent`` (default
10), ``cooldown_minutes`` (default 60). With the repricer on, the offers feed
stops sending prices, so prices follow the repricer's rhythm while
quantities keep theirs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from shelfdesk.formatting import amount_text
from shelfdesk.publishing.channel import ChannelSpec, decimal_setting, load_channel
from shelfdesk.publishing.errors import PublishError

if TYPE_CHECKING:
    from shelfdesk.channels.base import Competitor
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.engine import ConnectorFactory

log = logging.getLogger("shelfdesk.publishing.repricer")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Guardrails:
    max_step_percent: Decimal = Decimal("10")
    cooldown: timedelta = timedelta(minutes=60)


@dataclass
class Decision:
    """What the repricer decided for one listing, and why."""

    sku: str
    current: Decimal | None
    minimum: Decimal | None
    default: Decimal | None
    price_to_win: Decimal | None
    new_price: Decimal | None
    reason: str
    applied: bool = False
    error: str | None = None

    @property
    def changes(self) -> bool:
        return self.new_price is not None and self.new_price != self.current


@dataclass
class RepriceResult:
    channel_id: int
    run_key: str
    simulated: bool
    decisions: list[Decision] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[Decision]:
        return [d for d in self.decisions if d.changes]

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "run": self.run_key,
            "simulated": self.simulated,
            "notes": self.notes,
            "changed": len(self.changed),
            "applied": sum(d.applied for d in self.decisions),
            "failed": sum(1 for d in self.decisions if d.error),
            "listings": len(self.decisions),
            "decisions": [
                {
                    "sku": d.sku,
                    "current": amount_text(d.current),
                    "minimum": amount_text(d.minimum),
                    "default": amount_text(d.default),
                    "price_to_win": amount_text(d.price_to_win),
                    "new_price": amount_text(d.new_price),
                    "reason": d.reason,
                    "applied": d.applied,
                    "error": d.error,
                }
                for d in self.decisions
            ],
        }


def guardrails(channel: ChannelSpec) -> Guardrails:
    step = decimal_setting(channel.repricer_setting("max_step_percent", "10"), "repricer max_step_percent")
    cooldown = channel.repricer_setting("cooldown_minutes", 60)
    try:
        minutes = float(cooldown)
    except (TypeError, ValueError):
        raise PublishError(f"repricer cooldown_minutes must be a number, not {cooldown!r}") from None
    if step is None or step <= 0 or minutes < 0:
        raise PublishError("repricer max_step_percent must be above 0 and cooldown_minutes not negative")
    return Guardrails(step, timedelta(minutes=minutes))


def decide(
    sku: str, current: Decimal | None, minimum: Decimal, default: Decimal, price_to_win: Decimal | None, rails: Guardrails
) -> Decision:
    """The price for one listing (pure: the rules, tested at their boundaries)."""
    if minimum > default:
        return Decision(
            sku, current, minimum, default, price_to_win, None, f"minimum {minimum:.2f} is above the default {default:.2f}: fix the prices"
        )
    if price_to_win is None:
        target, reason = default, "no buybox price: default price"
    elif price_to_win < minimum:
        target, reason = default, f"price to win {price_to_win:.2f} is under the minimum {minimum:.2f}: default price"
    elif price_to_win > default:
        target, reason = default, f"price to win {price_to_win:.2f} is above the default: default price"
    else:
        target, reason = price_to_win, f"buybox: price to win {price_to_win:.2f} is between {minimum:.2f} and {default:.2f}"
    new = target
    if current is not None and current > 0:
        step = (current * rails.max_step_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if abs(target - current) > step:
            new = current + step if target > current else current - step
            reason += f" (limited to a {rails.max_step_percent}% step from {current:.2f})"
    new = max(new, minimum).quantize(CENT, rounding=ROUND_HALF_UP)
    if current is not None and new == current:
        reason = "unchanged: " + reason
    return Decision(sku, current, minimum, default, price_to_win, new, reason)


async def reprice(
    ctx: AppContext, channel_id: int, *, simulate: bool = False, factory: ConnectorFactory | None = None, limit: int | None = None
) -> RepriceResult:
    """One repricer run over the channel's listed products (``simulate``: decide and log, send nothing)."""
    from shelfdesk.channels.registry import capabilities
    from shelfdesk.publishing.engine import default_factory
    from shelfdesk.publishing.listings import read_listings, store_listings
    from shelfdesk.publishing.quota import run_quota, stockout_reserve

    channel = load_channel(ctx, channel_id)
    if not capabilities(channel.marketplace).competitors:
        raise PublishError(f"{channel.marketplace} gives no buybox data: the repricer cannot run on {channel.label}")
    if not simulate and not channel.repricer_enabled:
        raise PublishError(f"the repricer is off for {channel.label}: turn it on, or run a simulation (--simulate)")
    if not simulate:
        ctx.require_write()
    rails = guardrails(channel)
    result = RepriceResult(channel.id, f"reprice-{ctx.clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", simulate)
    make = factory or default_factory(ctx)
    async with make(channel) as connector:
        remote = await read_listings(connector)
        if not ctx.read_only:
            store_listings(ctx, channel.id, remote)
        candidates, notes = _candidates(ctx, channel, remote)
        result.notes.extend(notes)
        budget = None if simulate else run_quota(ctx, channel)
        if budget is not None:
            budget = max(0, budget - stockout_reserve(ctx, channel, budget))  # prices never take the stock-outs' reserve
        now = ctx.clock.now()
        for sku, listing_id, current, minimum, default, repriced_at in candidates[: limit or None]:
            if repriced_at is not None and now - repriced_at < rails.cooldown:
                result.decisions.append(
                    Decision(
                        sku,
                        current,
                        minimum,
                        default,
                        None,
                        None,
                        f"cooldown: repriced at {repriced_at:%H:%M}, next after {repriced_at + rails.cooldown:%H:%M} UTC",
                    )
                )
                continue
            competitors = await connector.get_competitors(listing_id)
            decision = decide(sku, current, minimum, default, _price_to_win(competitors, channel), rails)
            result.decisions.append(decision)
            if not decision.changes or simulate:
                continue
            if budget is not None and budget <= 0:
                decision.error = "over this hour's line quota: left for the next run"
                continue
            await _apply(connector, channel, listing_id, decision)
            if budget is not None:
                budget -= 1
    _log(ctx, channel, result)
    return result


def _price_to_win(competitors: list[Competitor], channel: ChannelSpec) -> Decimal | None:
    """The channel's market's price to win (the first market when none matches)."""
    if not competitors:
        return None
    wanted = {channel.country.upper(), channel.market.split("-")[-1].upper()}
    for c in competitors:
        if c.market.upper() in wanted:
            return c.price_to_win
    return competitors[0].price_to_win


async def _apply(connector: Any, channel: ChannelSpec, listing_id: str, decision: Decision) -> None:
    from shelfdesk.channels.base import OfferUpdate
    from shelfdesk.channels.errors import ChannelError

    try:
        await connector.update_offer(OfferUpdate(decision.sku, price=decision.new_price, currency=channel.currency, remote_id=listing_id))
        decision.applied = True
    except ChannelError as exc:
        decision.error = str(exc)[:500]


def _candidates(ctx: AppContext, channel: ChannelSpec, remote: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[str]]:
    """(sku, listing id, current, minimum, default, repriced_at) of each listed product with both prices."""
    from sqlalchemy import select

    from shelfdesk.catalog.attributes import AttributeSpec
    from shelfdesk.db.models import ChannelListing
    from shelfdesk.publishing.plan import StoreProduct, column_rules, from_cents, load_products, product_price

    rules = column_rules(ctx, channel.id)
    notes: list[str] = []
    rule = rules.get("min_price")
    if rule is None or not rule.is_set:
        notes.append("no minimum price: map attribute min_price (Mappings → columns) to use the repricer")
        return [], notes
    spec = AttributeSpec("min_price", "Minimum price", "decimal")
    with ctx.engine.connect() as conn:
        products, excluded = load_products(ctx, conn, channel, full_values=True)
    with ctx.read_session() as session:
        repriced = dict(
            session.execute(select(ChannelListing.sku_key, ChannelListing.repriced_at).where(ChannelListing.channel_id == channel.id)).all()
        )
    out: list[tuple[Any, ...]] = []
    missing = 0
    for row in products:
        product = StoreProduct(*row)
        key = product.sku.casefold()
        view = remote.get(key)
        if product.gone or product.id in excluded or view is None or not view.remote_id:
            continue
        text, problem = spec.check(rule.resolve(product.values))
        cents, price_problem = product_price(product, rules)
        default = from_cents(cents)
        if problem or text is None or price_problem or default is None:
            missing += 1
            continue
        out.append((product.sku, view.remote_id, view.price, Decimal(text), default, repriced.get(key)))
    if missing:
        notes.append(f"{missing:,} listed products have no usable minimum or default price: left alone")
    return out, notes


def _log(ctx: AppContext, channel: ChannelSpec, result: RepriceResult) -> None:
    """Every price change (applied, simulated or refused) with its reason; listings remember when."""
    from sqlalchemy import update

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import ChannelListing, RepriceChange

    changes = [d for d in result.decisions if d.changes]
    if not changes or ctx.read_only:
        return
    now = ctx.clock.now()
    with ctx.write_session() as session:
        session.add_all(
            RepriceChange(
                channel_id=channel.id,
                run_key=result.run_key,
                sku=d.sku,
                at=now,
                simulated=result.simulated,
                applied=d.applied,
                old_price=d.current,
                new_price=d.new_price,
                minimum_price=d.minimum,
                default_price=d.default,
                price_to_win=d.price_to_win,
                reason=d.reason,
                error=d.error,
            )
            for d in changes
        )
        for d in changes:
            if d.applied:
                session.execute(
                    update(ChannelListing)
                    .where(ChannelListing.channel_id == channel.id, ChannelListing.sku_key == d.sku.casefold())
                    .values(remote_price=d.new_price, repriced_at=now, updated_at=now)
                )
        if not result.simulated:
            record_audit(
                session, ctx, "reprice.run", "channel", channel.id, {"run": result.run_key, "applied": sum(d.applied for d in changes)}
            )


def list_changes(ctx: AppContext, channel_id: int, *, limit: int = 100, sku: str | None = None) -> list[dict[str, Any]]:
    """The repricer's log, newest first."""
    from sqlalchemy import select

    from shelfdesk.db.models import RepriceChange as R

    query = select(R).where(R.channel_id == channel_id)
    if sku:
        query = query.where(R.sku == sku)
    with ctx.read_session() as session:
        rows = session.execute(query.order_by(R.at.desc(), R.id.desc()).limit(min(limit, 500))).scalars().all()  # type: ignore[attr-defined]
    return [
        {
            "at": r.at.isoformat(),
            "sku": r.sku,
            "old_price": amount_text(r.old_price),
            "new_price": amount_text(r.new_price),
            "reason": r.reason,
            "simulated": r.simulated,
            "applied": r.applied,
            "error": r.error,
        }
        for r in rows
    ]


def reprice_sync(ctx: AppContext, channel_id: int, **kwargs: Any) -> RepriceResult:
    import asyncio

    return asyncio.run(reprice(ctx, channel_id, **kwargs))
