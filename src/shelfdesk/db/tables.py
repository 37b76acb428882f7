"""The tables as SQLAlchemy Core objects, for the read paths that answer a command line quickly.

Declaring the thirty SQLModel classes of :mod:`shelfdesk.db.models` costs
more than everything else a ``shelfdesk orders list`` does (importing Pydantic
and SQLModel, building a validator and an ORM mapping per class: about 0.3 s
of CPU, where the query takes milliseconds). A read needs only the tables:
their columns, types and indexes. So :func:`table` returns the models' own
``Table`` when the models are loaded (the console, the worker, any write), and
otherwise a copy of the same metadata unpickled from a cache file, written the
first time the models are imported by a process that needed them.

The copy is the models' metadata itself, pickled; it is never written by
hand, so it cannot drift. Its file name carries a hash of the model and type
sources and of the SQLAlchemy version: a change to any of them is a new file.
Python-side column defaults (inserts only) are left out of the copy, and
SQLModel's two column types become their SQLAlchemy equivalents
(:class:`~shelfdesk.db.types.UTCDateTime` reads datetimes back aware in UTC
as SQLModel's does), so reading it loads neither SQLModel nor Pydantic. If the
cache cannot be read or written (a read-only home, a corrupt file), the models
are imported and used: slower, never wrong.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

_HERE = Path(__file__).resolve().parent
_SOURCES = (_HERE / "types.py", *sorted((_HERE / "models").glob("*.py")))


def table(name: str) -> Table:
    """The Core table ``name`` (``"orders"``), from the models if loaded, else from the cached copy."""
    return metadata().tables[name]


def metadata() -> MetaData:
    """Every shelfdesk table: the models' metadata, or its cached copy when the models are not loaded."""
    models = sys.modules.get("shelfdesk.db.models")
    if models is not None:
        return models.metadata
    return _cached()


@cache
def _cached() -> MetaData:
    path = cache_file()
    try:
        return pickle.loads(path.read_bytes())
    except FileNotFoundError:
        pass
    except Exception:  # a half-written or foreign file: rebuilt below
        pass
    from shelfdesk.db import models

    try:
        _write(path, dumps(models.metadata))
    except OSError:
        pass
    return models.metadata


def cache_file() -> Path:
    """Where the copy of this version's metadata lives (in the user's cache folder)."""
    import sqlalchemy

    from shelfdesk.paths import cache_dir

    digest = hashlib.sha256(sqlalchemy.__version__.encode())
    for source in _SOURCES:
        digest.update(source.read_bytes())
    return cache_dir() / f"tables-{digest.hexdigest()[:16]}.pickle"


def dumps(meta: MetaData) -> bytes:
    """``meta`` pickled, with SQLModel's column types swapped for SQLAlchemy's (see the module's docstring)."""
    out = io.BytesIO()
    _CorePickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(meta)
    return out.getvalue()


def _nothing() -> None:
    return None


class _CorePickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        from sqlalchemy.sql.schema import CallableColumnDefault

        if isinstance(obj, CallableColumnDefault):  # Python-side defaults (default_factory=dict): inserts only
            return _nothing, ()
        kind = type(obj)
        if kind.__module__.startswith("sqlmodel"):
            from sqlalchemy import String

            from shelfdesk.db.types import UTCDateTime

            if kind.__name__ == "AutoString":
                return String, (getattr(obj.impl, "length", None),)
            if kind.__name__ == "UTCDateTime":
                return UTCDateTime, ()
            raise pickle.PicklingError(f"no Core equivalent for column type {kind.__module__}.{kind.__name__}")
        return NotImplemented


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a process reading the cache never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)
