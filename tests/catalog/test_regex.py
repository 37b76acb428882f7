"""Exclusion rules' regular expressions: one meaning on SQLite and PostgreSQL, the rest refused in words.

The agreement test runs the SQL on the engine the suite runs on: on SQLite it
checks the Python form, in the PostgreSQL run (``scripts/pg-test.sh``) the
translated one, against Python's ``re`` for every pattern and value.
"""

from __future__ import annotations

import pytest
from sqlalchemy import String, column, literal, select

from shelfdesk.catalog import exclusions as ex
from shelfdesk.catalog.errors import CatalogError
from shelfdesk.catalog.regex import RegexError, portable_regex
from shelfdesk.domain import ExclusionOperator as Op

PATTERNS = [
    r"\bPro\b",
    r"(?i)\bpro\b",
    r"\BPro",
    r"^(FAIR|STALLONE)$",
    r"GB$",
    r"a.b",
    r"(?s)a.b",
    r"x{,3}y",
    r"(?P<size>\d+) ?Go",
    r"[\d\-]+",
    r"\w+@\w+",
    r"\s",
    r"(?i)écran",
    r"(?i)[a-c]{2}",
    r"\x41",
    r"a{b",
    r"(?<=i)Phone",
    r"Phone(?!s)",
    r"colou?r",
    r"^\d{13}$",
    r"[]x]",
    r"[^a-z ]",
    r"(?i)k",
    r"\Acase\Z",
    r"Samsung|Apple",
    r"\d+(?:[.,]\d+)? ?(?:kg|g)\b",
    r"}",
    r"[\b]",
]
VALUES = [
    "MacBook Pro 13",
    "MacBook Pro13",
    "iPhone 13 Pro",
    "ProBook",
    "FAIR",
    "FAIR\n",
    "GB\n",
    "32 GB",
    "a\nb",
    "axb",
    "y",
    "xxxxy",
    "128 Go",
    "64Go",
    "-12-",
    "ops@shop",
    "tab\there",
    "Écran 13",
    "écran",
    "ABC",
    "éab",
    "A",
    "Kelvin",
    "iPhone",
    "Phones",
    "color",
    "colour",
    "3760123456789",
    "]",
    "case",
    "Case",
    "2,5 kg",
    "500g",
    "{}",
    "\b",
    "",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_database_finds_what_python_finds(ctx, pattern: str) -> None:  # type: ignore[no-untyped-def]
    """Whatever the engine: ASCII letters and digits, \\b a word boundary, . not a newline, $ before a last newline."""
    values = select(*(literal(v, String).label(f"v{i}") for i, v in enumerate(VALUES))).subquery()
    matches = [ex._regex_sql(values.c[f"v{i}"], pattern) for i in range(len(VALUES))]
    with ctx.read_session() as session:
        found = session.execute(select(*matches)).one()
    assert [bool(f) for f in found] == [portable_regex(pattern).search(v) for v in VALUES]


def test_python_reads_letters_and_boundaries_as_ascii() -> None:
    assert portable_regex(r"\bPro\b").search("MacBook Pro 13")
    assert portable_regex(r"\bcran").search("écran")  # é is not a word letter: a boundary before c
    assert not portable_regex(r"\w{5}").search("écran")
    assert not portable_regex(r"(?i)é").search("É")
    assert not portable_regex(r"\d").search("٣")  # an Arabic-Indic digit


@pytest.mark.parametrize(
    ("pattern", "postgres"),
    [
        (r"\bPro\b", r"\yPro\y"),
        (r"\BPro", r"\YPro"),
        ("a.b", r"a[^\n]b"),
        ("(?s)a.b", "a.b"),
        ("GB$", r"GB(?=\n?$)"),
        ("x{,3}", "x{0,3}"),
        ("(?P<g>ab)", "(ab)"),
        (r"\x41", r"\u0041"),
        ("a{b}", r"a\{b\}"),
        ("(?i)pro", "(?i)pro"),
        ("[]a]", r"[\]a]"),
        ("[[a]", r"[\[a]"),
    ],
)
def test_translations_for_postgresql(pattern: str, postgres: str) -> None:
    assert portable_regex(pattern).postgres == postgres


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "back-reference"),
        (r"(?P<a>x)(?P=a)", "named back-reference"),
        ("a*+", "possessive"),
        ("(?>ab)", "atomic group"),
        ("(?m)^a", r"the flag \(\?m\)"),
        ("(?x)a b", r"the flag \(\?x\)"),
        ("a(?i:b)", "flag inside the pattern"),
        ("[[:alpha:]]", "POSIX class"),
        (r"[\W]", r"\\W inside brackets"),
        ("a{300}", "repetition count over 255"),
        ("(?#note)a", "comment"),
        ("(a)?(?(1)b|c)", "conditional"),
    ],
)
def test_constructs_without_a_same_meaning_are_refused_in_words(pattern: str, reason: str) -> None:
    with pytest.raises(RegexError, match=reason) as refused:
        portable_regex(pattern)
    assert "must match the same on SQLite and PostgreSQL" in str(refused.value)


def test_saving_a_rule_refuses_them_before_anything_is_stored(ctx, store_id) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.services.accounts import create_account
    from shelfdesk.services.channels import create_channel

    account = create_account(ctx, "backmarket", "BM", token="t0k3n-abcdef")
    channel = create_channel(ctx, store_id, account.id, "FR")
    with pytest.raises(CatalogError, match=r"'\(a\)\\\\1': \\1 \(a back-reference"):
        ex.add_rule(ctx, channel.id, "title", Op.matches, r"(a)\1")
    with pytest.raises(CatalogError, match=r"not a valid regular expression \(missing \), unterminated subpattern at position 0\)"):
        ex.add_rule(ctx, channel.id, "title", Op.matches, "(")
    assert ex.channel_rules(ctx, channel.id) == []
    assert ex.add_rule(ctx, channel.id, "title", Op.matches, r"\bPro\b").value == r"\bPro\b"  # kept as typed


def test_the_sql_names_the_right_pattern_for_each_dialect() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    condition = ex._regex_sql(column("title"), r"\bPro\b")
    pg = condition.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    assert str(pg) == r"""((title) COLLATE "C" ~ '\yPro\y')"""
    lite = condition.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    assert str(lite) == r"title REGEXP '(?a)\bPro\b'"
