"""The Core copy of the tables that read commands use: the models' own metadata, pickled, never written by hand."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shelfdesk.db import tables
from shelfdesk.db.models import metadata


def _shape(table) -> dict:  # type: ignore[no-untyped-def]
    renamed = {"AutoString": "String"}
    return {
        "columns": [(c.name, renamed.get(type(c.type).__name__, type(c.type).__name__), c.nullable, c.primary_key) for c in table.columns],
        "indexes": sorted((i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes),
        "foreign_keys": sorted(str(fk.target_fullname) for fk in table.foreign_keys),
    }


def test_the_copy_has_every_table_column_type_and_index_of_the_models() -> None:
    copy = pickle.loads(tables.dumps(metadata))
    assert sorted(copy.tables) == sorted(metadata.tables)
    for name, table in metadata.tables.items():
        assert _shape(copy.tables[name]) == _shape(table), name
    loaded = {type(c.type).__module__ for t in copy.tables.values() for c in t.columns}
    assert not any(module.startswith("sqlmodel") for module in loaded)


def test_datetimes_read_back_aware_in_utc_and_naive_ones_are_refused() -> None:
    from shelfdesk.db.types import UTCDateTime  # what the copy reads datetime columns with

    column = UTCDateTime()
    stored = column.process_bind_param(datetime(2026, 3, 2, 10, 30, tzinfo=UTC), None)  # type: ignore[arg-type]
    assert column.process_result_value(stored.replace(tzinfo=None), None) == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # type: ignore[arg-type,union-attr]
    with pytest.raises(ValueError, match="must be aware"):
        column.process_bind_param(datetime(2026, 3, 2, 10, 30), None)  # type: ignore[arg-type]


SNIPPET = """
import sys
from shelfdesk.db.tables import cache_file, table
columns = [c.name for c in table("orders").columns]
print(cache_file().exists(), "purchased_at" in columns,
      sorted(m for m in ("sqlmodel", "pydantic", "sqlalchemy.orm", "shelfdesk.db.models") if m in sys.modules))
"""


def test_a_process_without_the_models_reads_the_copy_and_a_bad_file_is_rebuilt(tmp_path: Path) -> None:
    env = {**os.environ, "SHELFDESK_CACHE_DIR": str(tmp_path)}

    def run() -> str:
        return subprocess.run([sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, check=True).stdout

    first = run()  # no copy yet: the models are imported and the copy written
    assert first.startswith("True True") and "shelfdesk.db.models" in first
    assert run() == "True True []\n"  # then neither SQLModel, Pydantic nor the ORM is loaded
    (written,) = tmp_path.glob("tables-*.pickle")
    written.write_bytes(b"not a pickle")
    assert run().startswith("True True") and run() == "True True []\n"


class _Planted:
    """What an attacker would put in the cache: unpickling it runs a command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_copy_runs_nothing_and_one_others_can_write_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy is a pickle: only SQLAlchemy's and shelfdesk's schema classes may come out of it, from a private file."""
    env = {**os.environ, "SHELFDESK_CACHE_DIR": str(tmp_path / "cache")}
    monkeypatch.setenv("SHELFDESK_CACHE_DIR", str(tmp_path / "cache"))

    def run() -> str:
        return subprocess.run([sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, check=True).stdout

    path = tables.cache_file()
    marker = tmp_path / "ran"
    tables._write(path, pickle.dumps(_Planted(marker)))
    assert "shelfdesk.db.models" in run()  # refused: the models are loaded, and the copy rewritten
    assert not marker.exists()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert run() == "True True []\n"  # the rewritten copy is read
    path.chmod(0o622)  # writable by others: it could have been planted
    assert not tables._trusted(path)
    assert "shelfdesk.db.models" in run()
