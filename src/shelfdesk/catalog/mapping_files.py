"""Mappings to and from a file (TOML or CSV), to version them and copy them between stores.

A file holds one channel's category mappings, column mappings and exclusion
rules. Import checks the whole file against the target channel first (leaf
categories of its marketplace, known attributes, valid rules) and reports
every problem with its line; only a clean file is applied, in one
transaction, replacing the channel's mappings (or merged into them).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.errors import CatalogError
from shelfdesk.exports import atomic_text_file, safe_cell, unsafe_cell

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

FORMAT = "shelfdesk-mappings/1"
CSV_COLUMNS = (
    "section",
    "key",
    "target",
    "column",
    "constant",
    "default",
    "values",
    "commission",
    "insertion_fee",
    "group",
    "operator",
    "value",
    "enabled",
    "name",
)


@dataclass
class MappingBundle:
    """Everything a mapping file holds, as plain data."""

    marketplace: str
    categories: list[dict[str, Any]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    categories: int
    columns: int
    exclusions: int
    replaced: bool


class MappingFileError(CatalogError):
    """A mapping file that cannot be applied; ``problems`` lists every one, with lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:10]) + (f"; … {len(problems) - 10} more" if len(problems) > 10 else "")
        super().__init__(f"the mapping file was not applied: {shown}")


# ------------------------------------------------------------------ export


def collect(ctx: AppContext, channel_id: int) -> MappingBundle:
    from sqlalchemy import select

    from shelfdesk.catalog.exclusions import channel_rules
    from shelfdesk.db.models import CategoryMapping, Channel, ColumnMapping

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise CatalogError(f"no channel with id {channel_id}")
        bundle = MappingBundle(str(channel.marketplace))
        for m in session.execute(
            select(CategoryMapping).where(CategoryMapping.channel_id == channel_id).order_by(CategoryMapping.merchant_category)
        ).scalars():
            bundle.categories.append(
                {
                    "merchant": m.merchant_category,
                    "category": m.channel_category_id,
                    "path": m.channel_category_path,
                    "commission": m.commission,
                    "insertion_fee": m.insertion_fee,
                }
            )
        for c in session.execute(
            select(ColumnMapping).where(ColumnMapping.channel_id == channel_id).order_by(ColumnMapping.channel_attribute)
        ).scalars():
            bundle.columns.append(
                {
                    "attribute": c.channel_attribute,
                    "column": c.catalog_column,
                    "constant": c.constant,
                    "default": c.default_value,
                    "values": dict(c.value_map or {}),
                }
            )
    for rule in channel_rules(ctx, channel_id):
        bundle.exclusions.append(
            {
                "group": rule.group_no,
                "field": rule.field,
                "operator": rule.operator.value,
                "value": rule.value,
                "enabled": rule.enabled,
                "name": rule.name,
            }
        )
    return bundle


def export_mappings(ctx: AppContext, channel_id: int, path: Path | None = None, fmt: str | None = None) -> str:
    """The channel's mappings as TOML or CSV text; written to ``path`` when given (format from its suffix)."""
    fmt = (fmt or (path.suffix.lstrip(".") if path else "toml")).lower()
    bundle = collect(ctx, channel_id)
    if fmt == "toml":
        text = to_toml(bundle)
    elif fmt == "csv":
        text = to_csv(bundle)
    else:
        raise CatalogError(f"unknown mapping file format {fmt!r}: toml or csv")
    if path is not None:
        with atomic_text_file(path) as fh:
            fh.write(text)
    return text


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    escaped = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def to_toml(bundle: MappingBundle) -> str:
    lines = [
        f"# shelfdesk mappings for a {bundle.marketplace} channel",
        f"format = {_toml_value(FORMAT)}",
        f"marketplace = {_toml_value(bundle.marketplace)}",
        "",
    ]
    for entry in bundle.categories:
        lines.append("[[categories]]")
        for key in ("merchant", "category", "path", "commission", "insertion_fee"):
            if entry.get(key) is not None:
                lines.append(f"{key} = {_toml_value(entry[key])}")
        lines.append("")
    for entry in bundle.columns:
        lines.append("[[columns]]")
        for key in ("attribute", "column", "constant", "default"):
            if entry.get(key) is not None:
                lines.append(f"{key} = {_toml_value(entry[key])}")
        values = entry.get("values") or {}
        if values:
            pairs = ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in values.items())
            lines.append(f"values = {{ {pairs} }}")
        lines.append("")
    for entry in bundle.exclusions:
        lines.append("[[exclusions]]")
        for key in ("group", "field", "operator", "value", "enabled", "name"):
            if entry.get(key) is not None:
                lines.append(f"{key} = {_toml_value(entry[key])}")
        lines.append("")
    return "\n".join(lines)


class _SafeWriter(csv.DictWriter):
    """Every cell through the one CSV-safety function (a merchant value can start with '=')."""

    def writerow(self, rowdict: Any) -> Any:
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})


