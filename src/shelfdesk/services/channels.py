"""Channels: a store published to one market of one marketplace account.

Rules enforced here, with the reason in the message:

* Back Market needs one store per country: a store's Back Market channels all
  sell in the store's country (its own catalog, prices and stock); a second
  country means a second store.
* An account has at most one channel per market; several markets may share
  an account (Back Market France and Spain on one token).
* Back Market keeps one quantity per listing across markets, so only one
  channel of an account sends quantities (the first one created).
* Publication is activated only when the three readiness lights are green.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.errors import SetupError
from shelfdesk.domain import Marketplace, OrderScope
from shelfdesk.markets import MARKETS, Market, market_by_code

if TYPE_CHECKING:
    from shelfdesk.catalog.readiness import Readiness
    from shelfdesk.context import AppContext


MARKETPLACE_NAMES = {Marketplace.backmarket: "Back Market", Marketplace.leboncoin: "Leboncoin"}

#: Options an operator may change on a channel, with their column (or settings key).
OPTIONS = (
    "enabled",
    "products_feed_enabled",
    "offers_feed_enabled",
    "quantities_only",
    "orders_enabled",
    "orders_scope",
    "secure_payment",
    "name",
)


@dataclass(frozen=True)
class ChannelView:
    id: int
    store_id: int
    store_name: str
    account_id: int
    account_name: str
    marketplace: Marketplace
    market: str
    country: str
    name: str
    enabled: bool
    products_feed_enabled: bool
    offers_feed_enabled: bool
    quantities_only: bool
    orders_enabled: bool
    orders_scope: OrderScope
    secure_payment: bool | None  #: Leboncoin only
    owns_quantities: bool
    activated_at: datetime | None
    readiness: Readiness | None
    slug: str = ""  #: the short name every command accepts ("bm-fr"), see ``channel_refs``

    def as_json(self) -> dict[str, Any]:
        readiness = None
        if self.readiness is not None:
            readiness = {
                "ready": self.readiness.ready,
                **{light.name: {"ok": light.ok, "reasons": light.reasons, "warnings": light.warnings} for light in self.readiness.lights},
            }
        return {
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "store": self.store_name,
            "store_id": self.store_id,
            "account": self.account_name,
            "account_id": self.account_id,
            "marketplace": str(self.marketplace),
            "market": self.market,
            "country": self.country,
            "enabled": self.enabled,
            "products_feed": self.products_feed_enabled,
            "offers_feed": self.offers_feed_enabled,
            "quantities_only": self.quantities_only,
            "orders": self.orders_enabled,
            "orders_scope": str(self.orders_scope),
            "secure_payment": self.secure_payment,
            "owns_quantities": self.owns_quantities,
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
            "readiness": readiness,
        }


def market_for(marketplace: Marketplace, country: str) -> Market:
    market = market_by_code(marketplace, country)
    if market is None:
        markets = MARKETS[marketplace]
        names = ", ".join(f"{m.country} ({m.name})" for m in markets.values())
        raise SetupError(f"{MARKETPLACE_NAMES[marketplace]} has no market {country!r}; markets: {names}")
    return market


def _view(channel: Any, store_name: str, account_name: str) -> ChannelView:
    from shelfdesk.catalog.readiness import saved_readiness

    market = Marketplace(channel.marketplace)
    secure = bool((channel.settings or {}).get("secure_payment", True)) if market is Marketplace.leboncoin else None
    return ChannelView(
        channel.id,
        channel.store_id,
        store_name,
        channel.account_id,
        account_name,
        market,
        channel.market,
        channel.country,
        channel.name,
        channel.enabled,
        channel.products_feed_enabled,
        channel.offers_feed_enabled,
        channel.quantities_only,
        channel.orders_enabled,
        OrderScope(channel.orders_scope),
        secure,
        channel.owns_quantities,
        channel.activated_at,
        saved_readiness(channel),
    )


def create_channel(
    ctx: AppContext, store_id: int, account_id: int, country: str, *, name: str | None = None, **options: Any
) -> ChannelView:
    """Publish a store to one market of an account; options as in :data:`OPTIONS`."""
    from sqlalchemy import select

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise SetupError(f"unknown channel option(s): {', '.join(sorted(unknown))}")
    now = ctx.clock.now()
    with ctx.write_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise SetupError(f"no store with id {store_id}")
        account = session.get(MarketplaceAccount, account_id)
        if account is None:
            raise SetupError(f"no account with id {account_id}")
        marketplace = Marketplace(account.marketplace)
        market = market_for(marketplace, country)
        label = f"{MARKETPLACE_NAMES[marketplace]} {market.name}"
        if marketplace is Marketplace.backmarket:
            others = session.execute(
                select(Channel.name, Channel.country).where(Channel.store_id == store_id, Channel.marketplace == marketplace)
            ).all()
            other = next(((n, c) for n, c in others if c != market.country), None)
            if other is not None or market.country != store.country:
                already = f"{store.name} already publishes to {other[0]}" if other else f"{store.name} is a {store.country} store"
                raise SetupError(
                    f"Back Market needs one store per country: {already}. Create a store for {market.name} "
                    f"({market.country}) with its own catalog, prices and stock, and add {label} there."
                )
            if account.region and market.region and account.region != market.region and not account.base_url:
                raise SetupError(
                    f"{label} is served by Back Market's {market.region} region; account {account.name} is set to {account.region}"
                )
        if market.currency != store.currency:
            raise SetupError(f"{label} sells in {market.currency}; store {store.name} is in {store.currency}")
        taken = session.execute(
            select(Channel.name, Store.name)
            .join(Store, Store.id == Channel.store_id)
            .where(Channel.account_id == account_id, Channel.market == market.code)
        ).first()
        if taken is not None:
            raise SetupError(f"account {account.name} already publishes to {market.code} through {taken[0]} (store {taken[1]})")
        # Two accounts publishing one catalog to one market would sell its stock twice.
        twin = session.execute(
            select(Channel.name, MarketplaceAccount.name)
            .join(MarketplaceAccount, MarketplaceAccount.id == Channel.account_id)
            .where(Channel.store_id == store_id, Channel.marketplace == marketplace, Channel.market == market.code)
        ).first()
        if twin is not None:
            raise SetupError(
                f"{store.name} already publishes to {market.code} through {twin[0]} (account {twin[1]}): "
                "one channel per store and market, or its stock would be sold twice"
            )
        owner = session.execute(select(Channel.id).where(Channel.account_id == account_id, Channel.owns_quantities.is_(True))).first()
        channel = Channel(
            store_id=store_id,
            account_id=account_id,
            marketplace=marketplace,
            market=market.code,
            country=market.country,
            name=(name or "").strip() or label,
            owns_quantities=owner is None,
            created_at=now,
            updated_at=now,
        )
        _apply_options(channel, marketplace, options)
        session.add(channel)
        session.flush()
        record_audit(
            session, ctx, "channel.create", "channel", channel.id, {"store": store.name, "account": account.name, "market": market.code}
        )
        channel_id = int(channel.id)
    return get_channel(ctx, channel_id)


def _apply_options(channel: Any, marketplace: Marketplace, options: dict[str, Any]) -> None:
    for key, value in options.items():
        if value is None:
            continue
        if key == "orders_scope":
            try:
                channel.orders_scope = OrderScope(value)
            except ValueError:
                raise SetupError(f"orders scope must be 'account' (all its countries) or 'market', not {value!r}") from None
        elif key == "secure_payment":
            if marketplace is not Marketplace.leboncoin:
                raise SetupError("secure payment is a Leboncoin option")
            channel.settings = {**(channel.settings or {}), "secure_payment": bool(value)}
        elif key == "name":
            if not str(value).strip():
                raise SetupError("the channel needs a name")
            channel.name = str(value).strip()
        else:
            setattr(channel, key, bool(value))
    if not channel.offers_feed_enabled and channel.quantities_only:
        channel.quantities_only = False


def update_channel(ctx: AppContext, channel_id: int, **options: Any) -> ChannelView:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel

    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise SetupError(f"unknown channel option(s): {', '.join(sorted(unknown))}")
    with ctx.write_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise SetupError(f"no channel with id {channel_id}")
        _apply_options(channel, Marketplace(channel.marketplace), options)
        channel.updated_at = ctx.clock.now()
        record_audit(session, ctx, "channel.update", "channel", channel_id, {k: str(v) for k, v in options.items() if v is not None})
    return get_channel(ctx, channel_id)


def list_channels(ctx: AppContext, store_id: int | None = None) -> list[ChannelView]:
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    query = (
        select(Channel, Store.name, MarketplaceAccount.name)
        .join(Store, Store.id == Channel.store_id)
        .join(MarketplaceAccount, MarketplaceAccount.id == Channel.account_id)
        .order_by(Store.name, Channel.name)
    )
    if store_id is not None:
        query = query.where(Channel.store_id == store_id)
    from shelfdesk.channel_refs import refs_from

    with ctx.read_session() as session:
        slugs = {ref.id: ref.slug for ref in refs_from(session)}  # over every channel: a shared code gets its id
        return [replace(_view(c, s, a), slug=slugs.get(c.id, "")) for c, s, a in session.execute(query).all()]


def get_channel(ctx: AppContext, channel_id: int) -> ChannelView:
    for view in list_channels(ctx):
        if view.id == channel_id:
            return view
    raise SetupError(f"no channel with id {channel_id}")


def find_channel(ctx: AppContext, ref: str | int) -> ChannelView:
    """A channel by any name an operator gives it (id, name, ``STORE/NAME``, slug, market): see ``channel_refs``."""
    from shelfdesk.channel_refs import resolve_channel

    return get_channel(ctx, resolve_channel(ctx, ref).id)


def check_readiness(ctx: AppContext, channel_id: int) -> Readiness:
    from shelfdesk.catalog.readiness import compute_readiness

    get_channel(ctx, channel_id)
    return compute_readiness(ctx, channel_id)


def test_channel_connection(ctx: AppContext, channel_id: int, **kwargs: Any) -> Any:
    """Test the channel's account (in the channel's language), then refresh its readiness."""
    from shelfdesk.services.accounts import test_connection

    view = get_channel(ctx, channel_id)
    language = view.market if view.marketplace is Marketplace.backmarket else None
    result = test_connection(ctx, view.account_id, language=language, **kwargs)
    for other in list_channels(ctx):
        if other.account_id == view.account_id:
            check_readiness(ctx, other.id)
    return result


test_channel_connection.__test__ = False


def activate_channel(ctx: AppContext, channel_id: int) -> ChannelView:
    """Turn publication on; refused (with every red reason) unless the three lights are green."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel

    readiness = check_readiness(ctx, channel_id)
    if not readiness.ready:
        reds = [f"{light.label}: {'; '.join(light.reasons)}" for light in readiness.lights if not light.ok]
        raise SetupError("publication cannot be activated until all three lights are green — " + " | ".join(reds))
    with ctx.write_session() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        if channel.activated_at is None:
            channel.activated_at = ctx.clock.now()
        channel.enabled = True
        record_audit(session, ctx, "channel.activate", "channel", channel_id, {})
    return get_channel(ctx, channel_id)


