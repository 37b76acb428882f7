"""One channel as the publishing engine sees it, found by the names an operator types.

Read once per run into a plain dataclass (no ORM object crosses a session).
The quantity owner is resolved here: where several channels of one account
would each send quantities for the same listings (Back Market holds one
quantity per listing across markets), only one of them may, so two stores
never fight over stock. The channel flagged ``owns_quantities`` with the
lowest id owns them; any other flagged channel of the account is treated as
prices-only and the run says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from shelfdesk.domain import Marketplace
from shelfdesk.publishing.errors import NotFound, PublishError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

#: How long an item whose batch answer was lost stays held before it may be sent again.
DEFAULT_HOLD_MINUTES = 30
#: How long a run polls its batches before leaving them to the next run.
DEFAULT_BATCH_WAIT_SECONDS = 900.0
#: An offers run of at most this many items updates each listing in real time instead of a batch
#: (channel setting ``realtime_offers_max``; 0 always batches). Back Market advises its real-time
#: update for stocks close to 0; each update counts in the same hourly line budget as a batch line.
DEFAULT_REALTIME_OFFERS_MAX = 0


@dataclass(frozen=True)
class ChannelSpec:
    """Everything a run needs to know about its channel (plain values)."""

    id: int
    name: str
    store_id: int
    store_name: str
    currency: str
    account_id: int
    account_name: str
    marketplace: Marketplace
    market: str
    country: str
    enabled: bool
    products_feed_enabled: bool
    offers_feed_enabled: bool
    quantities_only: bool
    owns_quantities: bool  #: effective: this channel sends quantities
    repricer_enabled: bool
    safety_stock: int  #: the channel's, else the store's
    active: bool = True  #: publication activated (three green lights, then the operator's A)
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.store_name} / {self.name}"

    @property
    def sends_prices(self) -> bool:
        """Offers carry prices unless the channel is quantities-only or the repricer owns them."""
        return not self.quantities_only and not self.repricer_enabled

    def setting_int(self, name: str, default: int) -> int:
        return _int(self.settings.get(name), default, f"channel {self.name!r} setting {name}")

    def setting_float(self, name: str, default: float) -> float:
        value = self.settings.get(name)
        if value is None:
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise PublishError(f"channel {self.name!r} setting {name} must be a number, not {value!r}") from None

    def repricer_setting(self, name: str, default: Any) -> Any:
        section = self.settings.get("repricer") or {}
        return section.get(name, default) if isinstance(section, dict) else default


def _int(value: Any, default: int, what: str) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PublishError(f"{what} must be a whole number, not {value!r}") from None


def decimal_setting(value: Any, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PublishError(f"{what} must be a decimal number, not {value!r}") from None
    if not amount.is_finite():
        raise PublishError(f"{what} must be a decimal number, not {value!r}")
    return amount


def load_channel(ctx: AppContext, channel_id: int) -> ChannelSpec:
    with ctx.read_session() as session:
        return channel_spec(session, channel_id)


def channel_spec(session: Session, channel_id: int) -> ChannelSpec:
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, MarketplaceAccount, Store

    row = session.execute(
        select(Channel, Store.name, Store.currency, Store.safety_stock, MarketplaceAccount.name)
        .join(Store, Store.id == Channel.store_id)
        .join(MarketplaceAccount, MarketplaceAccount.id == Channel.account_id)
        .where(Channel.id == channel_id)
    ).first()
    if row is None:
        raise NotFound(f"no channel with id {channel_id}")
    channel, store_name, currency, store_safety, account_name = row
    owners = session.execute(
        select(Channel.id, Channel.name)
        .where(Channel.account_id == channel.account_id, Channel.owns_quantities.is_(True))
        .order_by(Channel.id)
    ).all()
    warnings: list[str] = []
    owns = bool(channel.owns_quantities)
    if owns and owners and owners[0][0] != channel.id:
        owns = False
        warnings.append(
            f"{owners[0][1]} owns this account's quantities: {channel.name} sends prices only (clear 'owns quantities' on one of them)"
        )
    safety = channel.safety_stock if channel.safety_stock is not None else (store_safety or 0)
    return ChannelSpec(
        id=channel.id,
        name=channel.name,
        store_id=channel.store_id,
        store_name=store_name,
        currency=currency,
        account_id=channel.account_id,
        account_name=account_name,
        marketplace=Marketplace(channel.marketplace),
        market=channel.market,
        country=channel.country,
        enabled=channel.enabled,
        products_feed_enabled=channel.products_feed_enabled,
        offers_feed_enabled=channel.offers_feed_enabled,
        quantities_only=channel.quantities_only,
        owns_quantities=owns,
        repricer_enabled=channel.repricer_enabled,
        safety_stock=max(0, int(safety)),
        active=channel.activated_at is not None,
        settings=dict(channel.settings or {}),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class ChannelChoice:
    """A channel an operator can publish, as the console lists it."""

    id: int
    label: str
    marketplace: Marketplace
    feeds: tuple[str, ...]  #: feeds switched on: offers, products
    active: bool = True  #: publication activated: only a dry run may plan it until then

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes the marketplace takes (update first), so the console never offers a refused one."""
        from shelfdesk.channels.registry import capabilities

        allowed = capabilities(self.marketplace).feed_modes
        return tuple(m for m in ("update", "full") if m in {str(a) for a in allowed})


def list_channels(ctx: AppContext) -> list[ChannelChoice]:
    """Enabled channels with their switched-on feeds, by store then channel name."""
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, Store

    with ctx.read_session() as session:
        rows = session.execute(
            select(
                Channel.id,
                Channel.name,
                Store.name,
                Channel.marketplace,
                Channel.offers_feed_enabled,
                Channel.products_feed_enabled,
                Channel.activated_at,
            )
            .join(Store, Store.id == Channel.store_id)
            .where(Channel.enabled.is_(True))
            .order_by(Store.name, Channel.name)
        ).all()
    return [
        ChannelChoice(
            cid,
            f"{store} / {name}",
            Marketplace(mp),
            tuple(f for f, on in (("offers", offers), ("products", products)) if on),
            activated is not None,
        )
        for cid, name, store, mp, offers, products, activated in rows
    ]
