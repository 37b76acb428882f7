"""``shelfdesk catalog import STORE [SOURCE]``: import a catalog feed and report what happened."""

from __future__ import annotations

import argparse
import sys

from shelfdesk.cli.setup_common import common_parser, print_json, run_with_workspace


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="catalog_command", metavar="action", required=True)
    imp = sub.add_parser("import", help="import a catalog feed (CSV, JSON, JSON lines, XML; path or URL)",
                         description="Import a catalog into a store: valid rows are stored, rejected ones are "
                         "listed with their line; products missing from a complete feed are flagged gone.",
                         parents=[common_parser()])  # fmt: skip
    imp.add_argument("store", help="store name or id")
    imp.add_argument("source", nargs="?", help="file path or http(s) URL (default: the store's saved source)")
    imp.add_argument("--format", choices=("csv", "json", "jsonl", "xml"), help="skip format detection")
    imp.add_argument("--sku-column", help="the feed column holding the SKU (otherwise detected or saved)")
    imp.add_argument("--strict", action="store_true", help="exit 1 when any row was rejected")
    imp.add_argument("--show", type=int, default=20, metavar="N", help="rejected rows to print (default 20)")
    imp.set_defaults(_catalog_run=_import)
    cols = sub.add_parser("columns", help="show the columns a feed holds, with samples and their roles",
                          description="The column-detection step: columns with sample values, the roles "
                          "shelfdesk would use, and the reading options found. Nothing is imported.",
                          parents=[common_parser()])  # fmt: skip
    cols.add_argument("store", help="store name or id")
    cols.add_argument("source", nargs="?", help="file path or http(s) URL (default: the store's saved source)")
    cols.add_argument("--format", choices=("csv", "json", "jsonl", "xml"), help="skip format detection")
    cols.set_defaults(_catalog_run=_columns)


def run(args: argparse.Namespace) -> int:
    return run_with_workspace(args, args._catalog_run)


def _columns(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.feed_preview import preview_feed
    from shelfdesk.services.stores import find_store

    store = find_store(ctx, args.store)
    preview = preview_feed(ctx, store.id, args.source, format=args.format)
    if args.json:
        print_json(preview.as_json())
        return 0
    options = ", ".join(f"{k}={v!r}" for k, v in preview.options.items())
    print(f"{preview.source}: {options}")
    print(f"roles ({'saved on the store' if preview.saved_roles else 'suggested'}): "
          + (", ".join(f"{role}={column}" for role, column in preview.roles.items()) or "none found"))  # fmt: skip
    for column in preview.columns:
        role = f"[{column.role}]" if column.role else "[extra]"
        print(f"  {column.name:<24} {role:<11} {' | '.join(column.samples)[:60]}")
    for problem in preview.problems:
        print(f"  ! {problem}")
    return 0


def _import(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.importer import import_catalog, import_rejections
    from shelfdesk.services.stores import find_store

    store = find_store(ctx, args.store)
    roles = None
    if args.sku_column:
        roles = {**{k: v for k, v in store.column_roles.items() if k != "extra"}, "sku": args.sku_column}
    result = import_catalog(ctx, store.id, args.source, format=args.format, roles=roles)
    from shelfdesk.services.channels import refresh_readiness

    refresh_readiness(ctx, store.id)  # new categories or columns change the channels' lights
    rejected = import_rejections(ctx, result.import_id, limit=max(0, args.show)) if args.show else []
    if args.json:
        print_json({"import_id": result.import_id, "store": store.name, "source": result.source,
                    "format": result.format, "rows_read": result.rows_read, "stored": result.stored,
                    "created": result.created, "updated": result.updated, "rejected": result.rejected,
                    "gone": result.gone, "duration_ms": result.duration_ms, "error": result.error,
                    "reasons": result.reasons, "roles": result.roles,
                    "rejections": [{"line": r.line, "field": r.field, "sku": r.sku, "reason": r.reason}
                                   for r in rejected]})  # fmt: skip
    else:
        print(f"import {result.import_id} into {store.name}: {result.rows_read:,} rows read, {result.stored:,} stored "
              f"({result.created:,} new), {result.rejected:,} rejected, {result.gone:,} flagged gone "
              f"in {result.duration_ms / 1000:.1f} s")  # fmt: skip
        for r in rejected:
            print(f"  line {r.line}: {r.reason}")
        if result.rejected > len(rejected):
            print(f"  … {result.rejected - len(rejected):,} more (see the Stores screen or --show N)")
    if result.error:
        print(f"shelfdesk: import {result.import_id}: {result.error}", file=sys.stderr)
        return 1
    return 1 if args.strict and result.rejected else 0
