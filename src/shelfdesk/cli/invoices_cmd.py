"""``shelfdesk invoices …``: issue, list, read, correct and export invoices; per-store settings.

Every sub-command takes the workspace options and ``--json``. ``generate``
takes order ids, or the same filters as ``shelfdesk orders list`` for bulk
runs (orders already invoiced are skipped). Exit codes: 0 done, 1 some order
was refused, 2 bad input (the reason on stderr; nothing was issued).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import UserFacingError, add_workspace_options
from shelfdesk.cli.orders_cmd import add_filter_options, order_filter, parse_date
from shelfdesk.cli.setup_common import print_json as _print_json
from shelfdesk.formatting import money_with_currency, when

if TYPE_CHECKING:
    from shelfdesk.context import AppContext
    from shelfdesk.invoices.service import InvoiceInfo


def configure(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_workspace_options(common)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    sub = parser.add_subparsers(dest="invoices_command", metavar="action", required=True)

    def add(name: str, help_text: str, run: Callable[[AppContext, argparse.Namespace], int]) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        cmd.set_defaults(_invoices_run=run)
        return cmd

    p = add("generate", "issue invoices: for the orders named, or for every order matching the filters", _generate)
    p.add_argument("orders", nargs="*", metavar="ORDER", help="marketplace order id (or #id)")
    p.add_argument("--filter", action="store_true", help="invoice every order matching the filter options below")
    add_filter_options(p)
    p.add_argument("--number", type=int, help="number of the invoice (one order): the next free one, or any start on an unused prefix")
    p.add_argument("--start", type=int, help="bulk: number of the first invoice (same rules as --number)")
    p.add_argument("--no-upload", action="store_true", help="do not queue the upload to the marketplace")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = add("list", "list invoices and credit notes, newest first", _list)
    p.add_argument("--order", help="only this order's")
    p.add_argument("--store", help="store name")
    p.add_argument("--kind", choices=("invoice", "credit_note"))
    p.add_argument("--since", metavar="DATE", help="issued on or after (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="issued before (YYYY-MM-DD)")
    p.add_argument("--search", help="part of the number or of the order id")
    p.add_argument("--limit", type=int, default=100)

    p = add("show", "one invoice: amounts, VAT per rate, upload state", _show)
    p.add_argument("invoice", help="invoice number (or #id)")
    p.add_argument("--html", action="store_true", help="print the HTML document instead")

    p = add("pdf", "write one invoice's PDF (or --html) to a file or folder", _pdf)
    p.add_argument("invoice", help="invoice number (or #id)")
    p.add_argument("path", type=Path, nargs="?", default=Path("."), help="file or folder (default: here)")
    p.add_argument("--html", action="store_true", help="write the HTML document instead")

    p = add("export", "write every invoice (PDF and HTML) and an invoices.csv summary into a folder", _export)
    p.add_argument("directory", type=Path)
    p.add_argument("--format", action="append", choices=("pdf", "html"), help="only this format (repeatable)")
    p.add_argument("--store", help="store name")
    p.add_argument("--since", metavar="DATE", help="issued on or after (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="issued before (YYYY-MM-DD)")

    p = add("credit", "issue the credit note that cancels an invoice (the invoice itself never changes)", _credit)
    p.add_argument("invoice", help="invoice number (or #id)")
    p.add_argument("--reason", required=True, help="why; printed on the credit note")

    p = add("upload", "queue (again) the upload of an invoice to its marketplace", _upload)
    p.add_argument("invoice", help="invoice number (or #id)")

    p = add("settings", "show or change a store's invoice settings", _settings)
    p.add_argument("store", nargs="?", help="store name or id (default: list every store)")
    p.add_argument("--edit", action="store_true", help="edit every setting, header and footer in $EDITOR")
    p.add_argument("--language", choices=("fr", "en"))
    p.add_argument("--product-vat", dest="product_vat_rate", metavar="RATE", help="VAT rate of products, percent")
    p.add_argument("--shipping-vat", dest="shipping_vat_rate", metavar="RATE", help="VAT rate of shipping, percent")
    p.add_argument("--prefix", help="invoice number prefix, e.g. F2026-")
    p.add_argument("--digits", dest="number_digits", type=int, help="zero-padding of numbers (default 5)")
    p.add_argument("--next-number", type=int, help="where numbering starts (only while the prefix has no invoice)")
    p.add_argument("--seller-name", help="legal name of the seller")
    p.add_argument("--seller-address", help="address; use \\n between lines")
    p.add_argument("--vat-number", dest="seller_vat_number", help="seller's VAT number")
    p.add_argument("--registration", dest="seller_registration", help="company registration (SIRET, RCS …)")
    p.add_argument("--header-file", type=Path, help="HTML file for the header (sanitized)")
    p.add_argument("--footer-file", type=Path, help="HTML file for the footer (sanitized)")
    p.add_argument(
        "--upload",
        dest="upload",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="queue uploads where the marketplace takes invoices",
    )


def run(args: argparse.Namespace) -> int:
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.invoices.errors import InvoiceError
    from shelfdesk.orders.errors import OrderError

    with workspace(args, InvoiceError, OrderError) as ctx:
        return int(args._invoices_run(ctx, args))


def _line(info: InvoiceInfo) -> str:
    extra = ""
    if info.credited_number:
        extra = f"  cancels {info.credited_number}"
    elif info.credited_by:
        extra = f"  cancelled by {info.credited_by}"
    upload = f"  upload {info.upload_state}" if info.upload_state else ""
    return (
        f"{info.number:<14} {'credit' if info.kind == 'credit_note' else 'invoice':<8} {when(info.issued_at)}  "
        f"{info.marketplace_order_id:<14} {money_with_currency(info.total, info.currency):>14}{extra}{upload}"
    )


# ---------------------------------------------------------------------- generate


def _generate(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices import service

    upload = False if args.no_upload else None
    if args.filter == bool(args.orders):
        raise UserFacingError("name the orders to invoice, or give --filter with filter options (not both)")
    if len(args.orders) == 1 and not args.filter:
        return _generate_one(ctx, args, upload)
    if args.number is not None:
        raise UserFacingError("--number is for one order; use --start for the first of several")
    with ctx.read_session() as session:
        if args.filter:
            from shelfdesk.orders.queries import iter_order_ids

            ids = [i for batch in iter_order_ids(ctx, order_filter(ctx, args)) for i in batch]
        else:
            ids = [service.find_order(session, ref).id for ref in args.orders]
    if not ids:
        print("No order matches." if not args.json else "", end="\n" if not args.json else "")
        if args.json:
            _print_json({"issued": [], "skipped": [], "failed": []})
        return 0
    if not args.yes and sys.stdin.isatty():
        answer = input(f"Issue invoices for {len(ids)} order(s) (already invoiced ones are skipped)? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Nothing issued.")
            return 0

    def progress(done: int, total: int, failed: int, message: str) -> None:
        if not args.json:
            print(f"\r{done}/{total} done, {failed} failed  ", end="", file=sys.stderr, flush=True)

    report = service.generate_bulk(ctx, ids, start_number=args.start, upload=upload, progress=progress)
    if args.json:
        _print_json(
            {
                "issued": report.issued,
                "skipped": [{"order_id": o, "why": w} for o, w in report.skipped],
                "failed": [{"order_id": o, "why": w} for o, w in report.failed],
            }
        )
    else:
        print(file=sys.stderr)
        for info in report.issued:
            print(_line(info))
        for _, why in report.skipped:
            print(f"skipped: {why}")
        for _, why in report.failed:
            print(f"refused: {why}")
        print(f"{len(report.issued)} issued, {len(report.skipped)} skipped, {len(report.failed)} refused.")
    return 1 if report.failed else 0


def _generate_one(ctx: AppContext, args: argparse.Namespace, upload: bool | None) -> int:
    from shelfdesk.invoices import service

    number = args.number
    if not args.yes and sys.stdin.isatty():
        preview = service.preview_invoice(ctx, args.orders[0])
        rates = ", ".join(f"{rate.normalize():f} %: {vat}" for rate, vat in preview.rates)
        print(
            f"Order {preview.marketplace_order_id} ({preview.store_name}): total {money_with_currency(preview.total, preview.currency)}, "
            f"excl. VAT {preview.total_net}, VAT {preview.total_vat} ({rates})"
        )
        hint = "any number (new prefix)" if not preview.prefix_in_use else "Enter"
        answer = input(f"Issue as {preview.number}? [Enter = yes, n = no, or a number: {hint}] ").strip().lower()
        if answer in ("n", "no"):
            print("Nothing issued.")
            return 0
        if answer and answer not in ("y", "yes"):
            if not answer.isdigit():
                raise UserFacingError(f"{answer!r} is not a number")
            number = int(answer)
    info = service.generate_invoice(ctx, args.orders[0], number=number, upload=upload)
    if args.json:
        _print_json(info)
    else:
        print(_line(info))
    return 0


# ---------------------------------------------------------------------- reading


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices import service

    rows = service.list_invoices(
        ctx,
        order=args.order,
        store=args.store,
        kind=args.kind,
        since=parse_date(args.since, "--since"),
        until=parse_date(args.until, "--until"),
        search=args.search,
        limit=args.limit,
    )
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No invoice yet.")
    for info in rows:
        print(_line(info))
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices import service

    detail = service.get_invoice(ctx, args.invoice)
    if args.html:
        print(detail.html)
        return 0
    if args.json:
        _print_json({"invoice": detail.info, "document": detail.document, "pdf_bytes": detail.pdf_size, "pdf_sha256": detail.pdf_sha256})
        return 0
    info, doc = detail.info, detail.document
    print(_line(info))
    print(f"  order {info.marketplace_order_id} ({info.marketplace}), store {info.store_name or '—'}")
    print(f"  buyer {doc['buyer']['name']}")
    for line in doc["lines"]:
        label = line["description"] or line["kind"]
        print(f"  {line['quantity']:>3} × {label[:40]:<40} {line['gross']:>10}  (excl. VAT {line['net']}, VAT {line['rate']} %)")
    for rate in doc["rates"]:
        print(f"  VAT {rate['rate']} %: base {rate['net']}, VAT {rate['vat']}")
    print(f"  total excl. VAT {doc['total_net']}, VAT {doc['total_vat']}, total {doc['total']} {info.currency}")
    if info.upload_state:
        print(f"  upload: {info.upload_state}" + (f" ({info.upload_error})" if info.upload_error else ""))
    print(f"  PDF {detail.pdf_size} bytes, sha256 {detail.pdf_sha256}")
    return 0


def _pdf(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices import service

    target = service.write_invoice(ctx, args.invoice, args.path, fmt="html" if args.html else "pdf")
    if args.json:
        _print_json({"file": str(target)})
    else:
        print(target)
    return 0


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices import service

    files = service.export_invoices(
        ctx,
        args.directory,
        formats=tuple(args.format or ("pdf", "html")),
        store=args.store,
        since=parse_date(args.since, "--since"),
        until=parse_date(args.until, "--until"),
    )
    if args.json:
        _print_json({"files": [str(f) for f in files]})
    else:
        print(f"{len(files) - 1} file(s) and invoices.csv written to {args.directory}")
    return 0


# ---------------------------------------------------------------------- changes


def _credit(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices import service

    info = service.credit_invoice(ctx, args.invoice, args.reason)
    if args.json:
        _print_json(info)
    else:
        print(_line(info))
    return 0


def _upload(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices.service import queue_upload_for

    action_id = queue_upload_for(ctx, args.invoice)
    if args.json:
        _print_json({"action_id": action_id})
    else:
        print(f"upload queued as action {action_id}; `shelfdesk orders actions --send` sends it now")
    return 0


SETTING_OPTIONS = (
    "language",
    "product_vat_rate",
    "shipping_vat_rate",
    "prefix",
    "number_digits",
    "next_number",
    "seller_name",
    "seller_address",
    "seller_vat_number",
    "seller_registration",
    "upload",
)


def _settings(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.invoices import settings as invoice_settings

    if args.store is None:
        rows = invoice_settings.list_settings(ctx)
        if args.json:
            _print_json(rows)
        for info in rows if not args.json else ():
            state = "configured" if info.configured else "defaults"
            problems = info.problems()
            print(
                f"{info.store_name:<20} {info.language}  prefix {info.prefix!r} next {info.next_number}  "
                f"VAT {info.product_vat_rate.normalize():f} %/{info.shipping_vat_rate.normalize():f} %  {state}"
                + (f"  missing: {', '.join(problems)}" if problems else "")
            )
        return 0
    changes: dict[str, Any] = {k: getattr(args, k) for k in SETTING_OPTIONS if getattr(args, k) is not None}
    if "seller_address" in changes:
        changes["seller_address"] = changes["seller_address"].replace("\\n", "\n")
    for key, path in (("header_html", args.header_file), ("footer_html", args.footer_file)):
        if path is not None:
            changes[key] = path.read_text(encoding="utf-8")
    if args.edit:
        current = invoice_settings.get_settings(ctx, args.store)
        from shelfdesk.editor import EditorError, edit_text

        try:
            edited = edit_text(invoice_settings.settings_document(current), suffix=".toml")
        except EditorError as exc:
            raise UserFacingError(str(exc)) from None
        changes = {**invoice_settings.parse_settings_document(edited), **changes}
    info = invoice_settings.update_settings(ctx, args.store, changes) if changes else invoice_settings.get_settings(ctx, args.store)
    if args.json:
        _print_json(info)
        return 0
    document = invoice_settings.settings_document(info)
    print("\n".join(line for line in document.splitlines() if not line.startswith("#")))
    problems = info.problems()
    if problems:
        print(f"# cannot invoice yet: set {' and '.join(problems)}", file=sys.stderr)
    return 0
