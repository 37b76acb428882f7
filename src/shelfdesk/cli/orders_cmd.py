"""``shelfdesk orders …``: harvest, list, show, act on, bulk-ship and export orders from scripts.

Every sub-command takes the workspace options and ``--json`` (machine output:
plain data, never a token). Actions are validated and queued in the outbox,
then sent at once unless ``--no-send`` is given (the console or the worker
sends them later). Exit codes: 0 done, 1 some order refused or failed,
2 bad input (with the reason on stderr).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import CHANNEL_HELP, UserFacingError, add_workspace_options
from shelfdesk.cli.setup_common import print_json as _print_json
from shelfdesk.formatting import money, money_with_currency, short_when, when

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.orders.outbox import SendReport
    from shelfdesk.orders.queries import OrderFilter

STATUSES = ("New", "InProgress", "Canceled", "Shipped", "Closed", "Undefined", "NotProvided")


def configure(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_workspace_options(common)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    sub = parser.add_subparsers(dest="orders_command", metavar="action", required=True)

    def add(name: str, help_text: str, run: Callable[[AppContext, argparse.Namespace], int]) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        cmd.set_defaults(_orders_run=run)
        return cmd

    p = add("sync", "harvest orders (all accounts, or one store/channel), then send queued actions", _sync)
    p.add_argument("store", nargs="?", help="store name or id")
    p.add_argument("channel", nargs="?", help=CHANNEL_HELP)
    p.add_argument("--no-send", action="store_true", help="only harvest; leave queued actions for later")

    p = add("list", "list orders, newest first (keyset paged)", _list)
    add_filter_options(p)
    p.add_argument("--limit", type=int, default=50, help="rows per page (max 500)")
    p.add_argument("--cursor", help="continue after this cursor (printed as 'next' by the previous page)")
    p.add_argument(
        "--exact-counts",
        action="store_true",
        help="count every status exactly (otherwise counts stop at "
        "1,000, shown '1,000+' and listed in counts_at_least: exact counts of a million orders take 0.3 s)",
    )
    p.add_argument("--wide", action="store_true", help="every column in full, whatever the terminal's width")

    p = add("show", "one order in full: lines, deadlines, history, actions", _show)
    p.add_argument("order", help="marketplace order id (or #id)")
    p.add_argument("--payload", action="store_true", help="also print the marketplace's raw payload")

    p = add("accept", "accept orders (Leboncoin: confirm availability); --filter: every order matching", _action("accept"))
    p.add_argument("orders", nargs="*", metavar="ORDER")
    p.add_argument("--sku", action="append", default=[], help="only this line (per-line marketplaces); repeatable")
    _send_options(p)
    _all_matching(p)

    p = add("ship", "ship an order (Leboncoin: confirm shipping, tracking kept by shelfdesk)", _action("ship"))
    _ship_options(p)

    p = add("cancel", "cancel orders (the buyer is refunded); --filter: every order matching", _action("cancel"))
    p.add_argument("orders", nargs="*", metavar="ORDER")
    p.add_argument("--reason", help="why (Leboncoin: out_of_stock, item_damaged, buyer_request, other)")
    p.add_argument("--sku", action="append", default=[], help="only this line (per-line marketplaces); repeatable")
    _send_options(p)
    _all_matching(p)

    p = add("confirm-availability", "Leboncoin: confirm availability (within 3 days of payment)", _action("confirm_availability"))
    p.add_argument("orders", nargs="+", metavar="ORDER")
    _send_options(p)

    p = add("confirm-shipping", "Leboncoin: confirm shipping (within 72 h)", _action("confirm_shipping"))
    _ship_options(p)

    p = add("bulk-ship", "ship orders from a CSV file (order_id, carrier, tracking_number[, imei, serial_number, sku])", _bulk_ship)
    p.add_argument("file", type=Path)
    p.add_argument("--yes", action="store_true", help="queue and send the valid rows (without it: preview only)")
    p.add_argument("--no-send", action="store_true", help="queue only; the console or the worker sends")

    p = add("export", "export the filtered orders to CSV (one row per line; spreadsheet-safe; no tokens)", _export)
    p.add_argument("file", type=Path)
    add_filter_options(p)

    p = add("actions", "the outbox: pending and failed order actions", _actions)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--failed", action="store_true", help="only failed actions (to retry or dismiss)")
    group.add_argument("--retry", type=int, metavar="ID", help="put a failed action back in the queue")
    group.add_argument("--dismiss", type=int, metavar="ID", help="give up a failed action")
    group.add_argument("--send", action="store_true", help="send every queued action now (resumes after a crash)")
    p.add_argument("--limit", type=int, default=100)


def add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--store", help="store name or id")
    p.add_argument("--channel", help=CHANNEL_HELP)
    p.add_argument("--after", metavar="DATE", help="purchased on or after (YYYY-MM-DD or ISO time, UTC)")
    p.add_argument("--before", metavar="DATE", help="purchased before (YYYY-MM-DD or ISO time, UTC)")
    p.add_argument(
        "--search", default="", help="words, each the start of a word of the order id, buyer name or e-mail ('mart' finds Camille Martin)"
    )
    p.add_argument("--invoiced", choices=("yes", "no"), help="only orders with an invoice (not credited), or without one")


def _all_matching(p: argparse.ArgumentParser) -> None:
    """The console's "mark all matching" (*) then a bulk key: the same filter, kept as a filter."""
    p.add_argument(
        "--filter",
        action="store_true",
        help="act on every order matching the filter options below (instead of naming orders), in one batch",
    )
    p.add_argument("--yes", action="store_true", help="with --filter: do not ask for confirmation")
    add_filter_options(p)


