"""Regular expressions that mean the same on SQLite and on PostgreSQL.

An exclusion rule's ``matches`` runs in three places: in Python for a product
in hand, in SQLite's ``REGEXP`` (Python's ``re`` again, through SQLAlchemy)
and in PostgreSQL's ``~`` for counts and queries. PostgreSQL's dialect (ARE)
differs from Python's: ``\\b`` is a backspace there (``\\bPro\\b`` matched
nothing), ``.`` crosses newlines, ``$`` does not stop before a final newline,
``(?P<name>…)`` and ``x{,3}`` are not understood, and letters are classified
by the database's locale while Python classifies by Unicode.

The rule language is Python's, read as follows on both engines:

* letters, digits and spaces are ASCII's: ``\\w``, ``\\d``, ``\\s``, ``\\b``
  and ``(?i)`` know ``[A-Za-z0-9_]`` only (Python compiles with ``re.ASCII``;
  PostgreSQL compares under ``COLLATE "C"``, which classifies ASCII only), so
  ``(?i)é`` does not match "É" anywhere;
* the constructs with a PostgreSQL equivalent are translated (``\\b`` → ``\\y``,
  ``.`` → ``[^\\n]``, ``$`` → ``(?=\\n?$)``, ``{,n}`` → ``{0,n}``, ``\\xhh``
  → ``\\u00hh``, named groups → plain groups);
* the rest is refused when the rule is saved, with the reason: back-references,
  flags other than ``(?i)`` and ``(?s)`` at the start, scoped flags, atomic
  groups and possessive quantifiers, conditionals, comments, ``\\D``/``\\S``/``\\W``
  inside brackets, POSIX classes (``[[:alpha:]]``), repetition counts over 255.

Only whether a pattern is found counts (``re.search``), never what it matched,
so greediness and the order of alternatives, where the dialects differ, do not.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

#: PostgreSQL refuses repetition counts above this (its RE_DUPMAX).
MAX_REPEAT = 255

_LEADING_FLAGS = re.compile(r"\(\?([a-zA-Z]+)\)")
_REPEAT = re.compile(r"\{(\d*)(,(\d*))?\}")
_QUANTIFIERS = "*+?"


class RegexError(ValueError):
    """A pattern that is not valid, or not portable; the message says which construct and why."""


@dataclass(frozen=True)
class PortableRegex:
    """One rule pattern, as each engine needs it."""

    source: str
    #: For Python's ``re`` and SQLite's ``REGEXP``: the flags (ASCII always) then the body.
    python: str
    #: For PostgreSQL's ``~`` on text under ``COLLATE "C"``.
    postgres: str

    def search(self, text: str) -> bool:
        return _compiled(self.python).search(text) is not None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(pattern)


@lru_cache(maxsize=256)
def portable_regex(source: str) -> PortableRegex:
    """``source`` checked and translated, or :class:`RegexError` naming what cannot be portable."""
    flags, body = _split_flags(source)
    try:
        with warnings.catch_warnings():  # "possible nested set": [[:alpha:]] is refused below, in words
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(source, re.ASCII)  # the source itself, so an error's position is the merchant's
    except re.error as exc:
        raise RegexError(f"{source!r} is not a valid regular expression ({exc})") from None
    python = f"(?a{flags})" + body
    postgres = _Translator(source, body, dotall="s" in flags).run()
    return PortableRegex(source, python, ("(?i)" if "i" in flags else "") + postgres)


def _split_flags(source: str) -> tuple[str, str]:
    """The leading ``(?i)``/``(?s)`` flags (deduplicated, sorted) and the rest of the pattern."""
    flags: set[str] = set()
    at = 0
    while match := _LEADING_FLAGS.match(source, at):
        for flag in match.group(1):
            if flag in "is":
                flags.add(flag)
            elif flag != "a":
                raise RegexError(_unsupported(source, f"the flag (?{flag})", "only (?i) and (?s) work on both databases"))
        at = match.end()
    return "".join(sorted(flags)), source[at:]


def _unsupported(source: str, what: str, why: str) -> str:
    return f"{source!r}: {what} is not supported ({why}); exclusion rules must match the same on SQLite and PostgreSQL"


class _Translator:
    """Rewrites a valid Python pattern body into PostgreSQL's ARE, construct by construct."""

    def __init__(self, source: str, body: str, *, dotall: bool) -> None:
        self.source, self.body, self.dotall = source, body, dotall
        self.at = 0
        self.out: list[str] = []
        self.after_quantifier = False

    def refuse(self, what: str, why: str) -> RegexError:
        return RegexError(_unsupported(self.source, what, why))

    def run(self) -> str:
        body = self.body
        while self.at < len(body):
            char = body[self.at]
            quantifier = False
            if char == "\\":
                self.out.append(self._escape(in_class=False))
                continue
            if char == "[":
                self._bracket()
            elif char == "(":
                self._group()
            elif char == "{":
                quantifier = self._repeat()
            elif char == "}":
                self.out.append("\\}")
            elif char == ".":
                self.out.append("." if self.dotall else "[^\\n]")
            elif char == "$":
                self.out.append("(?=\\n?$)")
            elif char in _QUANTIFIERS:
                if char == "+" and self.after_quantifier:
                    raise self.refuse("a possessive quantifier (*+, ++, ?+)", "PostgreSQL has none")
                if char == "?" and self.after_quantifier:
                    self.out.append("?")  # a lazy quantifier: same matches, found either way
                else:
                    self.out.append(char)
                    quantifier = True
            else:
                self.out.append(char)
            self.at += 1
            self.after_quantifier = quantifier
        return "".join(self.out)

    def _escape(self, *, in_class: bool) -> str:
        """The escape at ``self.at`` (a backslash), translated; advances past it."""
        body = self.body
        char = body[self.at + 1]
        self.at += 2
        self.after_quantifier = False
        if char == "x":
            digits = body[self.at : self.at + 2]
            self.at += 2
            return f"\\u00{digits}"
        if char == "u":
            digits = body[self.at : self.at + 4]
            self.at += 4
            return f"\\u{digits}"
        if char == "U":
            digits = body[self.at : self.at + 8]
            self.at += 8
            return f"\\U{digits}"
        if char.isdigit():
            raise self.refuse(f"\\{char} (a back-reference or octal escape)", "write the character itself")
        if char == "N":
            raise self.refuse("\\N{…}", "write the character itself")
        if in_class:
            if char in "DSW":
                raise self.refuse(f"\\{char} inside brackets", "PostgreSQL refuses it there")
            return "\\" + char  # \b inside brackets is a backspace in both
        if char == "b":
            return "\\y"
        if char == "B":
            return "\\Y"
        return "\\" + char  # \d \s \w \A \Z \n \t …, and escaped punctuation, mean the same

    def _bracket(self) -> None:
        """A bracket expression ``[…]``, copied with its escapes translated."""
        body = self.body
        parts = ["["]
        self.at += 1
        if body.startswith("^", self.at):
            parts.append("^")
            self.at += 1
        if body.startswith("]", self.at):  # a leading ] is a literal in both
            parts.append("\\]")
            self.at += 1
        while body[self.at] != "]":
            if body[self.at] == "\\":
                parts.append(self._escape(in_class=True))
                continue
            if body[self.at] == "[" and body[self.at + 1 : self.at + 2] in (":", "=", "."):
                raise self.refuse("a POSIX class such as [[:alpha:]]", "Python reads them as plain characters; write [a-zA-Z]")
            if body[self.at] == "[":
                parts.append("\\[")
            else:
                parts.append(body[self.at])
            self.at += 1
        parts.append("]")
        self.out.append("".join(parts))

    def _group(self) -> None:
        """An opening parenthesis: the group kinds both engines know, or a refusal."""
        rest = self.body[self.at :]
        for prefix in ("(?:", "(?=", "(?!", "(?<=", "(?<!"):
            if rest.startswith(prefix):
                self.out.append(prefix)
                self.at += len(prefix) - 1
                return
        if rest.startswith("(?P<"):
            self.out.append("(")
            self.at = self.body.index(">", self.at)
            return
        if rest.startswith("(?P="):
            raise self.refuse("a named back-reference (?P=…)", "write the text itself")
        if rest.startswith("(?#"):
            raise self.refuse("a comment (?#…)", "PostgreSQL reads it differently")
        if rest.startswith("(?>"):
            raise self.refuse("an atomic group (?>…)", "PostgreSQL has none")
        if rest.startswith("(?("):
            raise self.refuse("a conditional group (?(…)…)", "PostgreSQL has none")
        if rest.startswith("(?"):
            raise self.refuse("a flag inside the pattern", "put (?i) or (?s) at its very start")
        self.out.append("(")

    def _repeat(self) -> bool:
        """``{m,n}`` as PostgreSQL writes it (True), or a literal brace as Python reads it (False)."""
        match = _REPEAT.match(self.body, self.at)
        if not match or not (match.group(1) or match.group(3)) or not self.out:
            self.out.append("\\{")
            return False
        low = match.group(1) or "0"
        high = match.group(3) if match.group(2) else None
        for count in (low, high):
            if count and int(count) > MAX_REPEAT:
                raise self.refuse(f"a repetition count over {MAX_REPEAT}", "PostgreSQL's limit")
        self.out.append("{" + low + ("" if match.group(2) is None else "," + (high or "")) + "}")
        self.at = match.end() - 1
        return True
