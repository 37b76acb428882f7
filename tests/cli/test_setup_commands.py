"""The set-up commands, scripted as an operator would: JSON out, no token anywhere, clear failures."""

from __future__ import annotations

import io
import json

import httpx
import pytest

from shelfdesk.cli import main
from tests.catalog.conftest import bad_ean, ean
from tests.dbtext import database_text


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def feed(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "feed.csv"
    path.write_text(
        "sku;ean;category;price;stock;grade;warranty_months\n"
        f"A1;{ean(1)};Phones;100;1;GOOD;12\nA2;{bad_ean(2)};Phones;100;1;GOOD;12\n"
        f"A3;{ean(3)};Phones;1x0;1;GOOD;12\nA4;{ean(4)};Phones;90;2;FAIR;12\n",
        encoding="utf-8",
    )
    return path


def test_store_and_catalog_commands(capsys, feed, workspace) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "store", "add", "Refurb Paris", "--country", "FR", "--json")
    assert code == 0 and json.loads(out)["name"] == "Refurb Paris"
    code, _, err = run(capsys, "store", "add", "Refurb Paris", "--country", "FR")
    assert code == 2 and "already exists" in err
    code, out, err = run(capsys, "catalog", "import", "Refurb Paris", str(feed), "--json")
    data = json.loads(out)
    assert code == 0 and (data["stored"], data["rejected"]) == (2, 2)
    assert [(r["line"], r["field"]) for r in data["rejections"]] == [(3, "ean"), (4, "price")]
    code, out, _ = run(capsys, "catalog", "import", "Refurb Paris", "--strict")  # the saved source
    assert code == 1 and "line 3: EAN/GTIN" in out
    code, _, err = run(capsys, "catalog", "import", "Nowhere", str(feed))
    assert code == 2 and "no store 'Nowhere' (stores: Refurb Paris)" in err
    code, _, err = run(capsys, "catalog", "import", "Refurb Paris", str(feed.parent / "missing.csv"))
    assert code == 1 and "no such file" in err
    code, out, _ = run(capsys, "store", "list", "--json")
    assert json.loads(out)[0]["products"] == 2


def test_channel_commands_keep_the_token_secret(capsys, feed, workspace, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.sandbox.backmarket import BackMarketSandbox
    from shelfdesk.services import accounts

    sandbox = BackMarketSandbox(tmp_path / "sb", token="bm-cli-token-4242", orders_per_hour=0)
    real = accounts.check_connection

    async def through_sandbox(ctx, account_id, **kwargs):  # type: ignore[no-untyped-def]
        return await real(ctx, account_id, language=kwargs.get("language"), transport=httpx.ASGITransport(app=sandbox.app))

    monkeypatch.setattr(accounts, "check_connection", through_sandbox)
    run(capsys, "store", "add", "Refurb Paris", "--country", "FR")
    run(capsys, "catalog", "import", "Refurb Paris", str(feed))
    monkeypatch.setattr("sys.stdin", io.StringIO("bm-cli-token-4242\n"))
    code, out, err = run(
        capsys,
        "channel",
        "add",
        "Refurb Paris",
        "--country",
        "FR",
        "--marketplace",
        "backmarket",
        "--token-stdin",
        "--company",
        "Refurb",
        "--email",
        "ops@refurb.example",
        "--base-url",
        "http://sandbox.local",
        "--test",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["test"] == {"ok": True, "message": "token accepted"} and "bm-cli-token-4242" not in out
    code, _, err = run(capsys, "channel", "add", "Refurb Paris", "--country", "ES", "--account", "Back Market")
    assert code == 2 and "one store per country" in err
    code, out, _ = run(capsys, "mapping", "suggest", "Back Market France", "--json")
    assert code == 0 and json.loads(out)["ready"] is True
    export = tmp_path / "bm.toml"
    assert run(capsys, "mapping", "export", "Back Market France", str(export))[0] == 0
    assert 'attribute = "grade"' in export.read_text()
    code, out, _ = run(capsys, "mapping", "import", "Back Market France", str(export), "--json")
    assert code == 0 and json.loads(out)["ready"] is True
    code, out, _ = run(capsys, "channel", "test", "Refurb Paris/Back Market France")
    assert code == 0 and "connection ok" in out
    code, out, _ = run(capsys, "channel", "list", "--json")
    listed = json.loads(out)[0]
    assert listed["readiness"]["ready"] and "bm-cli-token-4242" not in out
    code, out, _ = run(capsys, "channel", "activate", "Back Market France")
    assert code == 0 and "publication active" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[[columns]]\nattribute = "grade"\nconstant = "MINT"\n')
    code, _, err = run(capsys, "mapping", "import", "Back Market France", str(bad))
    assert code == 2 and "not an accepted value" in err
    from shelfdesk.paths import resolve_paths

    log_file = resolve_paths(workspace).log_file
    assert log_file.exists() and "catalog import" in log_file.read_text()
    assert "bm-cli-token-4242" not in log_file.read_text()
    assert "bm-cli-token-4242" not in database_text(resolve_paths(workspace))


def test_channel_add_without_an_account_is_refused(capsys, workspace) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "store", "add", "S", "--country", "FR")
    code, _, err = run(capsys, "channel", "add", "S", "--country", "FR")
    assert code == 2 and "say which account" in err


def test_catalog_columns_shows_the_detection_step(capsys, feed, workspace) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "store", "add", "S", "--country", "FR")
    code, out, _ = run(capsys, "catalog", "columns", "S", str(feed), "--json")
    data = json.loads(out)
    assert code == 0 and data["roles"]["sku"] == "sku" and data["options"]["delimiter"] == ";"
    assert data["columns"][0] == {"name": "sku", "role": "sku", "filled": 4, "samples": ["A1", "A2", "A3", "A4"]}