def _send_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-send", action="store_true", help="queue only; the console or the worker sends")


def _ship_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("orders", nargs=1, metavar="ORDER")
    p.add_argument("--tracking", dest="tracking_number", help="tracking number")
    p.add_argument("--carrier", help="carrier (Colissimo, UPS …)")
    p.add_argument("--tracking-url", help="tracking page URL")
    p.add_argument("--note", help="note kept with the order")
    p.add_argument("--imei", action="append", default=[], help="IMEI (15 digits, Luhn), one per unit; SKU=IMEI names the line")
    p.add_argument("--serial", action="append", default=[], help="serial number, one per unit; SKU=SERIAL names the line")
    _send_options(p)


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.orders.errors import OrderError

    with workspace(args, OrderError) as ctx:
        return int(args._orders_run(ctx, args))


# ---------------------------------------------------------------------- output


# ---------------------------------------------------------------------- filters


def parse_date(text: str | None, what: str) -> datetime | None:
    """A date option (``--after``); a bad one is one line on stderr naming the option."""
    from shelfdesk.orders.errors import OrderError
    from shelfdesk.orders.queries import parse_time

    try:
        return parse_time(text, what)
    except OrderError as exc:
        raise UserFacingError(str(exc)) from None


def order_filter(ctx: AppContext, args: argparse.Namespace) -> OrderFilter:
    """The orders the filter options select (``--status``, ``--store``, ``--search`` …)."""
    from shelfdesk.orders.queries import make_filter

    return make_filter(
        ctx,
        status=args.status,
        store=args.store,
        channel=args.channel,
        after=args.after,
        before=args.before,
        search=args.search or "",
        invoiced=None if not getattr(args, "invoiced", None) else args.invoiced == "yes",
    )


# ---------------------------------------------------------------------- commands


