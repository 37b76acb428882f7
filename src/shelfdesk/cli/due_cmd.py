"""``shelfdesk due [--json]``: everything due before a marketplace penalises it, most urgent first.

Grouped by what to do (accept, confirm availability, ship, confirm shipping,
send a waiting action, renew a token), each with its time left and what
missing it costs; an order auto-accept left New says why. Exit codes as
``shelfdesk status``: 0 nothing overdue, 1 at least one item overdue. It only
reads: safe with ``--read-only``.
"""

from __future__ import annotations

import argparse
import json

from shelfdesk.cli import add_workspace_options


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts and monitoring")


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.services.deadlines import due_dict, list_due

    with workspace(args) as ctx:
        due = list_due(ctx)
    if args.json:
        print(json.dumps(due_dict(due), indent=2, ensure_ascii=False))
    else:
        print("\n".join(render(due)))
    return 1 if due.overdue else 0


def render(due: object) -> list[str]:
    """One block per kind of work (the most urgent block first), one line per item, most urgent first."""
    from shelfdesk.deadlines import Urgency, format_left
    from shelfdesk.services.deadlines import DueList

    assert isinstance(due, DueList)
    now = due.now
    counts = due.counts()
    lines = [
        f"Due at {now:%Y-%m-%d %H:%M} UTC: " + ", ".join(f"{n} {u}" for u, n in counts.items() if n)
        if due.items
        else f"Nothing due at {now:%Y-%m-%d %H:%M} UTC."
    ]
    groups: dict[str, list[str]] = {}
    for d in due.items:
        urgency = d.urgency(now)
        mark = "!" if urgency is Urgency.overdue else " "
        text = f" {mark}{format_left(d.left(now)):>12}  {d.reference:<20} by {d.due_at:%m-%d %H:%M} UTC"
        if d.note:
            text += f"  ({d.note})"
        groups.setdefault(str(d.kind), []).append(text)
    for kind, rows in groups.items():
        lines.append("")
        lines.append(f"{kind.capitalize()} ({len(rows)})")
        lines.extend(rows)
    return lines
