"""``shelfdesk mapping``: a channel's mappings, one at a time or as files.

``show``, ``category``, ``column``, ``clear``, ``rule``, ``enable-rule``,
``disable-rule`` and ``exclude`` do what the Mappings screen's keys do, through
the same catalog functions. A file (TOML or CSV, by its suffix or ``--format``)
holds a channel's category mappings, column mappings and exclusion rules;
``import`` checks the whole file against the channel and applies it only when
every line is valid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import CHANNEL_HELP
from shelfdesk.cli.setup_common import common_parser, print_json, run_with_workspace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


def configure(parser: argparse.ArgumentParser) -> None:
    common = common_parser()
    sub = parser.add_subparsers(dest="mapping_command", metavar="action", required=True)
    exp = sub.add_parser("export", help="write a channel's mappings to a file (or stdout)", parents=[common])
    exp.add_argument("channel", help=CHANNEL_HELP)
    exp.add_argument("file", nargs="?", type=Path, help="TOML or CSV file (default: TOML on stdout)")
    exp.add_argument("--format", choices=("toml", "csv"), help="override the file suffix")
    exp.set_defaults(_mapping_run=_export)
    imp = sub.add_parser("import", help="apply a mapping file to a channel (all or nothing)", parents=[common])
    imp.add_argument("channel", help=CHANNEL_HELP)
    imp.add_argument("file", type=Path, help="TOML or CSV mapping file")
    imp.add_argument("--format", choices=("toml", "csv"), help="override the file suffix")
    imp.add_argument("--merge", action="store_true", help="keep mappings the file does not mention")
    imp.set_defaults(_mapping_run=_import)
    sug = sub.add_parser("suggest", help="map unmapped categories and attributes to their suggestions", parents=[common])
    sug.add_argument("channel", help=CHANNEL_HELP)
    sug.add_argument("--only", choices=("categories", "attributes"), help="one pane's suggestions, as s on Mappings")
    sug.set_defaults(_mapping_run=_suggest)

    from shelfdesk.domain import ExclusionOperator

    show = sub.add_parser("show", help="categories, attributes and exclusion rules (with their ids) of a channel", parents=[common])
    show.add_argument("channel", help=CHANNEL_HELP)
    show.add_argument("--unmapped", action="store_true", help="only unmapped categories and failing attributes")
    show.set_defaults(_mapping_run=_show)
    cat = sub.add_parser("category", help="map a merchant category to a marketplace category (a leaf)", parents=[common])
    cat.add_argument("channel", help=CHANNEL_HELP)
    cat.add_argument("merchant_category", metavar="CATEGORY", help="the catalog's category, as `mapping show` lists it")
    cat.add_argument("target", metavar="TARGET", help="the marketplace category: its id or its full path")
    cat.add_argument(
        "--identifier",
        choices=("required", "not-required"),
        help="whether lines of this category ship only with an IMEI or serial number (default: the marketplace's rule, "
        "Back Market's phones)",
    )
    cat.set_defaults(_mapping_run=_category)
    col = sub.add_parser(
        "column",
        help="map an attribute to a catalog column (default, value map) or a constant",
        parents=[common],
        description="Map one attribute, as the Mappings screen's column form does: options not given keep the attribute's current mapping.",
    )
    col.add_argument("channel", help=CHANNEL_HELP)
    col.add_argument("attribute", help="the marketplace attribute, e.g. grade")
    source = col.add_mutually_exclusive_group()
    source.add_argument("--column", help="the catalog column that gives the value")
    source.add_argument("--constant", help="one value for every product")
    col.add_argument("--default", help="value when the column is empty ('' for none)")
    col.add_argument(
        "--map", action="append", default=[], metavar="VALUE=ACCEPTED", help="value map pair, added to the current map (repeatable)"
    )
    col.add_argument("--clear-map", action="store_true", help="start the value map from empty")
    col.set_defaults(_mapping_run=_column)
    clr = sub.add_parser("clear", help="remove a category mapping, an attribute mapping or an exclusion rule", parents=[common])
    clr.add_argument("channel", help=CHANNEL_HELP)
    what = clr.add_mutually_exclusive_group(required=True)
    what.add_argument("--category", help="the merchant category to unmap")
    what.add_argument("--attribute", help="the attribute to unmap")
    what.add_argument("--rule", type=int, metavar="ID", help="the exclusion rule to delete (ids: `mapping show`)")
    clr.set_defaults(_mapping_run=_clear)
    rule = sub.add_parser("rule", help="add an exclusion rule (AND with --group N, or a new OR group)", parents=[common])
    rule.add_argument("channel", help=CHANNEL_HELP)
    rule.add_argument("field", help="catalog column, e.g. stock or brand")
    rule.add_argument("operator", choices=[o.value for o in ExclusionOperator])
    rule.add_argument("value", nargs="?", help="value to compare with (not for empty / not_empty)")
    rule.add_argument("--group", type=int, metavar="N", help="add to group N (AND); default: a new group (OR)")
    rule.set_defaults(_mapping_run=_rule)
    for name, enabled in (("enable-rule", True), ("disable-rule", False)):
        toggle = sub.add_parser(name, help=f"turn an exclusion rule {'on' if enabled else 'off'}", parents=[common])
        toggle.add_argument("channel", help=CHANNEL_HELP)
        toggle.add_argument("rule", type=int, metavar="ID", help="the rule's id (`mapping show`)")
        toggle.set_defaults(_mapping_run=_toggle_rule, enabled=enabled)
    exc = sub.add_parser("exclude", help="keep one product (by SKU) out of a channel", parents=[common])
    exc.add_argument("channel", help=CHANNEL_HELP)
    exc.add_argument("sku")
    exc.set_defaults(_mapping_run=_exclude)


def run(args: argparse.Namespace) -> int:
    return run_with_workspace(args, args._mapping_run)


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
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


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.mapping_files import import_mappings
    from shelfdesk.services.channels import check_readiness, find_channel

    view = find_channel(ctx, args.channel)
    report = import_mappings(ctx, view.id, args.file, fmt=args.format, replace=not args.merge)
    readiness = check_readiness(ctx, view.id)
    if args.json:
        print_json(
            {
                "channel": view.id,
                "categories": report.categories,
                "columns": report.columns,
                "exclusions": report.exclusions,
                "replaced": report.replaced,
                "ready": readiness.ready,
            }
        )
    else:
        print(
            f"{view.name}: {report.categories} category mappings, {report.columns} column mappings, "
            f"{report.exclusions} exclusion rules {'replaced' if report.replaced else 'merged'}"
        )
        print(f"  {readiness.summary()}")
    return 0


def _suggest(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog import category_mapping, column_mapping
    from shelfdesk.services.channels import check_readiness, find_channel

    view = find_channel(ctx, args.channel)
    categories = category_mapping.apply_suggestions(ctx, view.id) if args.only != "attributes" else []
    columns = column_mapping.apply_suggestions(ctx, view.id) if args.only != "categories" else []
    readiness = check_readiness(ctx, view.id)
    if args.json:
        print_json(
            {
                "channel": view.id,
                "categories": [{"merchant": m, "channel": c} for m, c in categories],
                "columns": columns,
                "ready": readiness.ready,
            }
        )
    else:
        for merchant, target in categories:
            print(f"category {merchant} → {target}")
        for name in columns:
            print(f"attribute {name} mapped")
        print(f"  {readiness.summary()}")
    return 0


def _done(ctx: AppContext, view: Any, args: argparse.Namespace, text: str, data: dict[str, Any]) -> int:
    """Readiness after a change, as the screen's lights show it; one line, or JSON."""
    from shelfdesk.services.channels import check_readiness

    readiness = check_readiness(ctx, view.id)
    if args.json:
        print_json({"channel": view.id, **data, "ready": readiness.ready})
    else:
        print(f"{view.name}: {text}")
        print(f"  {readiness.summary()}")
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.category_mapping import merchant_categories
    from shelfdesk.catalog.column_mapping import attribute_rows
    from shelfdesk.catalog.exclusions import channel_rules, count_excluded
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    categories = merchant_categories(ctx, view.id, unmapped_only=args.unmapped, limit=100_000)
    attributes = [r for r in attribute_rows(ctx, view.id) if not args.unmapped or not r.mapped]
    rules = channel_rules(ctx, view.id)
    count = count_excluded(ctx, view.id, rules)
    if args.json:
        print_json(
            {
                "channel": view.id,
                "categories": [
                    {
                        "category": c.path,
                        "products": c.products,
                        "target_id": c.channel_category_id,
                        "target": c.channel_category_path,
                        "commission": c.commission,
                        "insertion_fee": c.insertion_fee,
                        "mapped": c.mapped,
                        "problem": c.problem,
                    }
                    for c in categories
                ],
                "attributes": [
                    {
                        "attribute": r.spec.name,
                        "mandatory": r.spec.mandatory,
                        "mapped": r.mapped,
                        "column": r.rule.column if r.rule else None,
                        "constant": r.rule.constant if r.rule else None,
                        "default": r.rule.default if r.rule else None,
                        "value_map": r.rule.value_map if r.rule else {},
                        "suggestion": r.suggestion,
                    }
                    for r in attributes
                ],
                "rules": [
                    {
                        "id": r.id,
                        "group": r.group_no,
                        "field": r.field,
                        "operator": r.operator,
                        "value": r.value,
                        "enabled": r.enabled,
                        "manual": r.is_manual,
                    }
                    for r in rules
                ],
                "excluded": count.excluded,
                "products": count.total,
            }
        )
        return 0
    print(f"{view.store_name} / {view.name} [{view.market}]")
    print("categories:")
    for c in categories:
        target = c.problem or c.channel_category_path or "unmapped"
        print(f"  {c.label}  ({c.products:,})  → {target}")
    print("attributes:")
    for r in attributes:
        source = r.rule.source_text() if r.rule else "unmapped"
        hint = f"  (suggestion: {r.suggestion})" if r.suggestion and not r.mapped else ""
        print(f"  {r.spec.name}{' *' if r.spec.mandatory else ''}  ← {source}{hint}")
    print(f"exclusions: {count.excluded:,} of {count.total:,} products excluded")
    for rule in rules:
        state = "" if rule.enabled else "  (off)"
        print(f"  rule {rule.id}  group {rule.group_no}  {rule.describe()}{'  [by hand]' if rule.is_manual else ''}{state}")
    return 0