def _sync(ctx: AppContext, args: argparse.Namespace) -> int:
    """Harvest under the schedules' leases (a worker's harvest of the same account is never doubled), then send."""
    import asyncio

    from shelfdesk.jobs.manual import harvest_now, runner_key
    from shelfdesk.jobs.runner import JobRunner
    from shelfdesk.orders.outbox import send_pending

    runs = asyncio.run(harvest_now(ctx, runner_key(JobRunner(ctx, role="cli")), store=args.store, channel=args.channel))
    report = None if args.no_send else send_pending(ctx, max_wait=30)
    if args.json:
        _print_json({"harvests": [m.as_dict() for m in runs], "actions": _report_data(report)})
    else:
        if not runs:
            print("no channel manages orders yet (or none matches)")
        for m in runs:
            r = m.result
            if r is None:
                print(m.error)
            elif r.ok:
                print(
                    f"{r.account}: {r.fetched} fetched in {r.pages} page(s), {len(r.stored.created)} new, "
                    f"{len(r.stored.updated)} updated, {r.stored.unchanged} unchanged, "
                    f"{r.auto_accepted} auto-accepted, {r.held} held"
                )
            else:
                print(f"{r.account}: FAILED, watermark kept: {r.error}")
        if report is not None:
            _print_report(report)
    failed = any(m.failed for m in runs)
    return 1 if failed or (report is not None and bool(report.failed)) else 0


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.orders.queries import QUICK_COUNT, count_by_status, describe_count, format_cursor, list_orders, parse_cursor

    if args.limit < 1:  # the query would quietly list one row
        raise UserFacingError(f"--limit {args.limit}: give the rows per page, from 1 to 500")
    flt = order_filter(ctx, args)
    after = parse_cursor(args.cursor) if args.cursor else None
    page = list_orders(ctx, flt, after=after, limit=args.limit)
    bound = None if args.exact_counts else QUICK_COUNT
    counts = count_by_status(ctx, flt, at_most=bound)
    cursor = format_cursor(page.last) if page.has_next and page.last else None
    if args.json:
        _print_json(
            {
                "filter": flt.as_dict(),
                "counts": {k.value: v for k, v in counts.items()},
                "counts_at_least": sorted(k.value for k, v in counts.items() if bound is not None and v >= bound),
                "orders": page.rows,
                "next": cursor,
            }
        )
        return 0
    print("  ".join(f"{s.value} {describe_count(n, bound)}" for s, n in counts.items() if n) or "no orders")
    width = shutil.get_terminal_size((80, 24)).columns
    for r in page.rows:
        print(_wide_line(r) if args.wide else _fitted_line(r, width))
    if not args.wide and page.rows and any(len(_wide_line(r)) > width for r in page.rows):
        print(f"(fitted to {width} columns; --wide shows every column in full)")
    if cursor:
        print(f"next page: --cursor {cursor}")
    return 0


def _wide_line(r: Any) -> str:
    sync = f" [{r.sync}]" if r.sync else ""
    return (
        f"{r.marketplace_order_id:<14} {r.marketplace:<10} {r.status.value:<10}{sync:<16} {when(r.purchased_at)}  "
        f"{(r.buyer_name or '—')[:22]:<22} {money_with_currency(r.total, r.currency):>12}  {r.channel}"
    )


def _fitted_line(r: Any, width: int) -> str:
    """One order in ``width`` columns: short date and channel code, the buyer's name takes what is left."""
    sync = {"synchronizing": "sync", "failed": "FAIL"}.get(r.sync, r.sync[:4]) if r.sync else ""
    total = money(r.total, r.currency)
    channel = r.channel_code or r.channel[:8]
    head = f"{r.marketplace_order_id:<14} {r.status.value:<10} {sync:<4} {short_when(r.purchased_at)}  "
    tail = f" {total:>10}  {channel}"
    room = max(6, width - len(head) - len(tail) - 1)
    return f"{head}{(r.buyer_name or '—')[:room]:<{room}}{tail}"


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.orders.detail import get_order_detail
    from shelfdesk.orders.store import format_address

    d = get_order_detail(ctx, args.order)
    if args.json:
        data = asdict(d)
        if not args.payload:
            data.pop("payload", None)
        data["sync"] = d.sync
        _print_json(data)
        return 0
    print(
        f"{d.marketplace} order {d.marketplace_order_id} (#{d.id})  {d.status} (marketplace: {d.marketplace_status})"
        + (f"  [{d.sync}]" if d.sync else "")
    )
    print(f"account {d.account} · channel {d.channel or '—'} · store {d.store or '—'} · country {d.country or '—'}")
    print(f"purchased {when(d.purchased_at)} · modified {when(d.modified_at)} · harvested {when(d.harvested_at)}")
    print(f"total {money_with_currency(d.total, d.currency)} (shipping {money_with_currency(d.shipping_price, d.currency)})")
    print(f"buyer {d.buyer_name or '—'} {d.buyer_email or ''} {d.buyer_phone or ''}".rstrip())
    print(
        f"ship to {format_address(d.shipping_address) or ('MISSING (accepted without an address)' if d.address_missing else 'not revealed yet')}"
    )
    if d.accept_by or d.ship_by:
        print(f"deadlines: accept by {when(d.accept_by)} · ship by {when(d.ship_by)}")
    if d.tracking_number or d.carrier:
        print(f"shipping: {d.carrier or '—'} {d.tracking_number or ''} {d.tracking_url or ''}".rstrip())
    if d.hold_reason:
        print(f"auto-accept held it: {d.hold_reason}")
    print("lines:")
    for l in d.lines:
        ident = " ".join(x for x in (f"IMEI {l.imei}" if l.imei else "", f"S/N {l.serial_number}" if l.serial_number else "") if x)
        print(
            f"  {l.sku or '—':<22} x{l.quantity}  {money_with_currency(l.unit_price, d.currency):>12}  {l.status.value:<10} {l.title or ''} {ident}".rstrip()
        )
    print("actions now: " + ", ".join(f"{c.kind}" + ("" if c.enabled else " (not now)") for c in d.choices))
    for a in d.actions:
        print(
            f"  action {a.id} {a.kind.value} {a.state.value} attempts {a.attempts} {a.summary}"
            + (f" — {a.last_error}" if a.last_error else "")
        )
    print("history:")
    for e in d.events[:20]:
        change = f"{e.old_value} → {e.new_value}" if e.old_value or e.new_value else ""
        print(f"  {when(e.at)} {e.source:<8} {e.kind:<16} {change} {e.message or ''}".rstrip())
    if args.payload:
        _print_json(d.payload)
    return 0


