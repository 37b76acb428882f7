"""``shelfdesk webhooks …``: push order and publication events to the merchant's own systems.

``add`` prints the subscription's signing secret once (never in ``--json``
output, never in the database or the logs; ``secret NAME`` shows it again on
request). ``deliver`` runs one delivery sweep now; the ``webhooks`` job of the
worker does the same continuously. Exit codes: 0 done, 1 a test or delivery
failed, 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from shelfdesk.cli import UserFacingError, add_workspace_options
from shelfdesk.cli.orders_cmd import parse_date
from shelfdesk.cli.setup_common import print_json as _print_json
from shelfdesk.formatting import when

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.webhooks.subscriptions import SubscriptionInfo


def configure(parser: argparse.ArgumentParser) -> None:
    from shelfdesk.webhooks.types import EVENT_TYPES

    common = argparse.ArgumentParser(add_help=False)
    add_workspace_options(common)
    common.add_argument("--json", action="store_true", help="print JSON for scripts (never the secret)")
    sub = parser.add_subparsers(dest="webhooks_command", metavar="action", required=True)

    def add(name: str, help_text: str, run: Callable[[AppContext, argparse.Namespace], int]) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        cmd.set_defaults(_webhooks_run=run)
        return cmd

    p = add("add", "subscribe a URL to events; prints the signing secret once", _add)
    p.add_argument("name", help="a short name, e.g. erp")
    p.add_argument("url", help="http(s) URL that receives the POSTs")
    p.add_argument("--events", default="all", help=f"comma-separated: {', '.join(EVENT_TYPES)} (default: all)")
    p.add_argument("--backfill-from", metavar="DATE", help="also deliver every event since this date (YYYY-MM-DD)")
    p.add_argument("--max-failures", type=int, default=10, help="failures in a row before pausing (default 10)")

    add("list", "subscriptions with their delivery health", _list)
    for name, help_text, run in (
        ("pause", "stop delivering (events keep queuing)", _pause),
        ("resume", "deliver again, oldest waiting event first", _resume),
        ("remove", "delete a subscription, its queue and log", _remove),
        ("secret", "print a subscription's signing secret", _secret),
    ):
        p = add(name, help_text, run)
        p.add_argument("name")

    p = add("test", "POST a signed ping now and show the answer", _test)
    p.add_argument("name")

    p = add("deliveries", "a subscription's queue and delivery log", _deliveries)
    p.add_argument("name")
    p.add_argument("--waiting", action="store_true", help="only deliveries not yet delivered")
    p.add_argument("--log", action="store_true", help="the attempt log (status code, duration, error) instead")
    p.add_argument("--limit", type=int, default=50)

    p = add("retry", "make every waiting delivery of a subscription due now (resumes it)", _retry)
    p.add_argument("name")

    p = add("replay", "deliver events again: one delivery, or everything since a date", _replay)
    p.add_argument("name")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--delivery", type=int, help="delivery id (see `deliveries`)")
    group.add_argument("--since", metavar="DATE", help="every event delivered since this date")

    add("deliver", "capture new events and send what is due now", _deliver)


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.secrets import SecretError
    from shelfdesk.webhooks.errors import WebhookError

    with workspace(args, WebhookError, SecretError) as ctx:
        return int(args._webhooks_run(ctx, args))


def _row(info: SubscriptionInfo) -> str:
    last = f"last ok {when(info.last_success_at)}"
    failing = f", {info.failures_in_a_row} failure(s) in a row" if info.failures_in_a_row else ""
    return (
        f"{info.name:<16} {info.health:<8} {info.pending:>5} waiting  {last}{failing}\n"
        f"{'':<16} {info.url}\n{'':<16} {', '.join(info.events)}" + (f"\n{'':<16} {info.paused_reason}" if info.paused_reason else "")
    )


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.subscriptions import add_subscription

    since = parse_date(args.backfill_from, "--backfill-from")
    info, secret = add_subscription(ctx, args.name, args.url, args.events, backfill_from=since, max_failures=args.max_failures)
    if args.json:
        _print_json(info)
        return 0
    print(_row(info))
    print(f"\nSigning secret (shown once; `shelfdesk webhooks secret {info.name}` shows it again):\n{secret}")
    if info.pending:
        print(f"{info.pending} past event(s) queued by the backfill.")
    return 0


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.subscriptions import list_subscriptions

    rows = list_subscriptions(ctx)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No subscription yet: shelfdesk webhooks add NAME URL")
    for info in rows:
        print(_row(info))
    return 0


def _state_change(change: Callable[..., SubscriptionInfo]) -> Callable[[AppContext, argparse.Namespace], int]:
    def run(ctx: AppContext, args: argparse.Namespace) -> int:
        info = change(ctx, args.name)
        if args.json:
            _print_json(info)
        else:
            print(_row(info))
        return 0

    return run


def _pause(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.subscriptions import pause_subscription

    return _state_change(pause_subscription)(ctx, args)


def _resume(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.subscriptions import resume_subscription

    return _state_change(resume_subscription)(ctx, args)


def _remove(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.subscriptions import remove_subscription

    remove_subscription(ctx, args.name)
    print(f"removed {args.name}") if not args.json else _print_json({"removed": args.name})
    return 0


def _secret(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.subscriptions import reveal_secret

    if args.json:
        raise UserFacingError("the secret is never printed as JSON; run without --json")
    print(reveal_secret(ctx, args.name))
    return 0


def _test(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.delivery import send_test

    result = send_test(ctx, args.name)
    if args.json:
        _print_json(result)
    else:
        outcome = "delivered" if result.ok else f"failed: {result.error}"
        print(f"ping {outcome} (HTTP {result.status_code or '—'}, {result.duration_ms} ms)")
    return 0 if result.ok else 1


def _deliveries(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.delivery import list_attempts, list_deliveries

    if args.log:
        attempts = list_attempts(ctx, args.name, limit=args.limit)
        if args.json:
            _print_json(attempts)
            return 0
        for a in attempts:
            status = a.status_code or "—"
            print(
                f"{when(a.at)}  {'ok  ' if a.ok else 'FAIL'} {status!s:>4} {a.duration_ms:>6} ms  #{a.attempt} "
                f"{a.event_type:<22} {a.event_uid}" + (f"  {a.error}" if a.error else "")
            )
        return 0
    rows = list_deliveries(ctx, args.name, state="waiting" if args.waiting else None, limit=args.limit)
    if args.json:
        _print_json(rows)
        return 0
    for d in rows:
        due = f"delivered {when(d.delivered_at)}" if d.state == "delivered" else f"next {when(d.next_attempt_at)}"
        replay = f" replay {d.replay}" if d.replay else ""
        print(
            f"{d.id:>7} {d.state:<10} {d.event_type:<22} {d.ordering_key:<16} tries {d.attempts:<3} {due}{replay}"
            + (f"  {d.last_error}" if d.last_error and d.state != "delivered" else "")
        )
    return 0


def _retry(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.delivery import retry_now

    count = retry_now(ctx, args.name)
    _print_json({"due_now": count}) if args.json else print(f"{count} delivery(ies) due now")
    return 0


def _replay(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.delivery import replay, replay_since

    if args.delivery is not None:
        count = 1 if replay(ctx, args.delivery, subscription=args.name) else 0
    else:
        since = parse_date(args.since, "--since")
        assert since is not None
        count = replay_since(ctx, args.name, since)
    _print_json({"replayed": count}) if args.json else print(f"{count} event(s) queued again")
    return 0


def _deliver(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.webhooks.delivery import deliver_pending

    report = deliver_pending(ctx)
    if args.json:
        _print_json({**report.counts(), "paused": report.paused})
    else:
        print(
            f"{report.captured} event(s) captured, {report.delivered} delivered, {report.failed} failed"
            + (f"; paused: {', '.join(report.paused)}" if report.paused else "")
        )
    return 1 if report.failed else 0
