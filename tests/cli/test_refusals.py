"""Small refusals that keep bad input out: names with control characters, tokens where a variable
name belongs, link-local webhook receivers."""

from __future__ import annotations

import pytest

from shelfdesk.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["Shop\x1b[2J", "Shop\u202eevil", "Zero\u200bwidth", "Bell\x07", "Line\u2028sep"])
def test_store_names_refuse_control_and_bidi_characters(workspace, capsys, name: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "store", "add", name, "--country", "FR")
    assert code == 2 and "control or invisible formatting characters (U+" in err and err.count("\n") == 1
    assert run(capsys, "store", "add", "Refurb Paris", "--country", "FR")[0] == 0
    code, out, err = run(capsys, "store", "list", "--json")
    assert "Refurb Paris" in out and "Shop" not in out


def test_token_env_never_echoes_what_was_given(workspace, capsys) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "store", "add", "Refurb Paris", "--country", "FR")
    token = "bm-9f8e7d6c5b4a-REAL-TOKEN"
    code, out, err = run(capsys, "channel", "add", "Refurb Paris", "--country", "FR", "--marketplace", "backmarket", "--token-env", token)
    assert code == 2 and "name of an environment variable" in err
    assert token not in err and token not in out and "9f8e7d" not in err


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]/hook"])
def test_webhooks_refuse_link_local_receivers(workspace, capsys, url: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "webhooks", "add", "erp", url, "--events", "all")
    assert code != 0 and "link-local" in err and "Traceback" not in err


@pytest.mark.sqlite  # a zero-byte SQLite file
def test_a_broken_secrets_file_is_named_and_a_zero_byte_database_is_not_a_new_workspace(workspace, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(capsys, "store", "add", "Refurb Paris", "--country", "FR")[0] == 0
    (workspace / "secrets.toml").write_text('bm = = "half a line\n')
    code, out, err = run(capsys, "webhooks", "add", "erp", "http://127.0.0.1:9/hook", "--events", "all")
    assert code != 0 and f"the secrets file {workspace / 'secrets.toml'} cannot be read" in err
    assert err.count("\n") == 1 and "half a line" not in err
    empty = workspace.parent / "lost"
    empty.mkdir()
    (empty / "shelfdesk.db").write_bytes(b"")
    code, out, err = run(capsys, "store", "list", "--home", str(empty))
    assert code == 2 and "is empty (0 bytes)" in err and (empty / "shelfdesk.db").stat().st_size == 0


def test_catalog_import_refuses_a_cut_feed_until_forced(workspace, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "feed.csv"
    whole = "sku,title,price,stock\n" + "".join(f"S{i},Chair {i},{10 + i}.50,2\n" for i in range(40))
    feed.write_text(whole)
    run(capsys, "store", "add", "Refurb Paris", "--country", "FR")
    assert run(capsys, "catalog", "import", "Refurb Paris", str(feed))[0] == 0
    feed.write_text(whole[: len(whole) // 2].rstrip("\n")[:-2])  # cut inside a price
    code, out, err = run(capsys, "catalog", "import", "Refurb Paris", "--json")
    assert code == 1 and err.count("\n") == 1 and "--force" in err and "ends inside the record" in err
    assert '"outcome": "truncated"' in out and '"stored": 0' in out
    code, out, err = run(capsys, "catalog", "import", "Refurb Paris", "--force", "--json")
    assert code == 0 and '"outcome": "forced"' in out and '"gone": 0' in out


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_orders_list_refuses_a_limit_below_one(workspace, capsys, limit: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "orders", "list", "--limit", limit)
    assert code == 2 and err.strip() == f"shelfdesk: --limit {limit}: give the rows per page, from 1 to 500"
    assert run(capsys, "orders", "list", "--limit", "1")[0] == 0


@pytest.mark.sqlite  # the workspace's SQLite file is what says a folder holds a workspace
def test_home_naming_a_folder_without_a_workspace_says_so_never_silently(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A typo in --home gave an empty workspace and "No channels yet", exit 0, without a word."""
    typo = tmp_path / "shelfdsk"
    code, out, err = run(capsys, "paths", "--home", str(typo))
    assert code == 0 and f"{typo} (no workspace here yet: shelfdesk open creates it)" in out and not typo.exists()
    code, out, err = run(capsys, "status", "--home", str(typo), "--read-only")
    assert code == 2 and f"no workspace at {typo}: --read-only cannot create one" in err and not typo.exists()
    code, out, err = run(capsys, "status", "--home", str(typo))
    assert code == 0 and f"no workspace at {typo} yet: a new one is created there" in err
    code, out, err = run(capsys, "status", "--home", str(typo))
    assert code == 0 and err == ""  # it exists now