def _identifiers(args: argparse.Namespace) -> list[Any]:
    from shelfdesk.orders.validation import LineIdentifier

    result = []
    for name, values in (("imei", args.imei), ("serial_number", args.serial)):
        for value in values:
            sku, sep, code = value.partition("=")
            if not sep:
                sku, code = "", value
            result.append(LineIdentifier(**{name: code.strip()}, sku=sku.strip() or None))
    return result


def _action(requested: str) -> Callable[[AppContext, argparse.Namespace], int]:
    def run(ctx: AppContext, args: argparse.Namespace) -> int:
        from shelfdesk.orders.actions import enqueue_action
        from shelfdesk.orders.errors import ActionRefused, OrderNotFound
        from shelfdesk.orders.outbox import send_pending

        fields = {k: getattr(args, k, None) for k in ("tracking_number", "carrier", "tracking_url", "note", "reason")}
        identifiers = _identifiers(args) if hasattr(args, "imei") else []
        queued, refused = [], []
        if getattr(args, "filter", False):
            bulk = _queue_matching(ctx, args, requested, fields)
            if bulk is None:  # nothing matched, or the operator said no
                return 0
            queued = bulk.queued
            refused = [{"order": exc.order, "error": str(exc)} for exc in bulk.refused]
        elif not args.orders:
            raise UserFacingError(f"name the orders to {requested.replace('_', ' ')}, or give --filter with filter options")
        for reference in args.orders:
            try:
                queued.append(enqueue_action(ctx, reference, requested, fields, skus=getattr(args, "sku", []), identifiers=identifiers))
            except (ActionRefused, OrderNotFound) as exc:
                refused.append({"order": reference, "error": str(exc)})
        report = None
        if queued and not args.no_send:
            report = send_pending(ctx, action_ids={q.action_id for q in queued}, max_wait=60)
        if args.json:
            _print_json({"queued": queued, "refused": refused, "sent": _report_data(report)})
        else:
            for r in refused:
                print(f"refused: {r['error']}", file=sys.stderr)
            for q in queued:
                print(f"order {q.marketplace_order_id}: {q.summary} — {'queued' if q.created else 'already queued ' + q.state.value}")
            if report is not None:
                _print_report(report)
            elif queued:
                print("queued; the console or the worker will send it (or: shelfdesk orders actions --send)")
        if refused and not queued:
            return 2
        return 1 if refused or (report is not None and report.failed) else 0

    return run


def _queue_matching(ctx: AppContext, args: argparse.Namespace, requested: str, fields: dict[str, Any]) -> Any:
    """Queue ``requested`` on every order matching the filter, in one batch, as the console's bulk keys do.

    Asks first on a terminal (naming the count and a few orders) unless ``--yes``; None (said on stdout)
    when no order matches or the operator said no.
    """
    from shelfdesk.orders.actions import enqueue_bulk
    from shelfdesk.orders.queries import iter_order_ids, list_orders

    if args.orders or getattr(args, "sku", []):
        raise UserFacingError("--filter acts on every matching order: name no ORDER and no --sku with it")
    flt = order_filter(ctx, args)
    if flt.is_empty:
        raise UserFacingError(f"--filter needs at least one filter option (to {requested} every order, say --after 2000-01-01)")
    ids = [i for batch in iter_order_ids(ctx, flt) for i in batch]
    if not ids:
        if args.json:
            _print_json({"queued": [], "refused": [], "sent": None})
        else:
            print(f"no order matches {flt.as_dict()}: nothing queued")
        return None
    if not args.yes and sys.stdin.isatty():
        samples = [r.marketplace_order_id for r in list_orders(ctx, flt, limit=5).rows]
        more = f" and {len(ids) - len(samples):,} more" if len(ids) > len(samples) else ""
        answer = input(f"{requested.capitalize()} {len(ids):,} order(s) ({', '.join(samples)}{more})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing queued.")
            return None
    return enqueue_bulk(ctx, ids, requested, fields, batch_key=f"{requested}:{uuid.uuid4().hex[:12]}")


