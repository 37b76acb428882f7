"""``shelfdesk catalog import|columns|report``: import a catalog feed, see its columns, and what an import rejected."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from shelfdesk.cli.setup_common import common_parser, print_json, run_with_workspace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="catalog_command", metavar="action", required=True)
    imp = sub.add_parser(
        "import",
        help="import a catalog feed (CSV, JSON, JSON lines, XML; path or URL)",
        description="Import a catalog into a store: valid rows are stored, rejected ones are "
        "listed with their line; products missing from a complete feed are flagged gone.",
        parents=[common_parser()],
    )
    imp.add_argument("store", help="store name or id")
    imp.add_argument("source", nargs="?", help="file path or http(s) URL (default: the store's saved source)")
    imp.add_argument("--format", choices=("csv", "json", "jsonl", "xml"), help="skip format detection")
    imp.add_argument("--sku-column", help="the feed column holding the SKU (otherwise detected or saved)")
    imp.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="ROLE=COLUMN",
        help="the column playing a role (sku, ean, title, brand, category, price, stock), over the saved "
        "or detected ones as `catalog columns` shows them; ROLE= leaves the role out; repeatable",
    )
    imp.add_argument("--strict", action="store_true", help="exit 1 when any row was rejected")
    imp.add_argument(
        "--force",
        action="store_true",
        help="store a feed refused as truncated or implausible (too many rows rejected or products "
        "gone at once), after reading its report: whole rows are stored, nothing is flagged gone "
        "unless the file ended cleanly",
    )
    imp.add_argument("--show", type=int, default=20, metavar="N", help="rejected rows to print (default 20)")
    imp.set_defaults(_catalog_run=_import)
    cols = sub.add_parser(
        "columns",
        help="show the columns a feed holds, with samples and their roles",
        description="The column-detection step: columns with sample values, the roles "
        "shelfdesk would use, and the reading options found. Nothing is imported.",
        parents=[common_parser()],
    )
    cols.add_argument("store", help="store name or id")
    cols.add_argument("source", nargs="?", help="file path or http(s) URL (default: the store's saved source)")
    cols.add_argument("--format", choices=("csv", "json", "jsonl", "xml"), help="skip format detection")
    cols.set_defaults(_catalog_run=_columns)
    rep = sub.add_parser(
        "report",
        help="a store's last import: counts and every rejected row with its line",
        description="The import report of the Stores screen (x): the store's last import, or "
        "--import ID from its history, with its rejected rows in line order.",
        parents=[common_parser()],
    )
    rep.add_argument("store", help="store name or id")
    rep.add_argument("--import", dest="import_id", type=int, metavar="ID", help="this import of the store (default: the last)")
    rep.add_argument("--limit", type=int, default=200, metavar="N", help="rejected rows to print (default 200, 0: all)")
    rep.set_defaults(_catalog_run=_report)


def run(args: argparse.Namespace) -> int:
    return run_with_workspace(args, args._catalog_run)


def _columns(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.feed_preview import preview_feed
    from shelfdesk.services.stores import find_store

    store = find_store(ctx, args.store)
    preview = preview_feed(ctx, store.id, args.source, format=args.format)
    if args.json:
        print_json(preview.as_json())
        return 0
    options = ", ".join(f"{k}={v!r}" for k, v in preview.options.items())
    print(f"{preview.source}: {options}")
    print(
        f"roles ({'saved on the store' if preview.saved_roles else 'suggested'}): "
        + (", ".join(f"{role}={column}" for role, column in preview.roles.items()) or "none found")
    )
    for column in preview.columns:
        role = f"[{column.role}]" if column.role else "[extra]"
        print(f"  {column.name:<24} {role:<11} {' | '.join(column.samples)[:60]}")
    for problem in preview.problems:
        print(f"  ! {problem}")
    return 0


def _chosen_roles(args: argparse.Namespace) -> dict[str, str]:
    from shelfdesk.catalog.columns import ROLES
    from shelfdesk.cli import UserFacingError

    chosen = {}
    for pair in args.column:
        role, sep, column = pair.partition("=")
        if not sep or not role.strip():
            raise UserFacingError(f"--column {pair!r}: write ROLE=COLUMN, e.g. --column price=prix_ttc")
        if role.strip().lower() not in ROLES:
            raise UserFacingError(f"--column {pair!r}: unknown role {role.strip()!r} (roles: {', '.join(ROLES)})")
        chosen[role.strip().lower()] = column.strip()
    if args.sku_column:
        chosen["sku"] = args.sku_column
    return chosen


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.importer import import_catalog, import_rejections
    from shelfdesk.services.stores import find_store

    store = find_store(ctx, args.store)
    chosen = _chosen_roles(args)
    roles = None
    if chosen:  # the console's column step: the roles it shows (saved or detected), changed where asked
        from shelfdesk.catalog.feed_preview import preview_feed

        roles = {**preview_feed(ctx, store.id, args.source, format=args.format).roles, **chosen}
    result = import_catalog(ctx, store.id, args.source, format=args.format, roles=roles, force=args.force)
    from shelfdesk.services.channels import refresh_readiness

    refresh_readiness(ctx, store.id)  # new categories or columns change the channels' lights
    rejected = import_rejections(ctx, result.import_id, limit=max(0, args.show)) if args.show else []
    if args.json:
        print_json(
            {
                "import_id": result.import_id,
                "store": store.name,
                "source": result.source,
                "format": result.format,
                "rows_read": result.rows_read,
                "stored": result.stored,
                "created": result.created,
                "updated": result.updated,
                "rejected": result.rejected,
                "gone": result.gone,
                "duration_ms": result.duration_ms,
                "error": result.error,
                "outcome": result.outcome.value,
                "would_flag_gone": result.would_flag_gone,
                "reasons": result.reasons,
                "roles": result.roles,
                "rejections": [{"line": r.line, "field": r.field, "sku": r.sku, "reason": r.reason} for r in rejected],
            }
        )
    else:
        print(
            f"import {result.import_id} into {store.name}: {result.rows_read:,} rows read, {result.stored:,} stored "
            f"({result.created:,} new), {result.rejected:,} rejected, {result.gone:,} flagged gone "
            f"in {result.duration_ms / 1000:.1f} s"
        )
        for r in rejected:
            print(f"  line {r.line}: {r.reason}")
        if result.rejected > len(rejected):
            print(f"  … {result.rejected - len(rejected):,} more (see the Stores screen or --show N)")
    if result.error:
        hint = (
            f" (shelfdesk catalog report {store.name!r} --limit 0 lists every rejected row; then add --force)" if result.needs_force else ""
        )
        print(f"shelfdesk: import {result.import_id}: {result.error}{hint}", file=sys.stderr)
        return 1
    return 1 if args.strict and result.rejected else 0


def _report(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.importer import import_rejections
    from shelfdesk.cli import UserFacingError
    from shelfdesk.secrets import mask_url
    from shelfdesk.services.stores import find_store, import_history

    store = find_store(ctx, args.store)
    history = import_history(ctx, store.id, limit=1 if args.import_id is None else 10_000)
    summary = history[0] if args.import_id is None and history else next((h for h in history if h.id == args.import_id), None)
    if summary is None:
        if args.import_id is None:
            raise UserFacingError(f"{store.name} has no import yet: shelfdesk catalog import {store.name!r} SOURCE")
        raise UserFacingError(f"{store.name} has no import {args.import_id} (shelfdesk catalog report {store.name!r} shows its last one)")
    rejected: list = []
    after_line = 0
    while args.limit <= 0 or len(rejected) < args.limit:  # pages of the console's report (x), in line order
        want = 500 if args.limit <= 0 else min(500, args.limit - len(rejected))
        page = import_rejections(ctx, summary.id, after_line=after_line, after_id=10**12 if after_line else 0, limit=want)
        rejected.extend(page)
        if len(page) < want:
            break
        after_line = page[-1].line
    data = {
        **summary.as_json(),
        "source": mask_url(summary.source),
        "store": store.name,
        "rejections": [{"line": r.line, "field": r.field, "sku": r.sku, "reason": r.reason} for r in rejected],
    }
    if args.json:
        print_json(data)
        return 0
    print(
        f"import {summary.id} into {store.name} from {data['source']} ({summary.format or 'format detected'}), "
        f"{summary.started_at:%Y-%m-%d %H:%M}: {summary.rows_read:,} rows read, {summary.stored:,} stored, "
        f"{summary.rejected:,} rejected, {summary.gone:,} flagged gone"
    )
    if summary.error:
        print(f"  error: {summary.error}")
    for r in rejected:
        print(f"  line {r.line}: {r.reason}")
    if summary.rejected > len(rejected):
        print(f"  … {summary.rejected - len(rejected):,} more (--limit 0 lists them all)")
    return 0