def _category(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.category_mapping import set_category_mapping
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    needs = None if args.identifier is None else args.identifier == "required"
    row = set_category_mapping(ctx, view.id, args.merchant_category, args.target, needs_identifier=needs)
    return _done(
        ctx,
        view,
        args,
        f"{row.path} → {row.channel_category_path}",
        {
            "category": row.path,
            "target_id": row.channel_category_id,
            "target": row.channel_category_path,
            "commission": row.commission,
            "insertion_fee": row.insertion_fee,
            "identifier_required": row.requires_imei_or_serial,
        },
    )


def _column(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.column_mapping import channel_rules, set_mapping
    from shelfdesk.cli import UserFacingError
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    current = channel_rules(ctx, view.id).get(args.attribute)
    pairs = {}
    for pair in args.map:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip():
            raise UserFacingError(f"--map {pair!r}: write catalog value=accepted value")
        pairs[source.strip()] = target.strip()
    if args.constant is not None:
        if args.map or args.default is not None:
            raise UserFacingError("a constant takes no --default or --map (they apply to a column)")
        rule = set_mapping(ctx, view.id, args.attribute, constant=args.constant)
    else:
        column = args.column or (current.column if current else None)
        if not column:
            raise UserFacingError(f"{args.attribute} has no column yet: give --column (or --constant)")
        value_map = {} if args.clear_map or current is None else dict(current.value_map)
        default = args.default if args.default is not None else (current.default if current else None)
        rule = set_mapping(ctx, view.id, args.attribute, column=column, default=default or None, value_map={**value_map, **pairs})
    return _done(
        ctx,
        view,
        args,
        f"{rule.attribute} ← {rule.source_text()}",
        {
            "attribute": rule.attribute,
            "column": rule.column,
            "constant": rule.constant,
            "default": rule.default,
            "value_map": rule.value_map,
        },
    )


def _rule_of(ctx: AppContext, view: Any, rule_id: int) -> Any:
    from shelfdesk.catalog.exclusions import channel_rules
    from shelfdesk.cli import UserFacingError

    rule = next((r for r in channel_rules(ctx, view.id) if r.id == rule_id), None)
    if rule is None:
        raise UserFacingError(f"{view.name} has no exclusion rule {rule_id} (shelfdesk mapping show {view.id} lists its rules)")
    return rule


def _clear(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.cli import UserFacingError
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    if args.rule is not None:
        from shelfdesk.catalog.exclusions import delete_rule

        rule = _rule_of(ctx, view, args.rule)
        delete_rule(ctx, args.rule)
        return _done(ctx, view, args, f"rule {rule.id} ({rule.describe()}) deleted", {"rule": rule.id, "removed": True})
    if args.category is not None:
        from shelfdesk.catalog.category_mapping import clear_category_mapping

        what, removed = args.category, clear_category_mapping(ctx, view.id, args.category)
    else:
        from shelfdesk.catalog.column_mapping import clear_mapping

        what, removed = args.attribute, clear_mapping(ctx, view.id, args.attribute)
    if not removed:
        raise UserFacingError(f"{view.name}: {what!r} is not mapped (shelfdesk mapping show {view.id} lists them)")
    key = "category" if args.category is not None else "attribute"
    return _done(ctx, view, args, f"{what} unmapped", {key: what, "removed": True})


def _rule(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.exclusions import add_rule
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    rule = add_rule(ctx, view.id, args.field, args.operator, args.value, group_no=args.group)
    return _rule_done(ctx, view, args, rule, f"added to group {rule.group_no}", {"group": rule.group_no})


def _toggle_rule(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.exclusions import set_rule_enabled
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    rule = _rule_of(ctx, view, args.rule)
    set_rule_enabled(ctx, rule.id, args.enabled)
    return _rule_done(ctx, view, args, rule, "on" if args.enabled else "off", {"enabled": args.enabled})


def _rule_done(ctx: AppContext, view: Any, args: argparse.Namespace, rule: Any, change: str, data: dict[str, Any]) -> int:
    """After a rule changed: the live count of excluded products, as the Exclusions pane shows it."""
    from shelfdesk.catalog.exclusions import count_excluded

    count = count_excluded(ctx, view.id)
    return _done(
        ctx,
        view,
        args,
        f"rule {rule.id} ({rule.describe()}) {change}; {count.excluded:,} of {count.total:,} products excluded",
        {"rule": rule.id, **data, "excluded": count.excluded, "products": count.total},
    )


def _exclude(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.exclusions import exclude_product
    from shelfdesk.services.channels import find_channel

    view = find_channel(ctx, args.channel)
    rule = exclude_product(ctx, view.id, args.sku)
    return _done(ctx, view, args, f"{args.sku.strip()} excluded by hand (rule {rule.id})", {"sku": args.sku.strip(), "rule": rule.id})
