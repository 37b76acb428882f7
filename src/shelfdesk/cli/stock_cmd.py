"""``shelfdesk stock set|import|safety|feed|show``: quantities by hand and by script, safety stock, feeds.

``set`` and ``import`` apply quantities as the console's key on a product's
line does (one service function, one audit row per call); the stock pusher
sends what changed within seconds. Unknown SKUs and unreadable lines are
refused by name and the rest applied; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from shelfdesk.cli.setup_common import common_parser, print_json, workspace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


def configure(parser: argparse.ArgumentParser) -> None:
    common = common_parser()
    sub = parser.add_subparsers(dest="stock_command", metavar="action", required=True)
    st = sub.add_parser(
        "set",
        help="set the stock of some SKUs",
        parents=[common],
        description="Set the stock of products of STORE (SKU=QUANTITY …); the stock pusher sends "
        "the new quantities to every channel within seconds.",
    )
    st.add_argument("store", help="store name or id")
    st.add_argument("assignments", nargs="+", metavar="SKU=QTY", help="e.g. IPH13-128=4")
    st.set_defaults(_stock_run=_set)
    im = sub.add_parser(
        "import",
        help="set stock from a CSV file or stdin",
        parents=[common],
        description="Set stock from a CSV with columns sku, quantity and optionally price "
        "(a header row, or those columns in that order); - reads stdin.",
    )
    im.add_argument("store", help="store name or id")
    im.add_argument("file", help="CSV file, or - for stdin")
    im.set_defaults(_stock_run=_import)
    sf = sub.add_parser(
        "safety",
        help="set the safety stock of a store or a channel",
        parents=[common],
        description="Units kept back from every marketplace: the store's default, or a channel's "
        "own (--channel; 'default' goes back to the store's). A product's mapped "
        "safety_stock column overrides both.",
    )
    sf.add_argument("store", help="store name or id")
    sf.add_argument("units", help="a whole number, or 'default' (with --channel)")
    sf.add_argument("--channel", help="channel name, id or market (e.g. fr-fr)")
    sf.set_defaults(_stock_run=_safety)
    fd = sub.add_parser(
        "feed",
        help="a store's scheduled catalog refresh and stock feed",
        parents=[common],
        description="Show or change how often the store's catalog source is fetched again "
        "(--catalog-every, default 15m) and its stock feed: a CSV of sku, quantity and "
        "optionally price, from a file or a URL (--stock-source, '' removes it; "
        "--stock-every, default 1m). --now fetches them at once.",
    )
    fd.add_argument("store", help="store name or id")
    fd.add_argument("--catalog-every", metavar="DURATION", help="e.g. 15m, 1h, 90s")
    fd.add_argument("--stock-source", metavar="PATH_OR_URL")
    fd.add_argument("--stock-every", metavar="DURATION")
    fd.add_argument("--off", choices=("catalog", "stock"), help="stop refreshing that feed")
    fd.add_argument("--on", choices=("catalog", "stock"), help="refresh that feed again")
    fd.add_argument("--now", action="store_true", help="fetch the store's feeds now (what is unchanged is not imported)")
    fd.set_defaults(_stock_run=_feed)
    sh = sub.add_parser("show", help="a SKU's stock, held units and safety stock per channel", parents=[common])
    sh.add_argument("store", help="store name or id")
    sh.add_argument("sku")
    sh.set_defaults(_stock_run=_show)


def run(args: argparse.Namespace) -> int:
    from shelfdesk.jobs.schedules import ScheduleError
    from shelfdesk.publishing.errors import PublishError

    with workspace(args, PublishError, ScheduleError) as ctx:
        return int(args._stock_run(ctx, args))


def _store_id(ctx: AppContext, ref: str) -> int:
    from shelfdesk.services.stores import find_store

    return find_store(ctx, ref).id


def _report(result: Any, args: argparse.Namespace) -> int:
    if args.json:
        print_json(result.as_json())
    else:
        print(
            f"{result.changed:,} changed, {result.unchanged:,} unchanged"
            + (f"; pushed to {result.marked:,} SKU×channel within seconds" if result.marked else "")
        )
        if result.unknown:
            shown = ", ".join(result.unknown[:10]) + (" …" if len(result.unknown) > 10 else "")
            print(f"refused {len(result.unknown):,} SKU(s) not in the store's catalog: {shown}", file=sys.stderr)
        for error in result.errors[:20]:
            print(f"refused {error}", file=sys.stderr)
    return 1 if result.refused else 0


def _set(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.stock import parse_assignments, set_stock

    lines = parse_assignments(args.assignments)
    return _report(set_stock(ctx, _store_id(ctx, args.store), lines, source="manual"), args)


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.errors import SetupError
    from shelfdesk.services.stock import set_stock_text

    store_id = _store_id(ctx, args.store)
    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(args.file, encoding="utf-8-sig") as fh:
                text = fh.read()
        except OSError as exc:
            raise SetupError(f"cannot read {args.file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise SetupError(f"{args.file} is not UTF-8 text") from None
    return _report(set_stock_text(ctx, store_id, text, source="import"), args)


def _safety(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.errors import SetupError
    from shelfdesk.channel_refs import resolve_channel
    from shelfdesk.services.stock import parse_quantity, set_channel_safety, set_store_safety

    store_id = _store_id(ctx, args.store)
    if args.units == "default":
        if not args.channel:
            raise SetupError("'default' is for a channel (--channel): the store's safety stock is a number")
        units = None
    else:
        units = parse_quantity(args.units, "safety stock")
    if args.channel:
        channel_id = resolve_channel(ctx, args.channel, store=store_id).id
        set_channel_safety(ctx, channel_id, units)
        what = f"channel {channel_id}: " + ("the store's default" if units is None else f"{units}")
    else:
        assert units is not None
        set_store_safety(ctx, store_id, units)
        what = f"store {args.store}: {units} (channels without their own)"
    if args.json:
        print_json({"store_id": store_id, "channel": args.channel, "safety_stock": units})
    else:
        print(f"safety stock of {what}")
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.stock import stock_view

    view = stock_view(ctx, _store_id(ctx, args.store), args.sku)
    if args.json:
        print_json(view.as_json())
        return 0
    print(view.headline())
    for line in view.channels:
        print(f"  {line.text()}")
    return 0


def _feed(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.catalog.feeds import CATALOG, STOCK, list_feeds, refresh_feed, set_feed
    from shelfdesk.jobs.schedules import format_interval, parse_interval

    store_id = _store_id(ctx, args.store)
    if args.stock_source is not None:
        set_feed(ctx, store_id, STOCK, source=args.stock_source)
    for kind, every in ((CATALOG, args.catalog_every), (STOCK, args.stock_every)):
        if every is not None:
            set_feed(ctx, store_id, kind, every=int(parse_interval(every)))
    if args.off:
        set_feed(ctx, store_id, args.off, enabled=False)
    if args.on:
        set_feed(ctx, store_id, args.on, enabled=True)
    results = []
    if args.now:
        results = [refresh_feed(ctx, store_id, v.kind) for v in list_feeds(ctx) if v.store_id == store_id]
    views = [v for v in list_feeds(ctx) if v.store_id == store_id]
    if args.json:
        print_json(
            {
                "feeds": [v.as_json() for v in views],
                "refreshed": [{"kind": r.kind, "outcome": r.outcome, "detail": r.detail} for r in results],
            }
        )
    else:
        if not views:
            print("no feed: the store has no catalog source and no stock feed")
        for v in views:
            state = "off" if not v.enabled else f"every {format_interval(v.interval_seconds)}"
            last = f"last checked {v.checked_at:%Y-%m-%d %H:%M}" if v.checked_at else "never checked"
            print(f"{v.kind:<8} {v.source}  {state}, {last}" + (f"; FAILING ({v.failures}): {v.error}" if v.error else ""))
        for r in results:
            print(f"{r.kind}: {r.outcome}" + (f" ({r.detail})" if r.detail else ""))
    return 1 if any(r.outcome == "failed" for r in results) else 0