def deactivate_channel(ctx: AppContext, channel_id: int) -> ChannelView:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel

    with ctx.write_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise SetupError(f"no channel with id {channel_id}")
        channel.activated_at = None
        record_audit(session, ctx, "channel.deactivate", "channel", channel_id, {})
    return get_channel(ctx, channel_id)


def set_up_channel(
    ctx: AppContext,
    store_id: int,
    country: str,
    *,
    account_id: int | None = None,
    marketplace: Marketplace | str | None = None,
    account_name: str | None = None,
    token: str | None = None,
    token_env: str | None = None,
    region: str | None = None,
    base_url: str | None = None,
    company: str | None = None,
    contact_email: str | None = None,
    name: str | None = None,
    **options: Any,
) -> ChannelView:
    """One step of set-up, as the console and the CLI offer it: account (existing or new) and channel.

    A new account is removed again when the channel is refused, and an
    existing account's API settings (region, base URL, identity: the ones
    given, empty ones left alone) and token are saved only once the channel
    exists, so a refused channel leaves nothing half-made or half-changed
    behind. Readiness is computed for the new channel.
    """
    from shelfdesk.services import accounts

    created = False
    if account_id is None:
        if marketplace is None:
            raise SetupError("choose an existing account, or a marketplace for a new one")
        market = Marketplace(marketplace)
        account = accounts.create_account(
            ctx,
            market,
            (account_name or "").strip() or MARKETPLACE_NAMES[market],
            token=token,
            token_env=token_env,
            region=region or ("eu" if market is Marketplace.backmarket else None),
            base_url=base_url,
            company=company,
            contact_email=contact_email,
        )
        account_id, created = account.id, True
    if Marketplace(accounts.get_account(ctx, account_id).marketplace) is not Marketplace.leboncoin:
        options.pop("secure_payment", None)
    try:
        view = create_channel(ctx, store_id, account_id, country, name=name, **options)
    except Exception:
        if created:
            accounts.delete_account(ctx, account_id)
        raise
    if not created:
        given = {"region": region, "base_url": base_url, "company": company, "contact_email": contact_email}
        settings = {key: value for key, value in given.items() if value}
        if settings:
            accounts.update_account(ctx, account_id, **settings)
        if token or token_env:
            accounts.replace_token(ctx, account_id, token=token, token_env=token_env)
    check_readiness(ctx, view.id)
    return get_channel(ctx, view.id)


