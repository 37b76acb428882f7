"""Every command meets hostile values: one line on stderr and a clear exit, never a traceback.

Commands run in-process through :func:`shelfdesk.cli.main` (fast, and a
traceback would surface as an exception here). The sweep walks the real
parser, so a new command is swept without touching this file. Exit 70 is the
safety net's "unexpected error": the sweep counts it as a bug.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import pytest

from shelfdesk.cli import build_parser, main

#: Commands that serve or open the console until stopped: not for an in-process sweep.
BLOCKING = {("open",), ("demo",), ("sandbox",), ("worker",), ("api", "serve")}

BAD_VALUES = {
    "huge id": "99999999999999999999999",
    "empty": "",
    "negative": "-1",
    "long path": "/tmp/" + "x" * 5000,
    "sql": "1'; DROP TABLE stores; --",
    "control": "\x1b[31mred\x07\u202eevil\x00",
}


def leaf_commands() -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield path, parser
            return
        for name, child in subs[0].choices.items():
            yield from walk(child, (*path, name))

    for path, parser in walk(build_parser(), ()):
        if not any(path[: len(blocking)] == blocking for blocking in BLOCKING):
            yield path, parser


def positionals(parser: argparse.ArgumentParser) -> int:
    return sum(1 for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction))


def call(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refusing the input
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, err


@pytest.fixture
def shop(workspace, capsys):  # type: ignore[no-untyped-def]
    """A workspace with one store, so lookups by name or id have something to miss."""
    assert main(["store", "add", "Refurb Paris", "--country", "FR"]) == 0
    capsys.readouterr()
    return workspace


def test_every_command_answers_hostile_values_in_one_line(shop, capsys) -> None:  # type: ignore[no-untyped-def]
    problems = []
    commands = list(leaf_commands())
    assert len(commands) > 50
    for path, parser in commands:
        count = max(1, positionals(parser))
        for label, value in BAD_VALUES.items():
            argv = (
                [*path, *([value] * count), "--home", str(shop)]
                if "--home" in parser._option_string_actions
                else [*path, *([value] * count)]
            )
            code, err = call(capsys, argv)
            lines = [line for line in err.splitlines() if line.strip()]
            if "Traceback" in err or code == 70 or len(lines) > 1 or (code != 0 and not lines):
                problems.append(f"{' '.join(path)} [{label}] exit {code}: {err[-300:]!r}")
        for action in parser._actions:  # every whole-number option, given a number beyond 64 bits
            if action.type is int and action.option_strings:
                fill = ["x"] * positionals(parser)
                code, err = call(capsys, [*path, *fill, action.option_strings[0], BAD_VALUES["huge id"], "--home", str(shop)])
                if "Traceback" in err or code == 70 or len(err.splitlines()) > 1:
                    problems.append(f"{' '.join(path)} {action.option_strings[0]} [huge] exit {code}: {err[-300:]!r}")
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
