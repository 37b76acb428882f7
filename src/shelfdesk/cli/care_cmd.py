"""``shelfdesk care …``: after-sales cases, their replies, problems, item transfers and refunds; returned stock.

Every sub-command takes the workspace options and ``--json``, and calls the
same service functions as the console's Care screen (:mod:`shelfdesk.services.care`).
Actions are queued in the outbox and sent by the worker (or the console);
``--send`` sends them at once and waits for the marketplace's answer. A refund
names its amount and buyer and asks before queuing (``--yes`` answers for
scripts; without a terminal it is required). Exit codes: 0 done, 1 an action
failed when sent, 2 bad input (the reason on stderr; nothing was queued).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import CHANNEL_HELP, UserFacingError
from shelfdesk.cli.setup_common import common_parser, print_json

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.services.care import CaseRow, QueuedAction


def configure(parser: argparse.ArgumentParser) -> None:
    from shelfdesk.services.care import PROBLEM_TYPES, RELEASE_TARGETS, TRANSFER_ACTIONS

    common = common_parser()
    sub = parser.add_subparsers(dest="care_command", metavar="action", required=True)

    def add(name: str, help_text: str, run: Callable[[AppContext, argparse.Namespace], int]) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        cmd.set_defaults(_care_run=run)
        return cmd

    def sends(p: argparse.ArgumentParser) -> None:
        p.add_argument("--send", action="store_true", help="send it now and wait for the marketplace (else the worker sends it)")

    p = add("list", "cases, what is due first", _list)
    p.add_argument("--state", choices=("open", "closed", "all"), default="all")
    p.add_argument("--channel", help=CHANNEL_HELP)
    p.add_argument("--search", help="part of the case or order id, the buyer, the SKU or the problem")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--refresh", action="store_true", help="harvest the cases first (within the day's Care budget)")

    p = add("show", "one case: its order, lines, invoice, refunds and every message on one timeline", _show)
    p.add_argument("case", help="the marketplace's case id (or #local-id)")
    p.add_argument("--download", type=int, metavar="ATTACHMENT", help="download this attachment into the workspace and print its path")

    p = add("reply", "queue a reply to the buyer", _reply)
    p.add_argument("case", help="the marketplace's case id (or #local-id)")
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--message", help="the reply's text")
    text.add_argument("--saved", metavar="NAME", help="a saved reply (see care replies)")
    text.add_argument("--text-file", type=Path, help="read the reply's text from a file ('-' for stdin)")
    p.add_argument("--language", default="fr", help="the saved reply's language (default fr)")
    p.add_argument("--attach", type=Path, action="append", default=[], help="a file to attach (repeat; at most 10 of 3 MB)")
    sends(p)

    p = add("problem", "queue a problem declaration on a case", _problem)
    p.add_argument("case", help="the marketplace's case id (or #local-id)")
    p.add_argument("--type", dest="problem_type", default="OTHER", type=str.upper, choices=PROBLEM_TYPES)
    p.add_argument("--message")
    p.add_argument("--attach", type=Path, action="append", default=[], help="a file to attach (required for some types)")
    sends(p)

    p = add("transfer", "queue an item transfer back to the buyer", _transfer)
    p.add_argument("case", help="the marketplace's case id (or #local-id)")
    p.add_argument("--carrier", required=True)
    p.add_argument("--tracking", required=True)
    p.add_argument("--action", type=str.upper, choices=TRANSFER_ACTIONS, help="what was done to the item")
    sends(p)

    p = add("refund", "refund a line: in full before shipping, in full or in part after", _refund)
    p.add_argument("case", help="the marketplace's case id (or #local-id), or order:ORDER-ID")
    p.add_argument("--line", help="the line's SKU or id (optional when there is one)")
    p.add_argument("--amount", help="amount to refund (after shipping only; default: all that is left)")
    p.add_argument("--reason", help="kept with the refund and printed on the credit note")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (required without a terminal)")
    sends(p)

    p = add("refunds", "refunds, newest first, with their credit notes", _refunds)
    p.add_argument("--order", help="only this order's (marketplace id)")
    p.add_argument("--limit", type=int, default=100)

    p = add("harvest", "harvest cases now (within the day's Care budget)", _harvest)
    p.add_argument("--force", action="store_true", help="do not wait for the poll interval (the budget still holds)")

    p = add("replies", "saved replies", _replies)
    p.add_argument("--language")

    p = add("save-reply", "create or replace a saved reply", _save_reply)
    p.add_argument("name")
    p.add_argument("--language", required=True)
    p.add_argument("--text", required=True)

    p = add("returned", "returned units waiting for inspection (or released ones)", _returned)
    p.add_argument("--store")
    p.add_argument("--state", choices=("to_inspect", "sellable", "written_off", "all"), default="to_inspect")

    p = add("release", "release a returned unit: back on sale, or written off", _release)
    p.add_argument("unit", type=int, help="the returned unit's id (see care returned)")
    p.add_argument("--to", required=True, choices=RELEASE_TARGETS)
    p.add_argument("--note")


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.services.care import CareError

    with workspace(args, CareError) as ctx:
        return int(args._care_run(ctx, args))


def _when(value: Any) -> str:
    return "-" if value is None else f"{value:%m-%d %H:%M}"


def _case_line(row: CaseRow) -> str:
    due = f"{row.due_what} by {_when(row.due_at)}" if row.due_at else "-"
    sync = " synchronizing" if row.synchronizing else ""
    return f"{row.case_id:<11} {row.state:<6} {row.channel:<6} {row.order_ref or '-':<12} {row.buyer[:18]:<18} {due:<20} {row.problem[:24]}{sync}"


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import harvest_care, list_cases

    if args.refresh:
        harvest_care(ctx, force=True)
    rows = list_cases(ctx, state=None if args.state == "all" else args.state, channel=args.channel, text=args.search, limit=args.limit)
    if args.json:
        print_json({"cases": rows})
        return 0
    if not rows:
        print("No case.")
    for row in rows:
        print(_case_line(row))
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import download_attachment, get_case

    if args.download is not None:
        path = download_attachment(ctx, args.download)
        print_json({"path": str(path)}) if args.json else print(path)
        return 0
    detail = get_case(ctx, args.case)
    if args.json:
        print_json(detail)
        return 0
    c = detail.case
    print(f"Case {c.case_id} ({c.state}) on order {c.order_ref or '?'} · {c.channel} · buyer {c.buyer} <{detail.buyer_email or ''}>")
    print(
        f"Problem: {c.problem or '-'} · wants: {c.resolution or '-'} · return label: {c.return_label or '-'} · invoice: {detail.invoice or '-'}"
    )
    if c.due_at:
        print(f"Due: {c.due_what} by {c.due_at:%Y-%m-%d %H:%M} UTC")
    for line in detail.lines:
        serial = line.imei or line.serial_number or ""
        refund = f" refunded {line.refunded}" if line.refunded else ""
        left = f" · refundable {line.refundable} (type {'/'.join(map(str, line.refund_types))})" if line.refund_types else ""
        print(f"  {line.sku or line.line_ref:<18} x{line.quantity} {line.unit_price} {line.currency} {line.status} {serial}{refund}{left}")
    print()
    for m in detail.timeline:
        state = f" [{m.state}]" if m.state else ""
        print(f"{m.at:%Y-%m-%d %H:%M} {m.sender:<10}{state} {m.body}")
        for a in m.attachments:
            print(f"    attachment {a.id}: {a.name}" + (f" ({a.local_path})" if a.local_path else ""))
    for r in detail.refunds:
        print(
            f"refund {r.amount} {r.currency} on {r.sku or r.line_ref or 'the order'} · {r.source} · {r.state}"
            + (f" · credit note {r.credit_note}" if r.credit_note else "")
        )
    return 0


def _sent(ctx: AppContext, args: argparse.Namespace, queued: QueuedAction) -> int:
    from shelfdesk.services.care import send_actions

    counts: dict[str, int] = {}
    if getattr(args, "send", False):
        counts = send_actions(ctx, {queued.action_id})
    if args.json:
        print_json({"queued": queued, "sent": counts})
    else:
        print(f"{'Queued' if queued.created else 'Already queued'}: {queued.summary} (action {queued.action_id})")
        if counts:
            print("Sent: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
    return 1 if counts.get("failed") else 0


def _reply(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import CareError, queue_reply, saved_replies

    if args.saved:
        found = [r for r in saved_replies(ctx, args.language) if r.name == args.saved]
        if not found:
            raise CareError(f"no saved reply {args.saved!r} in {args.language}")
        message = found[0].body
    elif args.text_file is not None:
        message = sys.stdin.read() if str(args.text_file) == "-" else args.text_file.read_text(encoding="utf-8")
    else:
        message = args.message
    return _sent(ctx, args, queue_reply(ctx, args.case, message, attachments=args.attach))


def _problem(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import queue_problem

    return _sent(ctx, args, queue_problem(ctx, args.case, args.problem_type, args.message, attachments=args.attach))


def _transfer(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import queue_transfer

    return _sent(ctx, args, queue_transfer(ctx, args.case, args.carrier, args.tracking, args.action))


def _refund(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import queue_refund, quote_refund

    quote = quote_refund(ctx, args.case, args.line, args.amount)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserFacingError(f"{quote.sentence()}: add --yes to confirm without a terminal")
        answer = input(f"{quote.sentence()}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Nothing refunded.")
            return 0
    return _sent(ctx, args, queue_refund(ctx, args.case, quote.line_ref, quote.amount, reason=args.reason))


def _refunds(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.care.cases import find_order_ref
    from shelfdesk.services.care import list_refunds

    order_id = None
    if args.order:
        with ctx.read_session() as session:
            order_id = find_order_ref(session, args.order).id
    rows = list_refunds(ctx, order_id=order_id, limit=args.limit)
    if args.json:
        print_json({"refunds": rows})
        return 0
    for r in rows:
        note = f"  credit note {r.credit_note}" if r.credit_note else ""
        print(
            f"{_when(r.created_at)} {r.order_ref:<12} {r.sku or r.line_ref or 'order':<18} {r.amount:>10} {r.currency} {r.source:<11} {r.state}{note}"
        )
    if not rows:
        print("No refund.")
    return 0


def _harvest(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import harvest_care

    results = harvest_care(ctx, force=args.force)
    if args.json:
        print_json({"accounts": results})
    else:
        for r in results:
            status = r.error or (
                f"{r.cases_new} new, {r.cases_updated} updated, {r.messages_new} new messages" if r.listed else "not due yet"
            )
            print(f"{r.account}: {status}" + (f" · {r.budget_note}" if r.budget_note else ""))
    return 1 if any(r.error for r in results) else 0


def _replies(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import saved_replies

    rows = saved_replies(ctx, args.language)
    if args.json:
        print_json({"replies": rows})
        return 0
    for r in rows:
        print(f"{r.language} {r.name}: {r.body[:70]}")
    return 0


def _save_reply(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import save_reply

    reply = save_reply(ctx, args.name, args.language, args.text)
    print_json({"reply": reply}) if args.json else print(f"Saved reply {reply.name} ({reply.language}).")
    return 0


def _returned(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import returned_units

    rows = returned_units(ctx, store=args.store, state=None if args.state == "all" else args.state)
    if args.json:
        print_json({"units": rows})
        return 0
    for u in rows:
        print(f"{u.id:>5} {u.store:<14} {u.sku:<20} x{u.quantity} {u.state:<11} order {u.order_ref or '-'} {_when(u.returned_at)}")
    if not rows:
        print("No returned unit.")
    return 0


def _release(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.care import release_returned

    unit = release_returned(ctx, args.unit, args.to, note=args.note)
    print_json({"unit": unit}) if args.json else print(f"Returned unit {unit.id} ({unit.sku} x{unit.quantity}) is now {unit.state}.")
    return 0
