"""Add or edit a channel: its account (existing or new, with the token typed into a masked field),
the API settings (region or custom base URL, company and e-mail for Back Market's User-Agent), the
market and the options (feeds, prices and quantities or quantities only, order management and scope,
Leboncoin's secure payment).

Enter moves from field to field (and saves from the last one), Tab too; Space toggles a checkbox;
ctrl+s saves from anywhere, Esc cancels. A refused form comes back with what was typed and the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Select

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen
from shelfdesk.tui.screens.setup.store_form import form_row
from shelfdesk.tui.widgets.checkbox import StateCheckbox

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

NEW = -1
MARKETPLACES = [("Back Market", "backmarket"), ("Leboncoin", "leboncoin")]
REGIONS = [("Europe", "eu"), ("North America", "na"), ("Asia-Pacific", "ap")]
SCOPES = [("only this market", "market"), ("all countries of the account", "account")]


def channel_values(ctx: AppContext, channel_id: int) -> dict[str, Any]:
    """What the form shows for an existing channel (never the token)."""
    from shelfdesk.services.accounts import get_account
    from shelfdesk.services.channels import get_channel

    view = get_channel(ctx, channel_id)
    account = get_account(ctx, view.account_id)
    return {
        "channel_id": view.id,
        "store_id": view.store_id,
        "store_name": view.store_name,
        "country": view.country,
        "account_id": account.id,
        "marketplace": str(account.marketplace),
        "account_name": account.name,
        "credential": account.credential,
        "region": account.region or "eu",
        "base_url": account.base_url or "",
        "company": account.company or "",
        "contact_email": account.contact_email or "",
        "name": view.name,
        "products_feed_enabled": view.products_feed_enabled,
        "offers_feed_enabled": view.offers_feed_enabled,
        "quantities_only": view.quantities_only,
        "orders_enabled": view.orders_enabled,
        "orders_scope": str(view.orders_scope),
        "secure_payment": bool(view.secure_payment),
        "safety_stock": _channel_safety(ctx, channel_id),
    }


def _channel_safety(ctx: AppContext, channel_id: int) -> str:
    """The channel's own safety stock as the form shows it ("" when the store's default applies)."""
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        return "" if channel is None or channel.safety_stock is None else str(channel.safety_stock)


def _save_safety(ctx: AppContext, channel_id: int, values: dict[str, Any]) -> None:
    """A changed safety stock field: blank hands it back to the store's default."""
    from shelfdesk.services.stock import parse_quantity, set_channel_safety

    text = str(values.get("safety_stock") or "").strip()
    if text == _channel_safety(ctx, channel_id):
        return
    set_channel_safety(ctx, channel_id, parse_quantity(text, "safety stock") if text else None)


def save_channel(ctx: AppContext, values: dict[str, Any]) -> str:
    """Create or update through the services; returns the confirmation to show."""
    from shelfdesk.services import channels

    options = {
        key: values.get(key)
        for key in ("products_feed_enabled", "offers_feed_enabled", "quantities_only", "orders_enabled", "orders_scope")
    }
    if values.get("marketplace") == "leboncoin":
        options["secure_payment"] = values.get("secure_payment")
    token, token_env = values.get("token") or None, values.get("token_env") or None
    account_settings = {
        "region": values.get("region") if values.get("marketplace") == "backmarket" else None,
        "base_url": values.get("base_url"),
        "company": values.get("company"),
        "contact_email": values.get("contact_email"),
    }
    if values.get("channel_id"):
        if str(values.get("safety_stock") or "").strip():  # refused before anything is saved
            from shelfdesk.services.stock import parse_quantity

            parse_quantity(str(values["safety_stock"]), "safety stock")
        view = channels.edit_channel(
            ctx,
            int(values["channel_id"]),
            account=account_settings,
            token=token,
            token_env=token_env,
            name=values.get("name") or None,
            **options,
        )
        _save_safety(ctx, view.id, values)
        return f"{view.name} saved."
    account_id = values.get("account_id")
    existing = account_id not in (None, NEW)
    view = channels.set_up_channel(
        ctx,
        int(values["store_id"]),
        values.get("country") or "",
        account_id=int(account_id) if existing and account_id is not None else None,
        marketplace=values.get("marketplace"),
        account_name=values.get("account_name"),
        token=token,
        token_env=token_env,
        name=values.get("name") or None,
        **account_settings,
        **options,
    )
    _save_safety(ctx, view.id, values)
    return f"{view.name} added to {view.store_name}: t tests its connection, ⏎ opens its mappings."


