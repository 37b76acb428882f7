"""Exclusion rules: which products a channel leaves out.

Rules in one group combine with AND, groups combine with OR (as BeezUP's
exclusion filters). A product excluded by hand is a group of its own holding
one rule ``sku equals <SKU>`` named ``manual``. Disabled rules are ignored, and
a group with no enabled rule excludes nothing.

Each rule has two equal implementations: SQL (:func:`exclusion_sql`, for live
counts over the whole catalog and for filtering in queries) and Python
(:func:`is_excluded`, for a product already in hand). A property-based test
checks they agree. Semantics, for both:

* ``equals`` / ``not_equals``: text compared after trimming spaces, ignoring
  ASCII case; numbers (``price``, ``stock``) compare as numbers. An empty
  value is ``""``, so ``not_equals x`` holds for it.
* ``contains``: substring, ignoring ASCII case; never holds for an empty value.
* ``greater_than`` / ``less_than``: numeric; a value that is not a number
  (``"n/a"``) never matches.
* ``empty`` / ``not_empty``: missing or only spaces.
* ``matches``: a regular expression in Python's syntax searched in the value
  (add ``(?i)`` to ignore case); never holds for an empty value. Letters,
  digits and word boundaries are ASCII's, and a construct PostgreSQL cannot
  mean the same way is refused when the rule is saved (see
  :mod:`shelfdesk.catalog.regex`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.errors import CatalogError
from shelfdesk.catalog.fields import NUMERIC_ROLES, ProductValues, field_sql
from shelfdesk.catalog.regex import RegexError, portable_regex
from shelfdesk.domain import ExclusionOperator as Op

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from shelfdesk.context import AppContext

MANUAL = "manual"
_NUMBER = re.compile(r"^ *[+-]?[0-9]+([.,][0-9]+)? *$")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

OPERATOR_LABELS = {
    Op.equals: "equals",
    Op.not_equals: "does not equal",
    Op.contains: "contains",
    Op.greater_than: "is greater than",
    Op.less_than: "is less than",
    Op.empty: "is empty",
    Op.not_empty: "is not empty",
    Op.matches: "matches",
}


@dataclass(frozen=True)
class Rule:
    """One exclusion rule as the engine sees it (no ORM object)."""

    field: str
    operator: Op
    value: str | None = None
    group_no: int = 0
    enabled: bool = True
    id: int | None = None
    name: str | None = None
    position: int = 0

    @property
    def is_manual(self) -> bool:
        return self.name == MANUAL

    def describe(self) -> str:
        label = OPERATOR_LABELS.get(self.operator, str(self.operator))
        if self.operator in (Op.empty, Op.not_empty):
            return f"{self.field} {label}"
        return f"{self.field} {label} {self.value!r}"


def _lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@cache
def _ascii_lower_sql() -> Any:
    """SQL ``lower()`` of ASCII letters only, as :func:`_lower` (built on first use: no SQLAlchemy at import).

    SQLite's ``lower()`` changes ASCII letters only; PostgreSQL's changes every
    letter ("Écran" → "écran") unless the text's collation is "C", so there it
    is ``lower((x) COLLATE "C")``.
    """
    from sqlalchemy import String
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.sql.functions import FunctionElement

    class AsciiLower(FunctionElement[str]):
        type = String()
        inherit_cache = True

    @compiles(AsciiLower)
    def _plain(element: Any, compiler: Any, **kw: Any) -> str:
        return f"lower({compiler.process(element.clauses, **kw)})"

    @compiles(AsciiLower, "postgresql")
    def _c_collation(element: Any, compiler: Any, **kw: Any) -> str:
        return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "C")'

    return AsciiLower


@cache
def _regex_match_sql() -> Any:
    """``column`` matches a :class:`~shelfdesk.catalog.regex.PortableRegex`, each engine with its own pattern.

    SQLite runs Python's ``re`` (SQLAlchemy's ``REGEXP``) on the Python form;
    PostgreSQL runs ``~`` on the translated form, under ``COLLATE "C"`` so that
    letters and digits are ASCII's as they are for ``re.ASCII``.
    """
    from sqlalchemy import Boolean
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.sql.functions import FunctionElement

    class RegexMatch(FunctionElement[bool]):
        type = Boolean()
        inherit_cache = True

    @compiles(RegexMatch)
    def _python(element: Any, compiler: Any, **kw: Any) -> str:
        column, python, _postgres = element.clauses
        return compiler.process(column.regexp_match(python), **kw)

    @compiles(RegexMatch, "postgresql")
    def _postgres(element: Any, compiler: Any, **kw: Any) -> str:
        column, _python, postgres = element.clauses
        return f'(({compiler.process(column, **kw)}) COLLATE "C" ~ {compiler.process(postgres, **kw)})'

    return RegexMatch


def _regex_sql(column: Any, pattern: str) -> Any:
    from sqlalchemy import String, literal

    regex = _portable(pattern)
    return _regex_match_sql()(column, literal(regex.python, String), literal(regex.postgres, String))


def _portable(pattern: str) -> Any:
    try:
        return portable_regex(pattern)
    except RegexError as exc:
        raise CatalogError(str(exc)) from None


def _number(text: str | None) -> Decimal | None:
    if text is None or not _NUMBER.match(text):
        return None
    return Decimal(text.strip().replace(",", "."))


def check_rule(field: str, operator: Op | str, value: str | None) -> Rule:
    """A valid rule, or :class:`CatalogError` saying what is wrong with it."""
    field = (field or "").strip()
    if not field:
        raise CatalogError("an exclusion rule needs a field (a catalog column)")
    try:
        op = Op(operator)
    except ValueError:
        raise CatalogError(f"unknown operator {operator!r}: one of {', '.join(o.value for o in Op)}") from None
    if op in (Op.empty, Op.not_empty):
        return Rule(field, op, None)
    if value is None or (op is not Op.not_equals and op is not Op.equals and not value.strip()):
        raise CatalogError(f"'{field} {OPERATOR_LABELS[op]}' needs a value")
    if op in (Op.greater_than, Op.less_than) and _number(value) is None:
        raise CatalogError(f"'{field} {OPERATOR_LABELS[op]}' needs a number, not {value!r}")
    check_field_operator(field, op)
    if op is Op.matches:
        _portable(value)
    return Rule(field, op, value)


# ------------------------------------------------------------------ Python


def rule_matches(rule: Rule, product: ProductValues) -> bool:
    """True when ``product`` meets ``rule`` (see the module docstring)."""
    op, value = rule.operator, rule.value or ""
    raw = product.raw(rule.field)
    numeric_role = rule.field in NUMERIC_ROLES
    text = None if raw is None else str(raw)
    if op is Op.empty:
        return text is None or not text.strip(" ")
    if op is Op.not_empty:
        return text is not None and bool(text.strip(" "))
    if op in (Op.equals, Op.not_equals):
        if numeric_role and _number(value) is not None:
            equal = raw is not None and Decimal(raw) == _number(value)
        else:
            equal = _lower((text or "").strip(" ")) == _lower(value.strip(" "))
        return equal if op is Op.equals else not equal
    if op is Op.contains:
        return text is not None and _lower(value) in _lower(text)
    if op in (Op.greater_than, Op.less_than):
        bound = _number(value)
        if bound is None or raw is None:
            return False
        if numeric_role:
            number: Decimal | float = Decimal(raw)
            limit: Decimal | float = bound
        else:  # attributes compare as floats, exactly as the SQL side does
            if text is None or not _NUMBER.match(text):
                return False
            number, limit = float(text.strip().replace(",", ".")), float(bound)
        return number > limit if op is Op.greater_than else number < limit
    if op is Op.matches:
        return text is not None and _portable(value).search(text)
    return False


def groups_of(rules: Iterable[Rule]) -> dict[int, list[Rule]]:
    """Enabled rules by group, groups without an enabled rule left out."""
    groups: dict[int, list[Rule]] = {}
    for rule in rules:
        if rule.enabled:
            groups.setdefault(rule.group_no, []).append(rule)
    return groups


def is_excluded(rules: Sequence[Rule], product: ProductValues) -> bool:
    return any(all(rule_matches(r, product) for r in group) for group in groups_of(rules).values())


def excluding_rules(rules: Sequence[Rule], product: ProductValues) -> list[Rule]:
    """The rules of the first group that excludes ``product`` (empty when it is kept)."""
    for group in groups_of(rules).values():
        if all(rule_matches(r, product) for r in group):
            return group
    return []


# ------------------------------------------------------------------ SQL


def rule_sql(rule: Rule) -> ColumnElement[bool]:
    """The SQL condition of one rule (products table)."""
    from sqlalchemy import Float, and_, case, cast, false, func, literal, not_, or_

    op, value = rule.operator, rule.value or ""
    column = field_sql(rule.field)
    numeric_role = rule.field in NUMERIC_ROLES
    if numeric_role and op in (Op.contains, Op.matches):
        check_field_operator(rule.field, op)
    if op in (Op.empty, Op.not_empty):
        condition = column.is_(None) if numeric_role else or_(column.is_(None), func.trim(column) == "")
        return condition if op is Op.empty else not_(condition)
    if op in (Op.equals, Op.not_equals):
        number = _number(value)
        if numeric_role and number is not None:
            equal = and_(column.is_not(None), column == _bound(rule.field, number))
        elif numeric_role:
            equal = false() if value.strip(" ") else column.is_(None)
        else:
            equal = _ascii_lower_sql()(func.trim(func.coalesce(column, ""))) == _lower(value.strip(" "))
        return equal if op is Op.equals else not_(equal)
    if op is Op.contains:
        return and_(column.is_not(None), _ascii_lower_sql()(column).contains(_lower(value), autoescape=True))
    if op in (Op.greater_than, Op.less_than):
        bound = _number(value)
        if bound is None:
            return false()
        if numeric_role:
            target = _bound(rule.field, bound)
            return and_(column.is_not(None), column > target if op is Op.greater_than else column < target)
        as_number = case((_regex_sql(column, _NUMBER.pattern), cast(func.replace(column, ",", "."), Float)), else_=None)
        limit = literal(float(bound), Float)
        return and_(as_number.is_not(None), as_number > limit if op is Op.greater_than else as_number < limit)
    if op is Op.matches:
        return and_(column.is_not(None), _regex_sql(column, value))
    return false()


def _bound(field: str, number: Decimal) -> Any:
    """A comparison value in the column's storage unit, typed so no column type converts it.

    Prices are stored as cents: ``price > 12.5`` compares cents with 1250.
    """
    from sqlalchemy import BigInteger, Float, literal

    scaled = number * 100 if field == "price" else number
    if scaled == scaled.to_integral_value():
        return literal(int(scaled), BigInteger)
    return literal(float(scaled), Float)


def exclusion_sql(rules: Sequence[Rule]) -> ColumnElement[bool] | None:
    """The condition "excluded by these rules", or None when they exclude nothing."""
    from sqlalchemy import and_, or_

    groups = groups_of(rules)
    if not groups:
        return None
    return or_(*(and_(*(rule_sql(r) for r in group)) for group in groups.values()))


def check_field_operator(field: str, operator: Op) -> None:
    """Refuse text-only operators on the numeric roles, in words."""
    if field in NUMERIC_ROLES and operator in (Op.contains, Op.matches):
        raise CatalogError(f"{field} is a number: use equals, greater than or less than, not {operator.value}")


# ------------------------------------------------------------------ service


@dataclass(frozen=True)
class ExclusionCount:
    """Live count of a channel's exclusions over the store's current (not gone) products."""

    excluded: int
    total: int

    @property
    def kept(self) -> int:
        return self.total - self.excluded


def channel_rules(ctx: AppContext, channel_id: int) -> list[Rule]:
    """The channel's rules in group and position order."""
    from sqlalchemy import select

    from shelfdesk.db.models import ExclusionRule as R

    with ctx.read_session() as session:
        rows = session.execute(
            select(R.id, R.field, R.operator, R.value, R.group_no, R.enabled, R.name, R.position)
            .where(R.channel_id == channel_id)
            .order_by(R.group_no, R.position, R.id)
        ).all()
    return [Rule(r.field, Op(r.operator), r.value, r.group_no, r.enabled, r.id, r.name, r.position) for r in rows]