def to_csv(bundle: MappingBundle) -> str:
    out = io.StringIO()
    writer = _SafeWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for e in bundle.categories:
        writer.writerow(
            {
                "section": "category",
                "key": e["merchant"],
                "target": e["category"],
                "commission": _text(e.get("commission")),
                "insertion_fee": _text(e.get("insertion_fee")),
            }
        )
    for e in bundle.columns:
        writer.writerow(
            {
                "section": "column",
                "key": e["attribute"],
                "column": _text(e.get("column")),
                "constant": _text(e.get("constant")),
                "default": _text(e.get("default")),
                "values": json.dumps(e.get("values") or {}, ensure_ascii=False) if e.get("values") else "",
            }
        )
    for e in bundle.exclusions:
        writer.writerow(
            {
                "section": "exclusion",
                "key": e["field"],
                "group": e["group"],
                "operator": e["operator"],
                "value": _text(e.get("value")),
                "enabled": "true" if e.get("enabled", True) else "false",
                "name": _text(e.get("name")),
            }
        )
    return out.getvalue()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# ------------------------------------------------------------------ import


class _SafeReader(csv.DictReader):
    """Cells back to their values: the apostrophe :class:`_SafeWriter` put before a formula-like value goes."""

    def __next__(self) -> dict[str, Any]:
        return {k: unsafe_cell(v) if isinstance(v, str) else v for k, v in super().__next__().items()}


def parse_file(text: str, fmt: str) -> tuple[MappingBundle, dict[int, int]]:
    """A bundle from TOML or CSV text; the dict maps entry index → line, for messages (CSV only)."""
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingFileError([f"invalid TOML: {exc}"]) from None
        if data.get("format") not in (None, FORMAT):
            raise MappingFileError([f"unknown format {data.get('format')!r} (expected {FORMAT})"])
        bundle = MappingBundle(str(data.get("marketplace") or ""))
        for name in ("categories", "columns", "exclusions"):
            entries = data.get(name) or []
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise MappingFileError([f"[[{name}]] must be a list of tables"])
            getattr(bundle, name).extend(entries)
        return bundle, {}
    if fmt == "csv":
        bundle = MappingBundle("")
        lines: dict[int, int] = {}
        reader = _SafeReader(io.StringIO(text))
        missing = set(("section", "key")) - set(reader.fieldnames or [])
        if missing:
            raise MappingFileError([f"the CSV header lacks {', '.join(sorted(missing))}"])
        problems = []
        for row in reader:
            line = reader.line_num
            section = (row.get("section") or "").strip()
            if section == "category":
                bundle.categories.append(
                    {
                        "merchant": row.get("key"),
                        "category": row.get("target"),
                        "commission": row.get("commission") or None,
                        "insertion_fee": row.get("insertion_fee") or None,
                        "_line": line,
                    }
                )
            elif section == "column":
                try:
                    values = json.loads(row["values"]) if (row.get("values") or "").strip() else {}
                except json.JSONDecodeError as exc:
                    problems.append(f"line {line}: values is not JSON ({exc.msg})")
                    continue
                bundle.columns.append(
                    {
                        "attribute": row.get("key"),
                        "column": row.get("column") or None,
                        "constant": row.get("constant") if row.get("constant") != "" else None,
                        "default": row.get("default") or None,
                        "values": values,
                        "_line": line,
                    }
                )
            elif section == "exclusion":
                bundle.exclusions.append(
                    {
                        "field": row.get("key"),
                        "group": row.get("group"),
                        "operator": row.get("operator"),
                        "value": row.get("value"),
                        "enabled": (row.get("enabled") or "true").lower() != "false",
                        "name": row.get("name") or None,
                        "_line": line,
                    }
                )
            elif section:
                problems.append(f"line {line}: unknown section {section!r} (category, column or exclusion)")
        if problems:
            raise MappingFileError(problems)
        return bundle, lines
    raise CatalogError(f"unknown mapping file format {fmt!r}: toml or csv")


def _where(entry: dict[str, Any], kind: str, index: int) -> str:
    return f"line {entry['_line']}" if "_line" in entry else f"{kind} #{index + 1}"


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{value!r} is not a non-negative decimal")
    return number


