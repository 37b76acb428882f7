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

Measured on the 1M-order workspace: importing the models costs about 0.28 s of
CPU, reading the copy about 0.01 s. A pickle can run code, so the copy is read
only when it cannot have been planted: the file must belong to the user and be
writable by nobody else, its folder too (``SHELFDESK_CACHE_DIR`` may point at a
shared one), and it is unpickled by :class:`_TablesUnpickler`, which builds
only SQLAlchemy's and shelfdesk's column and schema classes. It cannot go stale
either: its name hashes the sources of the models, their types and the enums
they store, SQLAlchemy's version and Python's.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

_HERE = Path(__file__).resolve().parent
_SOURCES = (_HERE / "types.py", _HERE.parent / "domain.py", *sorted((_HERE / "models").glob("*.py")))


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
        if _trusted(path):
            return _TablesUnpickler(io.BytesIO(path.read_bytes())).load()
    except FileNotFoundError:
        pass
    except Exception:  # a half-written, foreign or refused file: rebuilt below
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

    digest = hashlib.sha256(f"{sqlalchemy.__version__} {sys.version}".encode())
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
    """Write atomically (a process reading the cache never sees half a file), readable by the user only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(partial, path)


def _trusted(path: Path) -> bool:
    """The copy and its folder belong to this user and nobody else can write them (else it could be planted)."""
    if not hasattr(os, "getuid"):  # Windows: the user's profile folder is private
        return path.is_file()
    for where in (path, path.parent):
        info = where.stat()
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


#: What the copy may be built of: the schema and type classes of SQLAlchemy, shelfdesk's column
#: types and the enums they store, and a few containers. Anything else (a module, a function such
#: as os.system) is refused, so a planted file cannot run code through the unpickler.
_ALLOWED_MODULES = ("sqlalchemy.", "shelfdesk.db.types", "shelfdesk.domain")
_ALLOWED_GLOBALS = {
    ("builtins", "list"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "dict"),
    ("builtins", "tuple"),
    ("collections", "defaultdict"),
    ("collections", "OrderedDict"),
    ("decimal", "Decimal"),
}


class _TablesUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "getattr"):
            return _public_getattr  # how enum members and class methods are pickled: getattr(TheEnum, "member")
        if (module, name) == (__name__, "_nothing"):
            return _nothing
        if (module, name) in _ALLOWED_GLOBALS or module.startswith(_ALLOWED_MODULES):
            found = super().find_class(module, name)
            if isinstance(found, type):  # classes only: no module, no function
                return found
        raise pickle.UnpicklingError(f"the tables' copy may not use {module}.{name}")


def _public_getattr(owner: Any, name: str) -> Any:
    """``getattr`` on an allowed class (an enum's member, a SQLAlchemy class method), never a special name."""
    allowed = isinstance(owner, type) and owner.__module__.startswith(_ALLOWED_MODULES)
    if not allowed or name.startswith("__"):
        raise pickle.UnpicklingError(f"the tables' copy may not read {name!r}")
    return getattr(owner, name)
