"""``shelfdesk status [--json]``: sync health per channel and every alert, for people and monitoring.

Per channel: last harvest (when, outcome), next harvest, how far behind the
marketplace orders are (lag), last offers and products publications,
failures in a row, token expiry. Then the workspace-wide jobs and the alerts.

Exit codes, so it can feed a monitoring check (Nagios, systemd timers, cron
mail): 0 nothing critical, 1 at least one critical alert (a rejected or
expired token, a job failing three times in a row or silent for three of its
intervals, failed order actions …) or at least one deadline missed (counted
afresh from the deadline clock, as ``shelfdesk due`` lists them). ``--json``
prints the same as plain data (``overdue`` and ``deadlines``, the counts per
urgency, among them), never a credential. It only reads: safe with ``--read-only``.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta

from shelfdesk.cli import add_workspace_options


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts and monitoring")


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.jobs.health import health_dict, sync_health
    from shelfdesk.jobs.schedules import ensure_schedules

    with workspace(args) as ctx:
        if not ctx.read_only:
            ensure_schedules(ctx)  # a channel set up since any scheduler ran has its jobs already
        health = sync_health(ctx)
        home = ctx.paths.home
    if args.json:
        print(json.dumps(health_dict(health), indent=2, ensure_ascii=False))
    else:
        print("\n".join(render(health)))
        if not health.channels:
            print(demo_hint(home))
    return 1 if health.critical or health.overdue else 0


def demo_hint(home: object) -> str:
    """An empty workspace: where it is, and how to reach the demo when one exists."""
    from pathlib import Path

    from shelfdesk import paths as where

    demo = where.demo_home()
    text = f"This workspace is {home}."
    if Path(str(home)).resolve() != demo.resolve() and (demo / "shelfdesk.db").exists():
        text += f" The demo is in {demo}: shelfdesk status --home {demo}, or shelfdesk --home {demo} for the console."
    return text


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    return f"{value:%Y-%m-%d %H:%M} ({_span(now - value)} ago)" if value <= now else f"{value:%Y-%m-%d %H:%M}"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def render(health: object) -> list[str]:
    """The text report (one block per channel, then workspace jobs, then alerts)."""
    from shelfdesk.jobs.display import outcome_word
    from shelfdesk.jobs.health import SyncHealth

    assert isinstance(health, SyncHealth)
    now = health.checked_at
    lines = [f"shelfdesk sync health at {now:%Y-%m-%d %H:%M} UTC"]
    if not health.channels:
        lines.append("No channels yet: add one with `shelfdesk channel add`.")
    for ch in health.channels:
        lines.append("")
        lines.append(f"{ch.name} ({ch.marketplace}, account {ch.account})" + ("" if ch.enabled else " [disabled]"))
        harvest = ch.harvest
        if harvest is None:
            lines.append("  harvest       not scheduled (orders off for this account)")
        else:
            last = harvest.last_finished
            when = _ago(last.started_at, now) + f" {outcome_word(last.outcome)}" if last else "never"
            nxt = harvest.next_run(now)
            lines.append(f"  last harvest  {when}")
            lines.append(f"  next harvest  {'paused' if harvest.schedule.paused else _ago(nxt, now) if nxt else 'off'}")
        lag = ch.lag(now)
        lines.append(f"  orders lag    {_span(lag) if lag is not None else 'never harvested'}")
        for pub in ch.publications:
            failed = f", {pub.failed} of {pub.total} failed" if pub.failed else ""
            lines.append(f"  {pub.kind:<13} {pub.state} {_ago(pub.finished_at or pub.started_at, now)}{failed}")
        if not ch.publications:
            lines.append("  publications  none yet")
        lines.append(f"  failures      {ch.failures_in_a_row} in a row")
        if ch.token_error:
            lines.append(f"  token         REJECTED: {ch.token_error}")
        elif ch.token_expires_at is not None:
            days = (ch.token_expires_at - now).days
            lines.append(
                f"  token         expires {ch.token_expires_at:%Y-%m-%d} (in {days} days)"
                if days >= 0
                else f"  token         EXPIRED on {ch.token_expires_at:%Y-%m-%d}"
            )
        else:
            lines.append("  token         no expiry known")
    if health.workspace_jobs:
        lines.append("")
        lines.append("Workspace jobs")
        for row in health.workspace_jobs:
            last = row.last_finished
            state = (
                "paused"
                if row.schedule.paused
                else f"last {_ago(last.started_at, now)} {outcome_word(last.outcome)}"
                if last
                else "never run"
            )
            lines.append(f"  {row.schedule.job:<12} {state}, {row.failures_in_a_row} failure(s) in a row")
    stock = health.stock or {}
    if stock.get("channels"):
        lines.append("")
        age = stock.get("oldest_unpushed_age_seconds")
        lines.append(
            "Stock pusher  "
            + (
                f"{stock['waiting']:,} quantity update(s) waiting, oldest {_span(timedelta(seconds=age))} ago"
                if age is not None
                else "nothing waiting"
            )
        )
    due = {u: n for u, n in (health.deadlines or {}).items() if n}
    if due:
        lines.append("")
        lines.append("Deadlines     " + ", ".join(f"{n} {u}" for u, n in due.items()) + " (shelfdesk due lists them)")
    lines.append("")
    if health.problems:
        lines.extend(f"PROBLEM  {problem}" for problem in health.problems)
    if not health.alerts:
        lines.append("No alerts.")
    for alert in health.alerts:
        lines.append(f"{str(alert.severity).upper():<9}{alert.message}")
    return lines