def import_mappings(
    ctx: AppContext, channel_id: int, path: Path | None = None, *, text: str | None = None, fmt: str | None = None, replace: bool = True
) -> ImportReport:
    """Check a mapping file against the channel and apply it (all or nothing)."""
    from sqlalchemy import delete, select

    from shelfdesk.audit import record_audit
    from shelfdesk.catalog.attributes import attribute_set
    from shelfdesk.catalog.categories import category_tree
    from shelfdesk.catalog.category_mapping import channel_info, resolve_leaf, uses_insertion_fee
    from shelfdesk.catalog.exclusions import check_rule
    from shelfdesk.db.models import CategoryMapping, ColumnMapping, ExclusionRule

    if text is None:
        if path is None:
            raise CatalogError("give a mapping file")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise CatalogError(f"{path} is not UTF-8 text") from None
    fmt = (fmt or (path.suffix.lstrip(".") if path else "toml")).lower()
    bundle, _ = parse_file(text, fmt)
    info = channel_info(ctx, channel_id)
    if bundle.marketplace and bundle.marketplace != info.marketplace.value:
        raise MappingFileError(
            [
                f"the file is for {bundle.marketplace}, the channel is {info.marketplace.value}: "
                "categories and attributes differ between marketplaces"
            ]
        )
    tree, attrs = category_tree(info.marketplace), attribute_set(info.marketplace)
    problems: list[str] = []
    categories: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(bundle.categories):
        where = _where(entry, "category", i)
        merchant = str(entry.get("merchant") or "").strip()
        if not merchant:
            problems.append(f"{where}: no merchant category")
            continue
        try:
            node = resolve_leaf(tree, str(entry.get("category") or entry.get("path") or ""))
            commission, fee = _decimal(entry.get("commission")), _decimal(entry.get("insertion_fee"))
        except (CatalogError, ValueError) as exc:
            problems.append(f"{where} ({merchant}): {exc}")
            continue
        if commission is None and fee is None:
            commission, fee = (None, node.insertion_fee) if uses_insertion_fee(info) else (node.commission, None)
        if merchant in categories:
            problems.append(f"{where}: {merchant!r} is mapped twice")
        categories[merchant] = {"node": node, "commission": commission, "fee": fee}
    columns: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(bundle.columns):
        where = _where(entry, "column", i)
        name = str(entry.get("attribute") or "").strip()
        spec = attrs.get(name)
        if spec is None:
            problems.append(f"{where}: {info.marketplace.value} has no attribute {name!r}")
            continue
        column, constant = entry.get("column") or None, entry.get("constant")
        if (column is None) == (constant is None):
            problems.append(f"{where} ({name}): give a column or a constant (one of them)")
            continue
        values = entry.get("values") or {}
        if not isinstance(values, dict):
            problems.append(f"{where} ({name}): values must map catalog values to accepted values")
            continue
        for label, candidate in [
            ("constant", constant),
            ("default", entry.get("default")),
            *((f"value {k!r} →", v) for k, v in values.items()),
        ]:
            if candidate is not None and str(candidate).strip():
                _, problem = spec.check(str(candidate))
                if problem:
                    problems.append(f"{where} ({name}): {label} {problem}")
        columns[name] = {
            "column": column,
            "constant": None if constant is None else str(constant),
            "default": entry.get("default"),
            "values": {str(k): str(v) for k, v in values.items()},
        }
    rules: list[tuple[int, Any, bool, str | None]] = []
    for i, entry in enumerate(bundle.exclusions):
        where = _where(entry, "exclusion", i)
        try:
            group = int(entry.get("group") or 0)
            rule = check_rule(
                str(entry.get("field") or ""),
                str(entry.get("operator") or ""),
                None if entry.get("value") is None else str(entry.get("value")),
            )
        except (CatalogError, ValueError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        rules.append((group, rule, bool(entry.get("enabled", True)), entry.get("name")))
    if problems:
        raise MappingFileError(problems)
    now = ctx.clock.now()
    with ctx.write_session() as session:
        if replace:
            for model in (CategoryMapping, ColumnMapping, ExclusionRule):
                session.execute(delete(model).where(model.channel_id == channel_id))
        else:
            session.execute(
                delete(CategoryMapping).where(
                    CategoryMapping.channel_id == channel_id, CategoryMapping.merchant_category.in_(list(categories))
                )
            )
            session.execute(
                delete(ColumnMapping).where(ColumnMapping.channel_id == channel_id, ColumnMapping.channel_attribute.in_(list(columns)))
            )
        for merchant, c in categories.items():
            node = c["node"]
            session.add(
                CategoryMapping(
                    channel_id=channel_id,
                    merchant_category=merchant,
                    channel_category_id=node.id,
                    channel_category_path=node.path,
                    commission=c["commission"],
                    insertion_fee=c["fee"],
                    requires_imei_or_serial=node.requires_imei_or_serial,
                    updated_at=now,
                )
            )
        for name, c in columns.items():
            session.add(
                ColumnMapping(
                    channel_id=channel_id,
                    channel_attribute=name,
                    catalog_column=c["column"],
                    constant=c["constant"],
                    default_value=c["default"],
                    value_map=c["values"],
                    updated_at=now,
                )
            )
        offset = 0
        if not replace:
            top = session.execute(
                select(ExclusionRule.group_no)
                .where(ExclusionRule.channel_id == channel_id)
                .order_by(ExclusionRule.group_no.desc())
                .limit(1)
            ).scalar_one_or_none()
            offset = 0 if top is None else top + 1
        positions: dict[int, int] = {}
        for group, rule, enabled, rule_name in rules:
            position = positions.get(group, 0)
            positions[group] = position + 1
            session.add(
                ExclusionRule(
                    channel_id=channel_id,
                    name=rule_name,
                    field=rule.field,
                    operator=rule.operator,
                    value=rule.value,
                    group_no=group + offset,
                    position=position,
                    enabled=enabled,
                    updated_at=now,
                )
            )
        record_audit(
            session,
            ctx,
            "mapping.import",
            "channel",
            channel_id,
            {"categories": len(categories), "columns": len(columns), "exclusions": len(rules), "replace": replace},
        )
    return ImportReport(len(categories), len(columns), len(rules), replace)