class ChannelForm(DialogScreen[dict[str, Any] | None]):
    CSS_PATH = ["setup_form.tcss", "channel_form.tcss"]
    SCOPE: ClassVar[str] = "dialog.form"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, values: dict[str, Any], accounts: list[tuple[int, str, str]], error: str | None = None) -> None:
        super().__init__()
        self.values = dict(values)
        self.accounts = accounts
        self.error = error

    @property
    def editing(self) -> bool:
        return bool(self.values.get("channel_id"))

    def compose(self) -> ComposeResult:
        v = self.values
        title = f"Edit {v.get('name')}" if self.editing else f"Add a channel to {v.get('store_name', 'the store')}"
        marketplace = v.get("marketplace", "backmarket")
        with Vertical(classes="setup-form", id="channel-form"):
            yield Label(title, classes="form-title", markup=False)
            if self.error:
                yield Label(self.error, classes="form-error", markup=False)
            with VerticalScroll(id="channel-fields"):
                yield form_row(
                    "Marketplace",
                    Select(MARKETPLACES, value=marketplace, allow_blank=False, compact=True, id="ch-marketplace", disabled=self.editing),
                )
                yield form_row(
                    "Account",
                    Select(
                        self._account_options(marketplace),
                        value=v.get("account_id", NEW),
                        allow_blank=False,
                        compact=True,
                        id="ch-account",
                        disabled=self.editing,
                    ),
                )
                yield form_row(
                    "New account name",
                    Input(
                        v.get("account_name", ""), placeholder="Back Market EU", id="ch-account-name", disabled=self.editing, compact=True
                    ),
                )
                hint = f"keep {v['credential']}" if v.get("credential") else "paste the token (masked)"
                yield form_row("API token", Input(v.get("token", ""), password=True, placeholder=hint, id="ch-token", compact=True))
                yield form_row(
                    "or env variable", Input(v.get("token_env", ""), placeholder="SHELFDESK_BM_TOKEN", id="ch-token-env", compact=True)
                )
                yield form_row("Region", Select(REGIONS, value=v.get("region", "eu"), allow_blank=False, compact=True, id="ch-region"))
                yield form_row(
                    "Custom base URL",
                    Input(v.get("base_url", ""), placeholder="optional: sandbox or proxy", id="ch-base-url", compact=True),
                )
                yield form_row("Company", Input(v.get("company", ""), placeholder="Back Market User-Agent", id="ch-company", compact=True))
                yield form_row(
                    "Contact e-mail", Input(v.get("contact_email", ""), placeholder="ops@example.com", id="ch-email", compact=True)
                )
                yield form_row(
                    "Market country",
                    Input(v.get("country", ""), placeholder="FR", max_length=5, id="ch-country", disabled=self.editing, compact=True),
                )
                yield form_row(
                    "Channel name", Input(v.get("name", ""), placeholder="default: marketplace and country", id="ch-name", compact=True)
                )
                yield StateCheckbox("Products feed", v.get("products_feed_enabled", True), id="ch-products", compact=True)
                yield StateCheckbox("Offers feed", v.get("offers_feed_enabled", True), id="ch-offers", compact=True)
                yield StateCheckbox("Quantities only (never prices)", v.get("quantities_only", False), id="ch-qty-only", compact=True)
                yield StateCheckbox("Order management", v.get("orders_enabled", True), id="ch-orders", compact=True)
                yield form_row(
                    "Order fetch scope",
                    Select(SCOPES, value=v.get("orders_scope", "market"), allow_blank=False, compact=True, id="ch-scope"),
                )
                yield StateCheckbox("Secure payment (Leboncoin)", v.get("secure_payment", True), id="ch-secure", compact=True)
                if self.editing:  # a new channel starts on the store's default
                    yield form_row(
                        "Safety stock",
                        Input(str(v.get("safety_stock", "")), placeholder="blank: the store's", max_length=7, id="ch-safety", compact=True),
                    )
            yield Label("Enter/Tab next · Space toggles · ctrl+s saves · Esc cancels", classes="form-hint", markup=False)

    def _account_options(self, marketplace: str) -> list[tuple[str, int]]:
        return [*((name, account_id) for account_id, market, name in self.accounts if market == marketplace), ("New account…", NEW)]

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        first = self.query_one("#ch-token", Input) if self.editing else self.query_one("#ch-marketplace", Select)
        first.focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "ch-marketplace":
            accounts = self.query_one("#ch-account", Select)
            accounts.set_options(self._account_options(str(event.value)))
            accounts.value = NEW

    def on_input_submitted(self, event: Input.Submitted) -> None:
        fields = [f for f in self.query(Input) if not f.disabled]
        if event.input is fields[-1]:
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        def text(name: str) -> str:
            return self.query_one(f"#{name}", Input).value.strip()

        def checked(name: str) -> bool:
            return self.query_one(f"#{name}", StateCheckbox).value

        values = dict(self.values)
        values.update(
            {
                "marketplace": self.query_one("#ch-marketplace", Select).value,
                "account_id": self.query_one("#ch-account", Select).value,
                "account_name": text("ch-account-name"),
                "token": self.query_one("#ch-token", Input).value.strip(),
                "token_env": text("ch-token-env"),
                "region": self.query_one("#ch-region", Select).value,
                "base_url": text("ch-base-url"),
                "company": text("ch-company"),
                "contact_email": text("ch-email"),
                "country": text("ch-country").upper(),
                "name": text("ch-name"),
                "products_feed_enabled": checked("ch-products"),
                "offers_feed_enabled": checked("ch-offers"),
                "quantities_only": checked("ch-qty-only"),
                "orders_enabled": checked("ch-orders"),
                "orders_scope": self.query_one("#ch-scope", Select).value,
                "secure_payment": checked("ch-secure"),
                "safety_stock": text("ch-safety") if self.editing else "",
            }
        )
        if not values["country"] and not self.editing:
            self.notify("Give the market country (e.g. FR).", title="Channel", severity="warning")
            return
        self.dismiss(values)
