"""Commands that do what the Stores screen's keys do (e, T, x), through the same services.

Each test drives a real workspace with the CLI, then reads the database back.
"""

from __future__ import annotations

import io
import json

from tests.catalog.conftest import ean
from tests.cli.conftest import db, run
from tests.dbtext import database_text

# ---------------------------------------------------------------- Stores screen: e, T, x


def test_store_edit_renames_and_changes_the_source(capsys, feed, workspace) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "store", "add", "Refurb Paris", "--country", "FR")
    code, out, _ = run(
        capsys, "store", "edit", "Refurb Paris", "--name", "Refurb Lyon", "--source", "https://ops:hunter2@feeds.example/cat.csv", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["name"] == "Refurb Lyon" and "hunter2" not in out
    code, out, _ = run(capsys, "store", "edit", "Refurb Lyon", "--source", str(feed))
    assert code == 0 and f"source: {feed}" in out
    code, _, err = run(capsys, "store", "edit", "Refurb Lyon")
    assert code == 2 and "nothing to change" in err
    code, _, err = run(capsys, "store", "edit", "Refurb Paris", "--name", "X")
    assert code == 2 and "no store 'Refurb Paris' (stores: Refurb Lyon)" in err
    with db(workspace) as ctx:
        from shelfdesk.services.stores import list_stores

        [store] = list_stores(ctx)
    assert (store.name, store.catalog_source) == ("Refurb Lyon", str(feed))


def test_catalog_report_lists_the_last_import_and_its_rejected_rows(capsys, feed, workspace) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "store", "add", "Refurb Paris", "--country", "FR")
    code, _, err = run(capsys, "catalog", "report", "Refurb Paris")
    assert code == 2 and "Refurb Paris has no import yet" in err
    run(capsys, "catalog", "import", "Refurb Paris", str(feed))
    code, out, _ = run(capsys, "catalog", "report", "Refurb Paris")
    assert code == 0 and "4 rows read, 2 stored, 2 rejected" in out
    assert "line 3: EAN/GTIN" in out and "line 4:" in out
    code, out, _ = run(capsys, "catalog", "report", "Refurb Paris", "--limit", "1", "--json")
    data = json.loads(out)
    assert (data["stored"], data["rejected"], data["store"]) == (2, 2, "Refurb Paris")
    assert [(r["line"], r["field"]) for r in data["rejections"]] == [(3, "ean")]
    code, out, _ = run(capsys, "catalog", "report", "Refurb Paris", "--import", str(data["id"]), "--limit", "0", "--json")
    assert [r["line"] for r in json.loads(out)["rejections"]] == [3, 4]
    code, _, err = run(capsys, "catalog", "report", "Refurb Paris", "--import", "999")
    assert code == 2 and "has no import 999" in err


def test_channel_edit_changes_options_and_account_settings(capsys, channel, workspace) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(
        capsys,
        "channel",
        "edit",
        "Back Market France",
        "--no-orders",
        "--quantities-only",
        "--company",
        "Refurb",
        "--email",
        "ops@refurb.example",
        "--name",
        "BM FR",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["channel"]["name"] == "BM FR" and data["account"]["company"] == "Refurb"
    assert "bm-env-token-1111" not in out
    code, _, err = run(capsys, "channel", "edit", "BM FR", "--secure-payment")
    assert code == 2 and "secure payment is a Leboncoin option" in err
    code, _, err = run(capsys, "channel", "edit", "BM FR", "--base-url", "ftp://nowhere")
    assert code == 2 and "must be an http(s) address" in err
    code, _, err = run(capsys, "channel", "edit", "BM FR")
    assert code == 2 and "nothing to change" in err
    with db(workspace) as ctx:
        from shelfdesk.services import accounts, channels

        view = channels.get_channel(ctx, channel)
        account = accounts.get_account(ctx, view.account_id)
    assert (view.name, view.orders_enabled, view.quantities_only, view.products_feed_enabled) == ("BM FR", False, True, True)
    assert (account.company, account.contact_email) == ("Refurb", "ops@refurb.example")


def test_channel_add_on_an_existing_account_saves_its_settings(capsys, channel, workspace) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "store", "add", "Refurb Madrid", "--country", "ES")
    code, out, err = run(
        capsys,
        "channel",
        "add",
        "Refurb Madrid",
        "--country",
        "ES",
        "--account",
        "Back Market",
        "--company",
        "Refurb Iberia",
        "--email",
        "es@refurb.example",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["account"]["company"] == "Refurb Iberia"  # as the console's channel form saves them
    with db(workspace) as ctx:
        from shelfdesk.services import accounts

        [account] = accounts.list_accounts(ctx)
    assert (account.company, account.contact_email) == ("Refurb Iberia", "es@refurb.example")


def test_channel_token_replaces_the_token_and_never_prints_it(capsys, channel, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("bm-renewed-token-9876\n"))
    code, out, err = run(capsys, "channel", "token", "Refurb Paris/Back Market France", "--token-stdin", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["account"]["credential"].startswith("secret ") and "bm-renewed-token-9876" not in out + err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "channel", "token", str(channel), "--token-stdin")
    assert code == 2 and "nothing was read" in err
    code, out, _ = run(capsys, "channel", "token", str(channel), "--token-env", "BM_TOKEN")
    assert code == 0 and "env BM_TOKEN" in out and "bm-env-token-1111" not in out
    with db(workspace) as ctx:
        from sqlalchemy import select

        from shelfdesk.db.models import MarketplaceAccount

        with ctx.read_session() as session:
            [account] = session.execute(select(MarketplaceAccount)).scalars().all()
            assert account.credential_ref == "env:BM_TOKEN" and account.token_checked_at is None
        assert "bm-renewed-token-9876" not in database_text(ctx.paths)


def test_catalog_import_sets_column_roles_as_the_column_step_does(capsys, workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "prix.csv"
    source.write_text(f"ref;ean;category;prix;qty\nA1;{ean(1)};Phones;100;3\n", encoding="utf-8")
    run(capsys, "store", "add", "Refurb Paris", "--country", "FR")
    code, _, err = run(capsys, "catalog", "import", "Refurb Paris", str(source), "--column", "colour=ean")
    assert code == 2 and "unknown role 'colour'" in err
    code, out, err = run(capsys, "catalog", "import", "Refurb Paris", str(source), "--column", "stock=", "--column", "price=prix", "--json")
    data = json.loads(out)
    assert code == 0, err
    # the detected roles are kept (sku=ref, ean, category) and changed where asked: stock left out
    assert data["roles"] == {"sku": "ref", "ean": "ean", "category": "category", "price": "prix"}
    with db(workspace) as ctx:
        from shelfdesk.services.stores import find_store

        assert find_store(ctx, "Refurb Paris").column_roles == {**data["roles"], "extra": ["qty"]}
