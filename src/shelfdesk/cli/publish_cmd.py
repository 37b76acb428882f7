"""``shelfdesk publish STORE CHANNEL``: publish (or plan, ``--dry-run``) one feed of a channel.

``--kind offers`` (the default) sends prices and quantities of what the
marketplace lists; ``--kind products`` creates what it does not list yet. A
channel's first publication is therefore two runs, products then offers: an
offers run skips the SKUs not listed yet and says how many ("12 SKUs not
listed yet: publish --feed products first"), which is not a failure.
``--mode update`` (the default) sends what changed since the last successful
publication, what failed last time and vanished SKUs at 0; ``--mode full``
(or ``--full``) sends everything. ``--dry-run`` prints the exact per-product
change the next real run would make, with counts, and sends nothing.
``--retry-failed ID`` re-publishes only the failed items of publication ID
(of one error group with ``--error KEY``).

Exit codes: 0 everything to send was sent (or skipped with a reason, or
planned by a dry run); 1 some items failed (refused by the marketplace or by
shelfdesk's own checks), were carried to the next run, or the run stopped;
2 refused before sending anything (bad input, a feed switched off; the reason
on stderr). ``shelfdesk publications errors ID --json`` lists the failed SKUs
by cause, for ``--only`` or ``--retry-failed``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import CHANNEL_HELP, UserFacingError, add_workspace_options
from shelfdesk.formatting import amount_text

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.publishing.engine import PublishResult


EPILOG = """A first publication is two runs, in this order:
  shelfdesk publish STORE CHANNEL --feed products   creates the listings the marketplace does not have
  shelfdesk publish STORE CHANNEL --feed offers     sends their prices and quantities
An offers run before the products run skips the SKUs not listed yet, and says so.

