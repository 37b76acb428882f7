"""Channel readiness: three lights (categories, mapping, API settings), each with its reasons.

A channel may be activated for publication only when all three are green.
Reasons are written for the operator ("37 categories unmapped (1,204
products)", "mandatory attribute grade unmapped", "token rejected: 401 …") and
saved on the channel with the flags, so lists show them without recomputing.
Warnings are shown but do not turn a light red (some products failing an
attribute: they will be refused one by one, the others publish).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from shelfdesk.catalog.errors import CatalogError
from shelfdesk.domain import Marketplace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

LIGHTS = ("categories", "mapping", "api")
LIGHT_LABELS = {"categories": "Categories", "mapping": "Mapping", "api": "API settings"}


@dataclass(frozen=True)
class Light:
    name: str
    ok: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LIGHT_LABELS[self.name]

    @property
    def status(self) -> str:
        return "green" if self.ok else "red"


@dataclass(frozen=True)
class Readiness:
    channel_id: int
    categories: Light
    mapping: Light
    api: Light
    checked_at: datetime

    @property
    def lights(self) -> tuple[Light, Light, Light]:
        return (self.categories, self.mapping, self.api)

    @property
    def ready(self) -> bool:
        return all(light.ok for light in self.lights)

    def summary(self) -> str:
        """One line: ``categories ✓ · mapping ✗ (mandatory attribute grade unmapped) · API ✓``."""
        parts = []
        for light in self.lights:
            mark = "ok" if light.ok else "RED"
            parts.append(f"{light.label} {mark}" + (f" ({light.reasons[0]})" if light.reasons else ""))
        return " · ".join(parts)


def plural(n: int, word: str, plural: str | None = None) -> str:
    """ "1 order", "3 orders" (thousands separated); ``plural`` for irregular words."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def categories_light(ctx: AppContext, channel_id: int) -> Light:
    from shelfdesk.catalog.category_mapping import merchant_categories

    rows = merchant_categories(ctx, channel_id, limit=1_000_000)
    total = sum(r.products for r in rows)
    if total == 0:
        return Light("categories", False, ["no products to publish yet: import the catalog (or review exclusions)"])
    reasons: list[str] = []
    uncategorized = sum(r.products for r in rows if r.path is None)
    unmapped = [r for r in rows if r.path is not None and r.channel_category_id is None]
    broken = [r for r in rows if r.problem is not None]
    if unmapped:
        products = sum(r.products for r in unmapped)
        reasons.append(f"{plural(len(unmapped), 'category', 'categories')} unmapped ({plural(products, 'product')})")
    if broken:
        reasons.append(f"{plural(len(broken), 'mapping')} point at categories that changed: {broken[0].problem}")
    if uncategorized:
        reasons.append(f"{plural(uncategorized, 'product')} without a category in the catalog")
    return Light("categories", not reasons, reasons)


def mapping_light(ctx: AppContext, channel_id: int) -> Light:
    from shelfdesk.catalog.attributes import attribute_set
    from shelfdesk.catalog.column_mapping import catalog_fields, channel_rules, preview
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise CatalogError(f"no channel with id {channel_id}")
        store_id, marketplace = channel.store_id, Marketplace(channel.marketplace)
    attrs = attribute_set(marketplace)
    rules = channel_rules(ctx, channel_id)
    fields = set(catalog_fields(ctx, store_id))
    reasons: list[str] = []
    warnings: list[str] = []
    groups: dict[str, list[str]] = {}
    for spec in attrs.specs:
        rule = rules.get(spec.name)
        if rule is not None and rule.column and rule.column not in fields:
            reasons.append(f"{spec.name} is mapped to column {rule.column!r}, which the catalog does not have")
        if spec.any_of:
            groups.setdefault(spec.any_of, [])
            if rule is not None and rule.is_set:
                groups[spec.any_of].append(spec.name)
        elif spec.mandatory and (rule is None or not rule.is_set):
            reasons.append(f"mandatory attribute {spec.name} unmapped")
    for group, mapped in groups.items():
        if not mapped:
            names = " or ".join(s.name for s in attrs.specs if s.any_of == group)
            reasons.append(f"map {names} (one of them is mandatory)")
    if not reasons:
        result = preview(ctx, channel_id, samples=0)
        for name, count in sorted(result.failures.items(), key=lambda kv: -kv[1]):
            failing = attrs.get(name)
            example = result.examples.get(name, "")
            if result.products and count == result.products and failing is not None and (failing.mandatory or failing.any_of):
                reasons.append(f"{name}: every product fails ({example})")
            else:
                warnings.append(f"{name}: {plural(count, 'product')} fail ({example})")
    return Light("mapping", not reasons, reasons, warnings)