def edit_channel(
    ctx: AppContext,
    channel_id: int,
    *,
    account: dict[str, Any] | None = None,
    token: str | None = None,
    token_env: str | None = None,
    **options: Any,
) -> ChannelView:
    """Save a channel's edit in one step, as the console's form and ``channel edit`` offer it.

    ``account``: API settings of the channel's account (:func:`~shelfdesk.services.accounts.update_account`;
    an empty string clears one); ``token``/``token_env``: a renewed token;
    ``options``: the channel's own (:func:`update_channel`, None leaves one as
    it is). Readiness is computed again, since any of these can change it.
    """
    from shelfdesk.services import accounts

    view = get_channel(ctx, channel_id)
    if account:
        accounts.update_account(ctx, view.account_id, **account)
    if token or token_env:
        accounts.replace_token(ctx, view.account_id, token=token, token_env=token_env)
    if options:
        update_channel(ctx, channel_id, **options)
    check_readiness(ctx, channel_id)
    return get_channel(ctx, channel_id)


def refresh_readiness(ctx: AppContext, store_id: int | None = None) -> list[Readiness]:
    """Recompute the lights of every channel (of one store): after an import, or on demand."""
    from shelfdesk.catalog.readiness import compute_readiness

    if ctx.read_only:
        return []
    return [compute_readiness(ctx, view.id) for view in list_channels(ctx, store_id)]
