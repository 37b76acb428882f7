"""Stores, accounts and channels: the rules of set-up, tokens kept out of the database, readiness."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from shelfdesk.catalog import category_mapping as cm, column_mapping as col
from shelfdesk.catalog.errors import SetupError
from shelfdesk.catalog.importer import import_catalog
from shelfdesk.catalog.readiness import compute_readiness
from shelfdesk.services import accounts, channels, stores
from tests.catalog.conftest import ean

TOKEN = "bm-sandbox-token"


@pytest.fixture
def sandbox(tmp_path, clock):  # type: ignore[no-untyped-def]
    from shelfdesk.sandbox.backmarket import BackMarketSandbox
    from shelfdesk.sandbox.leboncoin import LeboncoinSandbox

    bm = BackMarketSandbox(tmp_path / "bm", clock=clock, token=TOKEN, orders_per_hour=0)
    lbc = LeboncoinSandbox(tmp_path / "lbc", clock=clock, orders_per_hour=0)
    return {"backmarket": httpx.ASGITransport(app=bm.app), "leboncoin": httpx.ASGITransport(app=lbc.app)}


def test_stores_need_valid_codes_and_unique_names(ctx) -> None:  # type: ignore[no-untyped-def]
    store = stores.create_store(ctx, "Refurb Paris", "fr", "eur")
    assert (store.country, store.currency, store.products) == ("FR", "EUR", 0)
    for args, message in (
        (("refurb paris", "FR"), "already exists"),
        (("X", "France"), "two-letter"),
        (("X", "FR", "EURO"), "three-letter"),
        (("", "FR"), "needs a name"),
    ):
        with pytest.raises(SetupError, match=message):
            stores.create_store(ctx, *args)
    assert stores.find_store(ctx, "REFURB PARIS").id == store.id == stores.find_store(ctx, str(store.id)).id


def test_back_market_needs_one_store_per_country(ctx) -> None:  # type: ignore[no-untyped-def]
    paris = stores.create_store(ctx, "Refurb Paris", "FR").id
    account = accounts.create_account(ctx, "backmarket", "BM EU", token="bm-token-123456", region="eu")
    france = channels.create_channel(ctx, paris, account.id, "FR")
    assert (france.name, france.market, france.owns_quantities) == ("Back Market France", "fr-fr", True)
    with pytest.raises(
        SetupError,
        match="Back Market needs one store per country: Refurb Paris already publishes to Back Market France. Create a store for Spain",
    ):
        channels.create_channel(ctx, paris, account.id, "ES")
    madrid = stores.create_store(ctx, "Refurb Madrid", "ES").id
    spain = channels.create_channel(ctx, madrid, account.id, "es-es")
    assert spain.owns_quantities is False  # one quantity per listing across markets: France sends it
    with pytest.raises(SetupError, match="already publishes to fr-fr"):
        channels.create_channel(ctx, paris, account.id, "FR")
    london = stores.create_store(ctx, "Refurb London", "GB", "EUR").id
    with pytest.raises(SetupError, match="sells in GBP"):
        channels.create_channel(ctx, london, account.id, "GB")
    with pytest.raises(SetupError, match="no market 'XX'"):
        channels.create_channel(ctx, madrid, account.id, "XX")


def test_tokens_never_reach_the_database(ctx) -> None:  # type: ignore[no-untyped-def]
    secret = "bm-super-secret-token-98765"
    account = accounts.create_account(ctx, "backmarket", "BM", token=secret)
    assert secret not in repr(account) and account.credential.endswith("8765") and "secret" in account.credential
    with ctx.read_session() as session:
        dump = "\n".join(
            str(row) for table in ("marketplace_accounts", "audit_log") for row in session.execute(text(f"SELECT * FROM {table}"))
        )
    assert secret not in dump and "secret:account-" in dump
    assert ctx.secrets.get(f"account-{account.id}-token") == secret
    assert (ctx.paths.secrets.stat().st_mode & 0o777) == 0o600
    env = accounts.create_account(ctx, "backmarket", "BM env", token_env="SHELFDESK_BM_TOKEN")
    assert env.credential == "env SHELFDESK_BM_TOKEN"
    with pytest.raises(SetupError, match="takes the name of an environment variable") as info:
        accounts.create_account(ctx, "backmarket", "BM bad", token_env="not a name")
    assert "not a name" not in str(info.value)  # it may be the token itself: never echoed


def test_replacing_a_token_resets_its_expiry_and_last_check(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import MarketplaceAccount

    account = accounts.create_account(ctx, "leboncoin", "LBC", token="lbc-refresh-token-1")
    assert account.token_expires_at == clock.now() + timedelta(days=365)
    with ctx.write_session() as session:
        row = session.get(MarketplaceAccount, account.id)
        row.token_error, row.token_checked_at = "expired", clock.now()
    clock.advance(timedelta(days=360))
    renewed = accounts.replace_token(ctx, account.id, token="lbc-refresh-token-2")
    assert renewed.token_expires_at == clock.now() + timedelta(days=365)
    assert (renewed.token_error, renewed.token_checked_at) == (None, None)
    assert ctx.secrets.get(f"account-{account.id}-token") == "lbc-refresh-token-2"


def test_connection_test_against_the_sandboxes(ctx, sandbox) -> None:  # type: ignore[no-untyped-def]
    store = stores.create_store(ctx, "Refurb Paris", "FR").id
    good = accounts.create_account(
        ctx, "backmarket", "BM", token=TOKEN, base_url="http://sandbox.local", company="Refurb", contact_email="ops@refurb.example"
    )
    channel = channels.create_channel(ctx, store, good.id, "FR").id
    result = channels.test_channel_connection(ctx, channel, transport=sandbox["backmarket"])
    assert result.ok and result.message == "token accepted"
    accounts.replace_token(ctx, good.id, token="wrong-token-123")
    result = channels.test_channel_connection(ctx, channel, transport=sandbox["backmarket"])
    assert not result.ok and result.message.startswith("token rejected: ")
    api = channels.get_channel(ctx, channel).readiness.api
    assert not api.ok and api.reasons[0].startswith("token rejected: ")
    lbc = accounts.create_account(ctx, "leboncoin", "LBC", token="lbc-sandbox-refresh-token", base_url="http://sandbox.local")
    from shelfdesk.sandbox.leboncoin import DEFAULT_REFRESH_TOKEN

    accounts.replace_token(ctx, lbc.id, token=DEFAULT_REFRESH_TOKEN)
    result = accounts.test_connection(ctx, lbc.id, transport=sandbox["leboncoin"])
    assert result.ok, result.message


def test_unreachable_marketplace_is_not_a_rejected_token(ctx) -> None:  # type: ignore[no-untyped-def]
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    account = accounts.create_account(ctx, "backmarket", "BM", token=TOKEN, company="R", contact_email="a@b.example")
    result = accounts.test_connection(ctx, account.id, transport=httpx.MockTransport(refuse))
    summary = accounts.get_account(ctx, account.id)
    assert not result.ok and summary.token_error is None and summary.connection_error
    # The URL tried is named: "All connection attempts failed" alone left the operator guessing.
    assert "cannot reach backmarket at https://" in result.message and "connection refused" in result.message, result.message


def test_three_lights_go_green_then_publication_can_be_activated(ctx, sandbox, write) -> None:  # type: ignore[no-untyped-def]
    store = stores.create_store(ctx, "Refurb Paris", "FR").id
    account = accounts.create_account(
        ctx, "backmarket", "BM", token=TOKEN, base_url="http://sandbox.local", company="Refurb", contact_email="ops@refurb.example"
    )
    channel = channels.create_channel(ctx, store, account.id, "FR").id
    readiness = compute_readiness(ctx, channel)
    assert [light.ok for light in readiness.lights] == [False, False, False]
    assert readiness.categories.reasons == ["no products to publish yet: import the catalog (or review exclusions)"]
    assert "mandatory attribute grade unmapped" in readiness.mapping.reasons
    assert readiness.api.reasons == ["connection not tested yet: run test connection"]
    with pytest.raises(SetupError, match="cannot be activated until all three lights are green"):
        channels.activate_channel(ctx, channel)
    feed = (
        "sku,ean,category,price,stock,grade\n"
        + "\n".join(f"S{i},{ean(i)},{'Phones' if i % 3 else 'Laptops'},{100 + i},1,GOOD" for i in range(30))
        + "\n"
    )
    import_catalog(ctx, store, str(write("feed.csv", feed)))
    readiness = compute_readiness(ctx, channel)
    assert readiness.categories.reasons == ["2 categories unmapped (30 products)"]
    cm.set_category_mapping(ctx, channel, "Phones", "7")
    assert compute_readiness(ctx, channel).categories.reasons == ["1 category unmapped (10 products)"]
    cm.set_category_mapping(ctx, channel, "Laptops", "Computers > Laptops > Windows laptops")
    for name, column in (("grade", "grade"), ("price", "price"), ("ean", "ean")):
        col.set_mapping(ctx, channel, name, column=column)
    col.set_mapping(ctx, channel, "warranty_delay", constant="12")
    channels.test_channel_connection(ctx, channel, transport=sandbox["backmarket"])
    readiness = channels.check_readiness(ctx, channel)
    assert readiness.ready, readiness.summary()
    view = channels.activate_channel(ctx, channel)
    assert view.activated_at == ctx.clock.now()
    listed = stores.list_stores(ctx)[0]
    assert listed.products == 30 and listed.last_import.stored == 30 and listed.channels[0].readiness.ready


def test_unchanged_api_settings_keep_the_last_connection_test(ctx) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.db.models import MarketplaceAccount

    account = accounts.create_account(ctx, "backmarket", "BM", token=TOKEN, region="eu", company="R", contact_email="a@b.example")
    with ctx.write_session() as session:
        session.get(MarketplaceAccount, account.id).token_checked_at = ctx.clock.now()
    assert accounts.update_account(ctx, account.id, region="eu", company="R").token_checked_at is not None
    assert accounts.update_account(ctx, account.id, base_url="http://other.example").token_checked_at is None


def test_an_import_refreshes_the_lights_of_the_store_channels(ctx, write) -> None:  # type: ignore[no-untyped-def]
    store = stores.create_store(ctx, "Refurb Paris", "FR").id
    account = accounts.create_account(ctx, "backmarket", "BM", token=TOKEN)
    channel = channels.create_channel(ctx, store, account.id, "FR").id
    compute_readiness(ctx, channel)
    import_catalog(ctx, store, str(write("f.csv", "sku,category\nA,Phones\nB,Laptops\n")))
    assert channels.get_channel(ctx, channel).readiness.categories.reasons[0].startswith("no products")  # saved, stale
    channels.refresh_readiness(ctx, store)
    assert channels.get_channel(ctx, channel).readiness.categories.reasons == ["2 categories unmapped (2 products)"]


def test_a_refused_channel_leaves_an_existing_account_as_it_was(ctx) -> None:  # type: ignore[no-untyped-def]
    paris = stores.create_store(ctx, "Refurb Paris", "FR").id
    account = accounts.create_account(
        ctx, "backmarket", "BM EU", token="bm-token-123456", region="eu", company="R", contact_email="a@b.example"
    )
    channels.create_channel(ctx, paris, account.id, "FR")
    with pytest.raises(SetupError, match="already publishes to fr-fr"):  # a second Back Market France channel
        channels.set_up_channel(ctx, paris, "FR", account_id=account.id, company="Other", token="bm-token-654321")
    after = accounts.get_account(ctx, account.id)
    assert (after.company, after.credential) == ("R", account.credential)  # neither settings nor token changed
    madrid = stores.create_store(ctx, "Refurb Madrid", "ES").id
    spain = channels.set_up_channel(ctx, madrid, "ES", account_id=account.id, company="Refurb Iberia")
    assert accounts.get_account(ctx, account.id).company == "Refurb Iberia"  # saved once the channel exists
    assert spain.readiness is not None  # its lights are computed


def test_edit_channel_saves_account_token_and_options_then_readiness(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    paris = stores.create_store(ctx, "Refurb Paris", "FR").id
    account = accounts.create_account(ctx, "backmarket", "BM EU", token="bm-token-123456", region="eu")
    view = channels.create_channel(ctx, paris, account.id, "FR")
    assert view.readiness is None
    clock.advance(timedelta(days=1))
    edited = channels.edit_channel(
        ctx,
        view.id,
        account={"company": "Refurb", "contact_email": "ops@refurb.example"},
        token="bm-token-renewed-1",
        name="BM FR",
        orders_enabled=False,
    )
    after = accounts.get_account(ctx, account.id)
    assert (edited.name, edited.orders_enabled, after.company) == ("BM FR", False, "Refurb")
    assert after.credential.endswith("ed-1") and not account.credential.endswith("ed-1")  # the renewed token (masked)
    assert edited.readiness is not None


def test_a_store_publishes_to_one_market_through_one_account_only(ctx) -> None:  # type: ignore[no-untyped-def]
    madrid = stores.create_store(ctx, "Refurb Madrid", "ES").id
    eu = accounts.create_account(ctx, "backmarket", "BM EU", token="bm-token-123456", region="eu")
    other = accounts.create_account(ctx, "backmarket", "BM second", token="bm-token-654321", region="eu")
    channels.create_channel(ctx, madrid, eu.id, "ES")
    with pytest.raises(
        SetupError,
        match="Refurb Madrid already publishes to es-es through Back Market Spain "
        r"\(account BM EU\): one channel per store and market",
    ):
        channels.create_channel(ctx, madrid, other.id, "ES")
    assert [c.account_id for c in channels.list_channels(ctx, madrid)] == [eu.id]
