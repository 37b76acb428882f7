"""The column-detection step before an import: what the feed holds and which column plays which role.

The operator sees every column with sample values, the roles shelfdesk
suggests (or the store's saved ones, when they still fit the feed) and the
reading options found (format, encoding, delimiter, XML element), and can
correct the roles before importing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.columns import ROLES, ColumnInfo, inspect_feed
from shelfdesk.catalog.detect import detect_options
from shelfdesk.catalog.errors import CatalogError, FeedError, SourceError
from shelfdesk.catalog.source import open_source

if TYPE_CHECKING:
    import httpx

    from shelfdesk.context import AppContext


@dataclass(frozen=True)
class FeedPreview:
    source: str
    options: dict[str, Any]
    columns: list[ColumnInfo]
    roles: dict[str, str]  #: role → column, saved ones when they fit, else suggested
    saved_roles: bool
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "options": self.options,
            "roles": self.roles,
            "saved_roles": self.saved_roles,
            "columns": [{"name": c.name, "role": c.role, "filled": c.filled, "samples": list(c.samples)} for c in self.columns],
            "problems": self.problems,
        }


def preview_feed(
    ctx: AppContext, store_id: int, source: str | None = None, *, format: str | None = None, transport: httpx.BaseTransport | None = None
) -> FeedPreview:
    """Fetch and look at the first rows of ``source`` (default: the store's); nothing is written."""
    from shelfdesk.db.models import Store
    from shelfdesk.secrets import mask_url

    with ctx.read_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise CatalogError(f"no store with id {store_id}")
        saved_source, saved_options = store.catalog_source, dict(store.catalog_options or {})
        saved_roles = {k: v for k, v in (store.column_roles or {}).items() if k in ROLES}
    source = (source or saved_source or "").strip()
    if not source:
        raise CatalogError("this store has no catalog source yet: give a file path or an http(s) URL")
    try:
        feed = open_source(source, download_dir=ctx.paths.home / "downloads", clock=ctx.clock, transport=transport)
    except SourceError:
        raise
    try:
        same = source == (saved_source or "")
        options = detect_options(feed.path, format_hint=format, saved=saved_options if same and not format else None)
        report = inspect_feed(feed.path, options)
        names = [c.name for c in report.columns]
        use_saved = bool(saved_roles) and set(saved_roles.values()) <= set(names)
        roles = saved_roles if use_saved else report.roles
        by_column = {column: role for role, column in roles.items()}
        columns = [ColumnInfo(c.name, c.samples, c.filled, by_column.get(c.name)) for c in report.columns]
        return FeedPreview(mask_url(source), options.to_dict(), columns, roles, use_saved, report.problems)
    except FeedError as exc:
        raise CatalogError(f"cannot read the feed: {exc}") from None
    finally:
        feed.cleanup()