exit codes: 0 all sent (or skipped with a reason, or a dry run), 1 some items failed
(shelfdesk publications errors ID --json lists their SKUs by cause), 2 refused before sending."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_workspace_options(parser)
    parser.add_argument("store", help="store name or id")
    parser.add_argument("channel", help=CHANNEL_HELP)
    parser.add_argument(
        "--kind",
        "--feed",
        dest="kind",
        choices=("offers", "products"),
        default="offers",
        help="offers (prices and quantities, default) or products (new listings: the first run)",
    )
    parser.add_argument("--mode", choices=("update", "full"), default=None, help="update (default) or full")
    parser.add_argument("--full", action="store_true", help="same as --mode full")
    parser.add_argument("--dry-run", action="store_true", help="show what the run would send; send nothing")
    parser.add_argument("--only", nargs="+", metavar="SKU", help="publish only these SKUs (sent even if unchanged)")
    parser.add_argument("--retry-failed", type=int, metavar="ID", help="re-publish only the failed items of publication ID")
    parser.add_argument("--error", metavar="KEY", help="with --retry-failed: only the failed items of this error group")
    parser.add_argument("--limit", type=int, default=50, help="items listed by a dry run (0: all)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.publishing.errors import PublishError

    with workspace(args, PublishError) as ctx:
        return _publish(ctx, args)


def _publish(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.channels.errors import ChannelError
    from shelfdesk.domain import PublicationState
    from shelfdesk.orders.errors import NoCredential
    from shelfdesk.channel_refs import resolve_channel
    from shelfdesk.publishing.engine import publish_sync
    from shelfdesk.publishing.triage import failed_skus, get_publication

    channel_id = resolve_channel(ctx, args.channel, store=args.store).id
    kind, mode = args.kind, "full" if args.full else (args.mode or "update")
    only = list(args.only or [])
    if args.error and not args.retry_failed:
        raise UserFacingError("--error goes with --retry-failed ID")
    if args.retry_failed:
        previous = get_publication(ctx, args.retry_failed)
        if previous.channel_id != channel_id:
            raise UserFacingError(f"publication {args.retry_failed} is of {previous.store} / {previous.channel}, not of this channel")
        kind = str(previous.kind)
        only += failed_skus(ctx, args.retry_failed, args.error)
        if not only:
            raise UserFacingError(
                f"publication {args.retry_failed} has no failed items" + (f" in group {args.error!r}" if args.error else "")
            )
    try:
        result = publish_sync(ctx, channel_id, kind, mode, dry_run=args.dry_run, only_skus=only or None)
    except (ChannelError, NoCredential) as exc:
        print(f"shelfdesk: the publication failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        from shelfdesk.cli.setup_common import print_json as _print_json

        data = result.as_dict()
        data["next_step"] = _next_step(result)
        if args.dry_run and result.publication_id is not None:
            data["items"] = [_item_dict(i) for i in _items(ctx, result, 0)]
        _print_json(data)
    else:
        _print_result(ctx, result, args.limit if args.dry_run else 0)
    ok = (PublicationState.succeeded, PublicationState.skipped, PublicationState.dry_run)
    return 0 if result.state in ok else 1


def _next_step(result: PublishResult) -> str | None:
    """What the operator runs next when an offers run skipped SKUs the marketplace does not list yet."""
    from shelfdesk.publishing.plan import NOT_LISTED

    waiting = result.plan.skipped.get(NOT_LISTED, 0)
    if str(result.plan.kind) != "offers" or not waiting:
        return None
    noun = "SKU" if waiting == 1 else "SKUs"
    return f"{waiting:,} {noun} not listed yet: publish --feed products first"


def _items(ctx: AppContext, result: PublishResult, limit: int) -> list[Any]:
    from shelfdesk.publishing.triage import MAX_PAGE, list_items

    assert result.publication_id is not None
    out: list[Any] = []
    after = None
    while True:
        page = list_items(ctx, result.publication_id, after=after, limit=MAX_PAGE)
        out += page
        if len(page) < MAX_PAGE or (limit and len(out) >= limit):
            return out[:limit] if limit else out
        after = (None, page[-1].id)


def _item_dict(item: Any) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "action": str(item.action),
        "outcome": item.outcome_label(dry_run=True),
        "old_price": amount_text(item.old_price),
        "new_price": amount_text(item.new_price),
        "old_quantity": item.old_quantity,
        "new_quantity": item.new_quantity,
        "message": item.message,
    }


def _print_result(ctx: AppContext, result: PublishResult, limit: int) -> None:
    plan = result.plan
    channel = plan.channel
    head = f"Publication #{result.publication_id}" if result.publication_id else "Plan (read-only: not recorded)"
    print(f"{head} · {channel.label} · {plan.kind} · {plan.mode} · {result.state}")
    for warning in plan.warnings:
        print(f"  ! {warning}")
    c = result.counters
    if result.recovered and any(result.recovered.values()):
        r = result.recovered
        print(
            f"  earlier runs: {r['interrupted']} interrupted, {r['published']} confirmed, {r['failed']} failed, "
            f"{r['held']} still awaiting an answer"
        )
    print(
        f"  built {plan.built:,} · excluded {plan.excluded:,} · invalid {len(plan.invalid):,} · "
        f"to send {len(plan.to_send):,} · queued {len(plan.queued):,}"
        + (f" (quota {plan.quota:,} lines)" if plan.quota is not None else "")
    )
    if plan.to_send:
        actions = ", ".join(f"{n:,} {a}" for a, n in plan.action_counts().items())
        priorities = ", ".join(f"{n:,} {p}" for p, n in plan.rank_counts().items())
        print(f"  {'would send' if result.state == 'dry_run' else 'sent'}: {actions} ({priorities})")
    if plan.queued:
        print(f"  carried to the next run: {', '.join(f'{n:,} {p}' for p, n in plan.rank_counts(plan.queued).items())}")
    for reason, n in plan.skipped.most_common():
        print(f"  skipped {n:,}: {reason}")
    step = _next_step(result)
    if step:
        print(f"  {step}")
    if result.state != "dry_run" and c:
        print(
            f"  outcome: {c.get('succeeded', 0):,} published ({c.get('warnings', 0):,} with warnings), "
            f"{c.get('failed', 0):,} failed, {c.get('pending', 0):,} awaiting the marketplace"
        )
    if result.error:
        print(f"  stopped: {result.error}")
    if limit >= 0 and result.publication_id is not None and str(result.state) == "dry_run":
        items = _items(ctx, result, limit)
        for item in items:
            change = item.change_text() or (item.message or "")
            print(f"  {item.outcome_label(dry_run=True):<11} {item.action:<6} {item.sku:<28} {change}")
        shown = len(items)
        total = len(plan.to_send) + len(plan.queued) + len(plan.invalid) + len(plan.held)
        if limit and total > shown:
            print(f"  … and {total - shown:,} more (--limit 0 lists them all)")
    if result.publication_id and (c.get("failed") or c.get("invalid")):
        print(f"  errors by cause: shelfdesk publications errors {result.publication_id}")