def count_excluded(ctx: AppContext, channel_id: int, rules: Sequence[Rule] | None = None) -> ExclusionCount:
    """How many of the store's current products ``rules`` (default: the saved ones) exclude."""
    from sqlalchemy import func, select

    from shelfdesk.db.models import Channel, Product

    t = Product.__table__
    rules = channel_rules(ctx, channel_id) if rules is None else list(rules)
    with ctx.read_session() as session:
        store_id = session.execute(select(Channel.store_id).where(Channel.id == channel_id)).scalar_one_or_none()
        if store_id is None:
            raise CatalogError(f"no channel with id {channel_id}")
        base = select(func.count()).select_from(t).where(t.c.store_id == store_id, t.c.gone.is_(False))
        total = session.execute(base).scalar_one()
        condition = exclusion_sql(rules)
        excluded = 0 if condition is None else session.execute(base.where(condition)).scalar_one()
    return ExclusionCount(int(excluded), int(total))


def add_rule(
    ctx: AppContext,
    channel_id: int,
    field: str,
    operator: Op | str,
    value: str | None = None,
    *,
    group_no: int | None = None,
    name: str | None = None,
) -> Rule:
    """Save a rule; ``group_no`` None starts a new group (OR with the others)."""
    from sqlalchemy import func, select

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel, ExclusionRule

    rule = check_rule(field, operator, value)
    now = ctx.clock.now()
    with ctx.write_session() as session:
        if session.get(Channel, channel_id) is None:
            raise CatalogError(f"no channel with id {channel_id}")
        if group_no is None:
            top = session.execute(select(func.max(ExclusionRule.group_no)).where(ExclusionRule.channel_id == channel_id)).scalar_one()
            group_no = 0 if top is None else int(top) + 1
        position = session.execute(
            select(func.count()).where(ExclusionRule.channel_id == channel_id, ExclusionRule.group_no == group_no)
        ).scalar_one()
        row = ExclusionRule(
            channel_id=channel_id,
            name=name,
            field=rule.field,
            operator=rule.operator,
            value=rule.value,
            group_no=group_no,
            position=int(position),
            enabled=True,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        record_audit(session, ctx, "exclusion.add", "channel", channel_id, {"rule": rule.describe(), "group": group_no})
        return Rule(row.field, Op(row.operator), row.value, row.group_no, row.enabled, row.id, row.name, row.position)


def delete_rule(ctx: AppContext, rule_id: int) -> None:
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import ExclusionRule

    with ctx.write_session() as session:
        row = session.get(ExclusionRule, rule_id)
        if row is None:
            raise CatalogError(f"no exclusion rule with id {rule_id}")
        record_audit(session, ctx, "exclusion.delete", "channel", row.channel_id, {"rule": f"{row.field} {row.operator} {row.value!r}"})
        session.delete(row)


def set_rule_enabled(ctx: AppContext, rule_id: int, enabled: bool) -> None:
    from shelfdesk.db.models import ExclusionRule

    with ctx.write_session() as session:
        row = session.get(ExclusionRule, rule_id)
        if row is None:
            raise CatalogError(f"no exclusion rule with id {rule_id}")
        row.enabled = enabled
        row.updated_at = ctx.clock.now()


def exclude_product(ctx: AppContext, channel_id: int, sku: str) -> Rule:
    """Keep one product out of the channel by hand (a group of its own)."""
    sku = (sku or "").strip()
    if not sku:
        raise CatalogError("give the SKU of the product to exclude")
    for rule in channel_rules(ctx, channel_id):
        if rule.is_manual and rule.value == sku:
            return rule
    return add_rule(ctx, channel_id, "sku", Op.equals, sku, name=MANUAL)


def include_product(ctx: AppContext, channel_id: int, sku: str) -> bool:
    """Undo :func:`exclude_product`; True when there was a manual exclusion to remove."""
    removed = False
    for rule in channel_rules(ctx, channel_id):
        if rule.is_manual and rule.value == sku and rule.id is not None:
            delete_rule(ctx, rule.id)
            removed = True
    return removed
