"""``shelfdesk publications list|show|errors|history``: the publication history and its errors.

``errors ID`` groups a publication's failed items by cause, largest first
(with ``--json``, each group's SKUs a page at a time: ``next`` is the cursor
for ``--error KEY --after CURSOR``), and ``--export FILE.csv`` writes them for
a spreadsheet (formula-safe, no tokens). Re-publish a group with ``shelfdesk publish STORE CHANNEL
--retry-failed ID --error KEY``. Every action takes ``--json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import CHANNEL_HELP, UserFacingError, add_workspace_options
from shelfdesk.formatting import when

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


def configure(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_workspace_options(common)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    sub = parser.add_subparsers(dest="publications_command", metavar="action", required=True)

    def add(name: str, help_text: str, run: Callable[[AppContext, argparse.Namespace], int]) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        cmd.set_defaults(_pub_run=run)
        return cmd

    p = add("list", "publications, newest first", _list)
    p.add_argument("--store", help="store name or id, where --channel is looked for")
    p.add_argument("--channel", help=CHANNEL_HELP)
    p.add_argument("--errors-only", action="store_true", help="only runs with failed or invalid items")
    p.add_argument("--limit", type=int, default=30)

    p = add("show", "one publication with its items", _show)
    p.add_argument("id", type=int)
    p.add_argument("--failed", action="store_true", help="only failed items")
    p.add_argument("--error", metavar="KEY", help="only items of this error group")
    p.add_argument("--sku", default="", help="only SKUs starting with this")
    p.add_argument("--limit", type=int, default=100)

    p = add("errors", "a publication's failed items grouped by cause, largest first, with their SKUs (--json)", _errors)
    p.add_argument("id", type=int)
    p.add_argument("--export", type=Path, metavar="FILE.csv", help="write the failed items to a CSV file")
    p.add_argument("--error", metavar="KEY", help="only this group (its key is printed with it)")
    p.add_argument(
        "--skus",
        type=int,
        default=100,
        metavar="N",
        help="SKUs listed per group with --json (default 100, at most 500); 'next' continues with --after",
    )
    p.add_argument("--after", type=int, metavar="CURSOR", help="with --error: the SKUs after this cursor ('next' of the previous page)")

    p = add("history", "what was published for one SKU, newest first", _history)
    p.add_argument("sku")
    p.add_argument("--limit", type=int, default=50)

    p = add("drift", "the marketplace's quantities and prices against what shelfdesk would send now", _drift)
    p.add_argument("store", help="store name or id")
    p.add_argument("channel", help="channel name, id or market")
    p.add_argument("--push", action="store_true", help="push the corrections (the stock pusher sends them)")


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.publishing.errors import PublishError

    with workspace(args, PublishError) as ctx:
        return int(args._pub_run(ctx, args))


def _json(data: Any) -> None:
    from shelfdesk.cli.setup_common import print_json as _print_json

    _print_json(data)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    return f"{seconds:.0f}s" if seconds < 600 else f"{seconds / 60:.0f}min"


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.channel_refs import resolve_channel
    from shelfdesk.publishing.triage import list_publications

    if args.store and not args.channel:
        raise UserFacingError("--store goes with --channel (it narrows which channel the name means)")
    channel_id = resolve_channel(ctx, args.channel, store=args.store).id if args.channel else None
    rows = list_publications(ctx, channel_id=channel_id, limit=args.limit, failed_only=args.errors_only)
    if args.json:
        _json(rows)
        return 0
    if not rows:
        print("No publications yet: shelfdesk publish STORE CHANNEL --dry-run shows what one would send.")
        return 0
    print(
        f"{'#':>5} {'started':16} {'channel':24} {'feed':8} {'mode':6} {'state':11} {'sent':>6} {'ok':>6} "
        f"{'failed':>6} {'invalid':>7} {'queued':>6} {'time':>6}"
    )
    for r in rows:
        print(
            f"{r.id:>5} {when(r.started_at):16} {r.channel[:24]:24} {r.kind:8} {r.mode:6} {r.state_label:11} "
            f"{r.sent:>6,} {r.succeeded:>6,} {r.failed:>6,} {r.invalid:>7,} {r.queued:>6,} {_duration(r.duration_seconds):>6}"
        )
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.publishing.triage import ItemFilter, count_items, get_publication, list_items

    pub = get_publication(ctx, args.id)
    flt = ItemFilter(failed_only=args.failed, error_key=args.error, sku=args.sku)
    items = list_items(ctx, args.id, flt, limit=args.limit)
    total = count_items(ctx, args.id, flt)
    if args.json:
        _json({"publication": pub, "items": items, "matching": total})
        return 0
    print(f"Publication #{pub.id} · {pub.store} / {pub.channel} · {pub.kind} · {pub.mode} · {pub.state_label}")
    sent_by = {"real-time": " · sent as real-time listing updates", "batch": " · sent in batches"}.get(pub.summary.get("path") or "", "")
    print(f"  started {when(pub.started_at)} by {pub.started_by or '—'} · {_duration(pub.duration_seconds)}{sent_by}")
    print(
        f"  built {pub.items_total:,} · excluded {pub.excluded:,} · invalid {pub.invalid:,} · sent {pub.sent:,} · "
        f"published {pub.succeeded:,} ({pub.warnings:,} warnings) · failed {pub.failed:,} · queued {pub.queued:,} · "
        f"skipped {pub.skipped:,}"
    )
    if pub.error:
        print(f"  {pub.error}")
    for task, result in (pub.summary.get("unread_task_results") or {}).items():
        print(f"  task {task}: its result could not be read, each SKU was read back instead; as sent: {str(result)[:200]}")
    for reason, n in (pub.summary.get("skipped") or {}).items():
        print(f"  skipped {n:,}: {reason}")
    print(f"  items: {total:,} matching" + (f", first {len(items)}" if total > len(items) else ""))
    for item in items:
        detail = item.change_text()
        note = item.message or item.warning or ""
        print(f"  {item.outcome_label(pub.dry_run):<16} {item.action:<6} {item.sku:<28} {detail}{'  ' if detail and note else ''}{note}")
    return 0 if pub.failed == 0 and pub.invalid == 0 else 1


def _errors(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.publishing.triage import cluster_skus, error_clusters, export_errors, get_publication

    pub = get_publication(ctx, args.id)
    if args.export:
        count = export_errors(ctx, args.id, args.export, error_key=args.error)
        if args.json:
            _json({"file": str(args.export), "rows": count})
        else:
            print(f"{count:,} failed items written to {args.export}")
        return 0
    if args.after is not None and not args.error:
        raise UserFacingError("--after pages one group's SKUs: give the group with --error KEY")
    clusters = [c for c in error_clusters(ctx, args.id) if args.error in (None, c.key)]
    if args.error and not clusters:
        raise UserFacingError(f"publication {args.id} has no failed items in group {args.error!r}")
    if args.json:
        data = []
        for c in clusters:
            skus, after = cluster_skus(ctx, args.id, c.key, after=args.after, limit=args.skus)
            data.append({**c.__dict__, "cause": c.cause, "label": c.label, "fix": c.fix, "skus": skus, "next": after})
        _json(data)
        return 0
    if not clusters:
        print(f"Publication #{pub.id} has no failed items.")
        return 0
    print(f"Publication #{pub.id} · {pub.store} / {pub.channel} · {pub.kind}: {sum(c.count for c in clusters):,} failed items")
    for c in clusters:
        origin = "refused before sending" if c.invalid == c.count else "refused by the marketplace" if not c.invalid else "mixed"
        print(f"  {c.count:>6,}  {c.cause}")
        print(f"          group {c.key} · {origin} · fix: {c.fix}")
    print(f"Re-publish one group once fixed: shelfdesk publish {pub.store!r} {pub.channel!r} --retry-failed {pub.id} --error KEY")
    return 0


def _history(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.publishing.triage import product_history

    rows = product_history(ctx, args.sku, limit=args.limit)
    if args.json:
        _json(rows)
        return 0
    if not rows:
        print(f"SKU {args.sku} was never part of a publication.")
        return 0
    for r in rows:
        item = r.item
        print(
            f"{when(r.started_at)}  #{r.publication_id:<5} {r.channel[:22]:22} {r.kind:8} "
            f"{item.outcome_label(r.dry_run):<16} {item.change_text()}  {item.message or ''}"
        )
    return 0


def _drift(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.channel_refs import resolve_channel
    from shelfdesk.publishing.drift import check_drift_sync, push_corrections

    channel_id = resolve_channel(ctx, args.channel, store=args.store).id
    report = check_drift_sync(ctx, channel_id)
    pushed = push_corrections(ctx, channel_id, publication_id=report.publication_id) if args.push and report.drifts else 0
    if args.json:
        _json({**report.as_json(), "pushed": pushed})
        return 0
    print(
        f"{report.listed:,} listings read, {len(report.drifts):,} differ from what shelfdesk would send"
        + (f" (record #{report.publication_id})" if report.publication_id else "")
    )
    for d in report.drifts[:50]:
        parts = []
        if d.marketplace_quantity != d.expected_quantity and d.expected_quantity is not None:
            parts.append(f"quantity {d.marketplace_quantity} → {d.expected_quantity}")
        if d.expected_price is not None and d.marketplace_price != d.expected_price:
            parts.append(f"price {d.marketplace_price} → {d.expected_price}")
        print(f"  {d.sku}: {', '.join(parts)}")
    if pushed:
        print(f"{pushed:,} correction(s) queued for the stock pusher (sent within seconds)")
    elif report.drifts:
        print("--push sends the corrections")
    return 0
