"""The systemd unit in docs/ runs a command this shelfdesk accepts, and leaves time for the grace period."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from shelfdesk.cli import build_parser

UNIT = Path(__file__).resolve().parents[2] / "docs" / "shelfdesk-worker.service"


def test_the_unit_runs_the_worker_and_outwaits_its_grace() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(UNIT, encoding="utf-8")
    service = unit["Service"]
    program, *argv = shlex.split(service["ExecStart"])
    assert Path(program).name == "shelfdesk"
    args = build_parser().parse_args(argv)
    assert args.command == "worker" and args.grace == 30
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > args.grace  # systemd's SIGKILL comes after the grace period
    assert "SHELFDESK_HOME=" in service["Environment"]
