"""``shelfdesk mapping export|import|suggest``: mappings as files, to version and copy them.

A file (TOML or CSV, by its suffix or ``--format``) holds a channel's category
mappings, column mappings and exclusion rules. Import checks the whole file
against the channel and applies it only when every line is valid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shelfdesk.cli.setup_common import common_parser, print_json, run_with_workspace


def configure(parser: argparse.ArgumentParser) -> None:
    common = common_parser()
    sub = parser.add_subparsers(dest="mapping_command", metavar="action", required=True)
    exp = sub.add_parser("export", help="write a channel's mappings to a file (or stdout)", parents=[common])
    exp.add_argument("channel", help="channel name, STORE/CHANNEL or id")
    exp.add_argument("file", nargs="?", type=Path, help="TOML or CSV file (default: TOML on stdout)")
    exp.add_argument("--format", choices=("toml", "csv"), help="override the file suffix")
    exp.set_defaults(_mapping_run=_export)
    imp = sub.add_parser("import", help="apply a mapping file to a channel (all or nothing)", parents=[common])
    imp.add_argument("channel", help="channel name, STORE/CHANNEL or id")
    imp.add_argument("file", type=Path, help="TOML or CSV mapping file")
    imp.add_argument("--format", choices=("toml", "csv"), help="override the file suffix")
    imp.add_argument("--merge", action="store_true", help="keep mappings the file does not mention")
    imp.set_defaults(_mapping_run=_import)
    sug = sub.add_parser("suggest", help="map unmapped categories and attributes to their suggestions",
                         parents=[common])  # fmt: skip
    sug.add_argument("channel", help="channel name, STORE/CHANNEL or id")
    sug.set_defaults(_mapping_run=_suggest)


def run(args: argparse.Namespace) -> int:
    return run_with_workspace(args, args._mapping_run)


def _export(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.mapping_files import export_mappings
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    text = export_mappings(ctx, view.id, args.file, args.format)
    if args.file is None:
        sys.stdout.write(text)
    elif args.json:
        print_json({"channel": view.id, "file": str(args.file)})
    else:
        print(f"mappings of {view.name} written to {args.file}")
    return 0


def _import(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.mapping_files import import_mappings
    from shelfdesk.services.channels import check_readiness, find_channel

    view = find_channel(ctx, args.channel)
    report = import_mappings(ctx, view.id, args.file, fmt=args.format, replace=not args.merge)
    readiness = check_readiness(ctx, view.id)
    if args.json:
        print_json({"channel": view.id, "categories": report.categories, "columns": report.columns,
                    "exclusions": report.exclusions, "replaced": report.replaced, "ready": readiness.ready})  # fmt: skip
    else:
        print(f"{view.name}: {report.categories} category mappings, {report.columns} column mappings, "
              f"{report.exclusions} exclusion rules {'replaced' if report.replaced else 'merged'}")  # fmt: skip
        print(f"  {readiness.summary()}")
    return 0


def _suggest(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog import category_mapping, column_mapping
    from shelfdesk.services.channels import check_readiness, find_channel

    view = find_channel(ctx, args.channel)
    categories = category_mapping.apply_suggestions(ctx, view.id)
    columns = column_mapping.apply_suggestions(ctx, view.id)
    readiness = check_readiness(ctx, view.id)
    if args.json:
        print_json({"channel": view.id, "categories": [{"merchant": m, "channel": c} for m, c in categories],
                    "columns": columns, "ready": readiness.ready})  # fmt: skip
    else:
        for merchant, target in categories:
            print(f"category {merchant} → {target}")
        for name in columns:
            print(f"attribute {name} mapped")
        print(f"  {readiness.summary()}")
    return 0
