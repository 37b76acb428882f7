"""A workspace whose database cannot be opened: one line naming it (password masked) and why, exit 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.conftest import run


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed when the block ends: nothing listens there


def test_a_sqlite_file_that_cannot_be_opened(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "no-such-folder" / "shelfdesk.db"  # SQLite does not create folders
    monkeypatch.setenv("SHELFDESK_DATABASE_URL", f"sqlite:///{target}")
    for argv in (["store", "list", "--home", str(tmp_path / "ws")], ["migrate", "--home", str(tmp_path / "ws")]):
        code, out, err = run(capsys, *argv)
        assert code == 2, err
        assert out == ""
        assert err == f"shelfdesk: cannot open the database {target}: unable to open database file\n"


def test_a_postgresql_server_that_does_not_answer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    port = _closed_loopback_port()
    url = f"postgresql+psycopg://merchant:s3cret-pw@127.0.0.1:{port}/shelfdesk"
    code, out, err = run(capsys, "status", "--home", str(tmp_path / "ws"), "--database-url", url)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"shelfdesk: cannot open the database postgresql+psycopg://merchant:***@127.0.0.1:{port}/shelfdesk: ")
    assert "s3cret-pw" not in err
    assert "Connection refused" in err  # the driver's reason


@pytest.mark.sqlite  # writes the SQLite file with sqlite3
def test_a_database_from_a_newer_shelfdesk(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import sqlite3

    home = tmp_path / "ws"
    assert run(capsys, "store", "list", "--home", str(home))[0] == 0  # creates the workspace at head
    with sqlite3.connect(home / "shelfdesk.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0999'")
    code, out, err = run(capsys, "status", "--home", str(home))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "schema revision 0999, which this shelfdesk does not know" in err and "Upgrade shelfdesk" in err