def _bulk_ship(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.orders.bulk import apply_bulk_ship, plan_as_dict, plan_bulk_ship
    from shelfdesk.orders.outbox import send_pending

    if not str(args.file).strip() or args.file.is_dir():
        raise UserFacingError(f"{str(args.file) or 'an empty path'}: give the CSV file to ship from, not a folder")
    if not args.file.exists():
        raise UserFacingError(f"{args.file}: no such file")
    if not args.yes:
        plan = plan_bulk_ship(ctx, args.file)
        if args.json:
            _print_json(plan_as_dict(plan))
        else:
            _print_plan(plan)
            print(f"preview only: add --yes to ship the {len(plan.valid)} valid order(s)")
        return 1 if plan.invalid else 0
    batch = f"bulk-ship:{uuid.uuid4().hex[:12]}"
    plan, queued = apply_bulk_ship(ctx, args.file, batch_key=batch)
    report = None if args.no_send or not queued.queued else send_pending(ctx, batch_key=batch, max_wait=60)
    if args.json:
        _print_json({**plan_as_dict(plan), "batch": batch, "queued": len(queued.queued), "sent": _report_data(report)})
    else:
        _print_plan(plan)
        print(f"batch {batch}: {len(queued.queued)} order(s) queued")
        if report is not None:
            _print_report(report)
    return 1 if plan.invalid or (report is not None and report.failed) else 0


def _print_plan(plan: Any) -> None:
    print(f"{plan.source}: {len(plan.valid)} order(s) to ship, {len(plan.invalid)} that cannot be")
    for item in plan.invalid:
        print(f"  {item.where}: order {item.order or '?'}: {item.error}")


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.orders.export import export_orders

    flt = order_filter(ctx, args)
    rows = export_orders(ctx, flt, args.file)
    if args.json:
        _print_json({"file": str(args.file), "rows": rows, "filter": flt.as_dict()})
    else:
        print(f"{rows:,} row(s) written to {args.file}")
    return 0


def _actions(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.domain import ActionState
    from shelfdesk.orders.actions import dismiss_action, list_actions, retry_action
    from shelfdesk.orders.outbox import send_pending

    if args.retry is not None or args.dismiss is not None:
        info = retry_action(ctx, args.retry) if args.retry is not None else dismiss_action(ctx, args.dismiss)
        report = send_pending(ctx, action_ids={info.id}, max_wait=60) if args.retry is not None else None
        if args.json:
            _print_json({"action": info, "sent": _report_data(report)})
        else:
            print(f"action {info.id} ({info.kind.value} on {info.marketplace_order_id}) is now {info.state.value}")
            if report is not None:
                _print_report(report)
        return 1 if report is not None and report.failed else 0
    if args.send:
        report = send_pending(ctx, max_wait=60)
        if args.json:
            _print_json(_report_data(report))
        else:
            _print_report(report)
        return 1 if report.failed else 0
    states: Sequence[ActionState] = (ActionState.failed,) if args.failed else (*[s for s in ActionState if s.is_open], ActionState.failed)
    actions = list_actions(ctx, states=states, limit=args.limit)
    if args.json:
        _print_json(actions)
        return 0
    if not actions:
        print("no failed actions" if args.failed else "the outbox is empty")
    for a in actions:
        print(
            f"{a.id:>6} {a.marketplace_order_id:<14} {a.kind.value:<20} {a.state.value:<13} attempts {a.attempts}  "
            f"{a.summary}" + (f" — {a.last_error}" if a.last_error else "")
        )
    return 0


def _report_data(report: SendReport | None) -> Any:
    if report is None:
        return None
    return {"recovered": report.recovered, "outcomes": report.outcomes}


def _print_report(report: SendReport) -> None:
    if report.recovered:
        print(f"{report.recovered} action(s) left in flight by a stopped sender were resumed (checked first)")
    for o in report.outcomes:
        print(f"order {o.marketplace_order_id}: {o.kind.value} {o.state.value}" + (f" — {o.message}" if o.message else ""))
    if not report.outcomes:
        print("nothing to send")