def api_light(ctx: AppContext, channel_id: int) -> Light:
    from shelfdesk.db.models import Channel, MarketplaceAccount
    from shelfdesk.secrets import SecretError

    now = ctx.clock.now()
    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise CatalogError(f"no channel with id {channel_id}")
        account = session.get(MarketplaceAccount, channel.account_id)
    reasons: list[str] = []
    warnings: list[str] = []
    if account is None:  # pragma: no cover - the foreign key forbids it
        return Light("api", False, ["the channel has no marketplace account"])
    if not account.credential_ref:
        reasons.append("no API token: type it in the channel's API settings")
    else:
        try:
            ctx.secrets.resolve(account.credential_ref)
        except SecretError as exc:
            reasons.append(f"token unavailable: {exc}")
    if account.marketplace == Marketplace.backmarket:
        if not account.company or not account.contact_email:
            reasons.append("company and contact e-mail are required (Back Market's mandatory User-Agent)")
        if not account.base_url and not account.region:
            reasons.append("choose a region (Europe, North America, Asia-Pacific) or a custom base URL")
    if account.token_expires_at is not None and account.token_expires_at <= now:
        reasons.append(f"token expired on {account.token_expires_at:%Y-%m-%d}: replace it")
    elif account.token_expires_at is not None and (account.token_expires_at - now).days < 30:
        warnings.append(f"token expires on {account.token_expires_at:%Y-%m-%d}: renew it soon")
    connection_error = (account.settings or {}).get("connection_error")
    if account.token_error:
        reasons.append(f"token rejected: {account.token_error}")
    elif connection_error:
        reasons.append(f"connection test failed: {connection_error}")
    elif account.token_checked_at is None and account.credential_ref:
        reasons.append("connection not tested yet: run test connection")
    return Light("api", not reasons, reasons, warnings)


def compute_readiness(ctx: AppContext, channel_id: int, *, save: bool = True) -> Readiness:
    """The three lights of a channel; saved on the channel unless ``save`` is False or read-only."""
    readiness = Readiness(
        channel_id, categories_light(ctx, channel_id), mapping_light(ctx, channel_id), api_light(ctx, channel_id), ctx.clock.now()
    )
    if save and not ctx.read_only:
        save_readiness(ctx, readiness)
    return readiness


def save_readiness(ctx: AppContext, readiness: Readiness) -> None:
    from shelfdesk.db.models import Channel

    with ctx.write_session() as session:
        channel = session.get(Channel, readiness.channel_id)
        if channel is None:
            return
        channel.categories_ok = readiness.categories.ok
        channel.columns_ok = readiness.mapping.ok
        channel.api_ok = readiness.api.ok
        channel.readiness_checked_at = readiness.checked_at
        channel.readiness_reasons = {light.name: {"reasons": light.reasons, "warnings": light.warnings} for light in readiness.lights}


def saved_readiness(channel: object) -> Readiness | None:
    """The readiness last saved on a channel row (None when never computed)."""
    checked = getattr(channel, "readiness_checked_at", None)
    if checked is None:
        return None
    saved = getattr(channel, "readiness_reasons", None) or {}

    def light(name: str, ok: bool) -> Light:
        data = saved.get(name) or {}
        return Light(name, ok, list(data.get("reasons") or []), list(data.get("warnings") or []))

    return Readiness(
        channel.id,
        light("categories", bool(getattr(channel, "categories_ok"))),  # noqa: B009
        light("mapping", bool(getattr(channel, "columns_ok"))),  # noqa: B009
        light("api", bool(channel.api_ok)),
        checked,
    )  # noqa: B009
