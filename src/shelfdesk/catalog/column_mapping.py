"""Column mapping: where each channel attribute takes its value, with suggestions and a preview.

An attribute takes a catalog field (a role or an extra column), or a constant;
a field may fall back to a default when empty, and a value map translates the
merchant's values into accepted ones (grades ``0``–``4`` → ``PREMIUM`` …
``STALLONE``). The preview runs the mapping on sample products and counts, over
the whole (not excluded) catalog, how many products fail each mandatory
attribute, so the operator sees the damage before publishing.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shelfdesk.catalog.attributes import AttributeSet, AttributeSpec, attribute_set
from shelfdesk.catalog.category_mapping import Proposal
from shelfdesk.catalog.columns import ROLES, normalize_name
from shelfdesk.catalog.errors import CatalogError
from shelfdesk.catalog.fields import ProductValues, product_columns, to_values

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: Products read per query while counting failures over a whole catalog.
CHUNK = 2000


@dataclass(frozen=True)
class ColumnRule:
    """A saved mapping of one attribute (plain data, no ORM object)."""

    attribute: str
    column: str | None = None
    constant: str | None = None
    default: str | None = None
    value_map: dict[str, str] = field(default_factory=dict)

    @property
    def is_set(self) -> bool:
        return bool(self.column) or self.constant is not None

    def source_text(self) -> str:
        """How the console shows where the value comes from."""
        if self.constant is not None:
            return f"= {self.constant!r}"
        if not self.column:
            return "unmapped"
        text = self.column
        if self.value_map:
            text += f" (value map, {len(self.value_map)})"
        if self.default:
            text += f", default {self.default!r}"
        return text

    def resolve(self, product: ProductValues) -> str | None:
        """The raw value this mapping gives for ``product`` (before the attribute's check)."""
        if self.constant is not None:
            return self.constant
        if not self.column:
            return None
        value = product.text(self.column)
        if value is None or not value.strip():
            return self.default
        value = value.strip()
        if self.value_map:
            if value in self.value_map:
                return self.value_map[value]
            folded = value.casefold()
            for key, mapped in self.value_map.items():
                if key.casefold() == folded:
                    return mapped
        return value


@dataclass(frozen=True)
class AttributeRow:
    """One line of the column-mapping table."""

    spec: AttributeSpec
    rule: ColumnRule | None
    suggestion: str | None  #: a catalog field that looks right, when unmapped

    @property
    def mapped(self) -> bool:
        return self.rule is not None and self.rule.is_set


@dataclass(frozen=True)
class PreviewRow:
    sku: str
    values: dict[str, tuple[str | None, str | None]]  #: attribute → (value, problem)


@dataclass(frozen=True)
class Preview:
    rows: list[PreviewRow]
    failures: dict[str, int]  #: mandatory attribute → products failing it
    examples: dict[str, str]  #: attribute → one failure reason, for the message
    products: int  #: products checked (not gone, not excluded)


def check_value(
    spec: AttributeSpec, rule: ColumnRule | None, product: ProductValues, values: Mapping[str, str | None] | None = None
) -> tuple[str | None, str | None]:
    """``(value, problem)`` of one attribute for one product; ``problem`` None means fine.

    ``values`` holds the product's other resolved values, for attributes whose
    requirement depends on another (Leboncoin's reason for "new").
    """
    raw = rule.resolve(product) if rule is not None else None
    value, problem = spec.check(raw)
    if problem is not None:
        return None, problem
    if value is None and _required(spec, values or {}):
        return None, "missing" if rule is not None and rule.is_set else "unmapped"
    return value, None


def _required(spec: AttributeSpec, values: Mapping[str, str | None]) -> bool:
    if spec.required_when is not None:
        other, wanted = spec.required_when
        return values.get(other) == wanted
    return spec.mandatory and spec.any_of is None


def evaluate(attrs: AttributeSet, rules: Mapping[str, ColumnRule], product: ProductValues) -> dict[str, tuple[str | None, str | None]]:
    """Every attribute's ``(value, problem)`` for one product; ``any_of`` groups need one member."""
    out: dict[str, tuple[str | None, str | None]] = {}
    plain: dict[str, str | None] = {}
    for spec in attrs.specs:
        if spec.required_when is None:
            out[spec.name] = check_value(spec, rules.get(spec.name), product)
            plain[spec.name] = out[spec.name][0]
    for spec in attrs.specs:
        if spec.required_when is not None:
            out[spec.name] = check_value(spec, rules.get(spec.name), product, plain)
    groups: dict[str, list[AttributeSpec]] = {}
    for spec in attrs.specs:
        if spec.any_of:
            groups.setdefault(spec.any_of, []).append(spec)
    for members in groups.values():
        if any(out[m.name][0] is not None for m in members):
            for m in members:  # one member is enough: the others' problems do not block
                out[m.name] = (out[m.name][0], None)
        elif all(out[m.name][1] is None for m in members):
            names = " or ".join(m.name for m in members)
            for m in members:
                out[m.name] = (None, f"needs {names}")
    return out


def channel_rules(ctx: AppContext, channel_id: int) -> dict[str, ColumnRule]:
    from sqlalchemy import select

    from shelfdesk.db.models import ColumnMapping as M

    with ctx.read_session() as session:
        rows = session.execute(select(M).where(M.channel_id == channel_id)).scalars().all()
        return {
            r.channel_attribute: ColumnRule(
                r.channel_attribute, r.catalog_column, r.constant, r.default_value, {str(k): str(v) for k, v in (r.value_map or {}).items()}
            )
            for r in rows
        }


def _channel(ctx: AppContext, channel_id: int) -> tuple[int, str]:
    from shelfdesk.db.models import Channel

    with ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise CatalogError(f"no channel with id {channel_id}")
        return channel.store_id, str(channel.marketplace)


def catalog_fields(ctx: AppContext, store_id: int) -> list[str]:
    """Fields a mapping or rule can name: the roles, then the extra columns seen in the catalog."""
    from sqlalchemy import select

    from shelfdesk.db.models import Product, Store

    with ctx.read_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise CatalogError(f"no store with id {store_id}")
        extra = [str(c) for c in (store.column_roles or {}).get("extra") or []]
        if not extra:
            sample = session.execute(select(Product.attributes).where(Product.store_id == store_id).limit(200)).scalars()
            seen: dict[str, None] = {}
            for attributes in sample:
                for key in attributes or {}:
                    seen.setdefault(str(key), None)
            extra = list(seen)
    return [*ROLES, *(c for c in extra if c not in ROLES)]


def suggest_column(spec: AttributeSpec, fields: Sequence[str]) -> str | None:
    """The catalog field whose name is closest to the attribute's known names, if close enough."""
    wanted = {normalize_name(spec.name), normalize_name(spec.label), *spec.synonyms}
    best, best_score = None, 0.0
    for name in fields:
        norm = normalize_name(name)
        if norm in wanted:
            return name
        score = max(difflib.SequenceMatcher(None, norm, w).ratio() for w in wanted)
        if score > best_score:
            best, best_score = name, score
    return best if best_score >= 0.8 else None


def suggest_value_map(spec: AttributeSpec, values: Iterable[str]) -> dict[str, str]:
    """Catalog values → accepted values where the match is obvious (``Very good`` → ``VERY_GOOD``)."""
    out: dict[str, str] = {}
    choices = [(accepted, normalize_name(accepted), normalize_name(label)) for accepted, label in spec.choices]
    for value in values:
        norm = normalize_name(value)
        if not norm:
            continue
        for accepted, a_norm, l_norm in choices:
            if norm in (a_norm, l_norm):
                if value != accepted:
                    out[value] = accepted
                break
        else:
            close = difflib.get_close_matches(norm, [c[2] for c in choices] + [c[1] for c in choices], n=1, cutoff=0.85)
            if close:
                accepted = next(c[0] for c in choices if close[0] in (c[1], c[2]))
                out[value] = accepted
    return out


def attribute_rows(ctx: AppContext, channel_id: int) -> list[AttributeRow]:
    """The channel's attributes with their mapping or a suggestion, mandatory ones first."""
    store_id, marketplace = _channel(ctx, channel_id)
    attrs = attribute_set(marketplace)
    rules = channel_rules(ctx, channel_id)
    fields = catalog_fields(ctx, store_id)
    rows = []
    for spec in attrs.specs:
        rule = rules.get(spec.name)
        suggestion = None if rule is not None and rule.is_set else suggest_column(spec, fields)
        rows.append(AttributeRow(spec, rule, suggestion))
    return rows


def set_mapping(
    ctx: AppContext,
    channel_id: int,
    attribute: str,
    *,
    column: str | None = None,
    constant: str | None = None,
    default: str | None = None,
    value_map: Mapping[str, str] | None = None,
) -> ColumnRule:
    """Map ``attribute`` to a catalog field or a constant (exactly one of them).

    Constants, defaults and value-map targets must be accepted values of the
    attribute; the check names the first bad one.
    """
    from sqlalchemy import select

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import ColumnMapping

    store_id, marketplace = _channel(ctx, channel_id)
    spec = attribute_set(marketplace).get(attribute)
    if spec is None:
        names = ", ".join(attribute_set(marketplace).names())
        raise CatalogError(f"{marketplace} has no attribute {attribute!r} (attributes: {names})")
    column = (column or "").strip() or None
    if (column is None) == (constant is None):
        raise CatalogError(f"map {attribute} to a catalog column or to a constant (one of them)")
    if column is not None and column not in catalog_fields(ctx, store_id):
        raise CatalogError(f"the catalog has no column {column!r}")
    for label, candidate in (("constant", constant), ("default", default)):
        if candidate is not None and candidate.strip():
            _, problem = spec.check(candidate)
            if problem:
                raise CatalogError(f"{attribute}: {label} {problem}")
    clean_map = {str(k).strip(): str(v).strip() for k, v in (value_map or {}).items() if str(k).strip()}
    for source, target in clean_map.items():
        _, problem = spec.check(target)
        if problem:
            raise CatalogError(f"{attribute}: value map {source!r} → {problem}")
    now = ctx.clock.now()
    with ctx.write_session() as session:
        row = session.execute(
            select(ColumnMapping).where(ColumnMapping.channel_id == channel_id, ColumnMapping.channel_attribute == attribute)
        ).scalar_one_or_none()
        if row is None:
            row = ColumnMapping(channel_id=channel_id, channel_attribute=attribute, updated_at=now)
            session.add(row)
        row.catalog_column = column
        row.constant = constant
        row.default_value = default if default and default.strip() else None
        row.value_map = clean_map
        row.updated_at = now
        record_audit(
            session,
            ctx,
            "mapping.column",
            "channel",
            channel_id,
            {"attribute": attribute, "column": column, "constant": constant, "values": len(clean_map)},
        )
    return ColumnRule(attribute, column, constant, row.default_value, clean_map)


def clear_mapping(ctx: AppContext, channel_id: int, attribute: str) -> bool:
    from sqlalchemy import delete

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import ColumnMapping

    with ctx.write_session() as session:
        result = session.execute(
            delete(ColumnMapping).where(ColumnMapping.channel_id == channel_id, ColumnMapping.channel_attribute == attribute)
        )
        record_audit(session, ctx, "mapping.column.clear", "channel", channel_id, {"attribute": attribute})
        return bool(result.rowcount)


def column_proposals(ctx: AppContext, channel_id: int) -> list[Proposal]:
    """Every unmapped attribute that has a suggested column; nothing is written."""
    return [
        Proposal(row.spec.name, row.suggestion) for row in attribute_rows(ctx, channel_id) if not row.mapped and row.suggestion is not None
    ]


def apply_suggestions(ctx: AppContext, channel_id: int, only: Collection[str] | None = None) -> list[str]:
    """Map unmapped attributes that have a suggestion (``only`` those named, if given), with value maps for choices."""
    done = []
    for row in attribute_rows(ctx, channel_id):
        if row.mapped or row.suggestion is None or (only is not None and row.spec.name not in only):
            continue
        value_map: dict[str, str] = {}
        if row.spec.kind == "choice":
            value_map = suggest_value_map(row.spec, distinct_values(ctx, channel_id, row.suggestion))
        try:
            set_mapping(ctx, channel_id, row.spec.name, column=row.suggestion, value_map=value_map)
        except CatalogError:
            continue
        done.append(row.spec.name)
    return done


def distinct_values(ctx: AppContext, channel_id: int, column: str, limit: int = 50) -> list[str]:
    """The most common values of a catalog field in the store, for value maps."""
    from sqlalchemy import func, select

    from shelfdesk.catalog.fields import field_sql
    from shelfdesk.db.models import Product

    store_id, _ = _channel(ctx, channel_id)
    expr = field_sql(column)
    with ctx.read_session() as session:
        rows = session.execute(
            select(expr, func.count())
            .where(Product.store_id == store_id, Product.gone.is_(False), expr.is_not(None))
            .group_by(expr)
            .order_by(func.count().desc())
            .limit(limit)
        ).all()
    return [str(value) for value, _ in rows if value is not None and str(value).strip()]


def iter_products(
    ctx: AppContext, channel_id: int, *, include_excluded: bool = False, skus: Sequence[str] | None = None, limit: int | None = None
) -> Iterable[ProductValues]:
    """The store's current products (keyset-paged by id, ``CHUNK`` per query), excluded ones left out."""
    from sqlalchemy import not_, select

    from shelfdesk.catalog.exclusions import channel_rules as exclusion_rules, exclusion_sql
    from shelfdesk.db.models import Product

    store_id, _ = _channel(ctx, channel_id)
    t = Product.__table__
    condition = None if include_excluded else exclusion_sql(exclusion_rules(ctx, channel_id))
    last_id, yielded = 0, 0
    while True:
        query = select(*product_columns()).where(t.c.store_id == store_id, t.c.gone.is_(False), t.c.id > last_id)
        if condition is not None:
            query = query.where(not_(condition))
        if skus:
            query = query.where(t.c.sku.in_(list(skus)))
        size = CHUNK if limit is None else min(CHUNK, limit - yielded)
        with ctx.read_session() as session:
            rows = session.execute(query.order_by(t.c.id).limit(size)).all()
        for row in rows:
            yield to_values(row)
        yielded += len(rows)
        if len(rows) < size or (limit is not None and yielded >= limit):
            return
        last_id = rows[-1].id


def preview(
    ctx: AppContext,
    channel_id: int,
    *,
    samples: int = 5,
    skus: Sequence[str] | None = None,
    rules: Mapping[str, ColumnRule] | None = None,
    count_failures: bool = True,
) -> Preview:
    """Mapped values of a few products, and failures per mandatory attribute over the whole catalog.

    ``rules`` previews an unsaved mapping (default: the saved one).
    """
    _, marketplace = _channel(ctx, channel_id)
    attrs = attribute_set(marketplace)
    rules = dict(channel_rules(ctx, channel_id) if rules is None else rules)
    rows = [
        PreviewRow(p.sku, evaluate(attrs, rules, p)) for p in iter_products(ctx, channel_id, skus=skus, limit=None if skus else samples)
    ]
    failures: Counter[str] = Counter()
    examples: dict[str, str] = {}
    checked = 0
    if count_failures:
        for product in iter_products(ctx, channel_id):
            checked += 1
            for name, (_, problem) in evaluate(attrs, rules, product).items():
                if problem is not None:
                    failures[name] += 1
                    examples.setdefault(name, f"{product.sku}: {problem}")
    return Preview(rows, dict(failures), examples, checked)


def describe_spec(spec: AttributeSpec, attrs: AttributeSet | None = None) -> str:
    """One line for the console: kind, whether mandatory, accepted values."""
    parts = []
    if spec.mandatory and spec.any_of:
        others = [s.name for s in (attrs.specs if attrs else ()) if s.any_of == spec.any_of and s.name != spec.name]
        parts.append(f"mandatory unless {' or '.join(others)} is mapped" if others else "mandatory (one of a group)")
    elif spec.mandatory:
        parts.append("mandatory")
    elif spec.required_when:
        parts.append(f"required when {spec.required_when[0]} is {spec.required_when[1]}")
    if spec.choices:
        parts.append("one of " + ", ".join(value for value, _ in spec.choices))
    elif spec.minimum is not None:
        parts.append(f"at least {spec.minimum}")
    return "; ".join(parts) or "optional"
