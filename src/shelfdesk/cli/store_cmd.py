"""``shelfdesk store add|edit|list``: create and change stores, see their catalogs and channels."""

from __future__ import annotations

import argparse

from shelfdesk.cli.setup_common import common_parser, print_json, run_with_workspace


def configure(parser: argparse.ArgumentParser) -> None:
    common = common_parser()
    sub = parser.add_subparsers(dest="store_command", metavar="action", required=True)
    add = sub.add_parser(
        "add", help="create a store", description="Create a store (its catalog comes with `shelfdesk catalog import`).", parents=[common]
    )
    add.add_argument("name", help="store name, e.g. 'Refurb Paris'")
    add.add_argument("--country", required=True, help="ISO country code of the store, e.g. FR")
    add.add_argument("--currency", default="EUR", help="ISO currency code (default EUR)")
    add.add_argument("--source", help="catalog feed: a file path or an http(s) URL")
    add.set_defaults(_store_run=_add)
    edit = sub.add_parser(
        "edit",
        help="rename a store, change its catalog source or its working time",
        parents=[common],
        description="Change a store's name, catalog source, cut-off hour or working days (the Stores screen's e). "
        "Deadlines (shelfdesk due) count business days from the working days, less the country's public holidays; "
        "an order accepted after the cut-off hour leaves the next business day. The store's channels inherit both.",
    )
    edit.add_argument("store", help="store name or id")
    edit.add_argument("--name", help="new name")
    edit.add_argument("--source", help="catalog feed: a file path or an http(s) URL ('' forgets it)")
    edit.add_argument("--cutoff-hour", metavar="HOUR", help="orders accepted from this local hour (0-24) leave the next business day")
    edit.add_argument("--working-days", metavar="DAYS", help="the days orders leave, e.g. mon-fri, mon-sat or mon,wed,fri")
    edit.set_defaults(_store_run=_edit)
    ls = sub.add_parser("list", help="list stores with products, last import and channels", parents=[common])
    ls.set_defaults(_store_run=_list)


def run(args: argparse.Namespace) -> int:
    return run_with_workspace(args, args._store_run)


def _add(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.services.stores import create_store

    store = create_store(ctx, args.name, args.country, args.currency, catalog_source=args.source)
    if args.json:
        print_json(store.as_json())
    else:
        print(f"store {store.id} {store.name!r} created ({store.country}, {store.currency})")
    return 0


def _edit(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.cli import UserFacingError
    from shelfdesk.secrets import mask_url
    from shelfdesk.services.stores import find_store, get_store, update_store

    from shelfdesk.services.working_time import set_store_working_time

    changes = {key: value for key, value in (("name", args.name), ("catalog_source", args.source)) if value is not None}
    working = {key: value for key, value in (("cutoff_hour", args.cutoff_hour), ("working_days", args.working_days)) if value is not None}
    if not changes and not working:
        raise UserFacingError("store edit: nothing to change (give --name, --source, --cutoff-hour or --working-days)")
    store_id = find_store(ctx, args.store).id
    if working:  # checked before anything is saved: a bad value changes nothing
        set_store_working_time(ctx, store_id, **working)
    store = update_store(ctx, store_id, **changes) if changes else get_store(ctx, store_id)
    if args.json:
        print_json(store.as_json())
    else:
        when = store.working_time
        hours = f", cut-off {when.cutoff_hour}:00, works {when.days_text}" if when else ""
        print(
            f"store {store.id} {store.name!r} saved (source: {mask_url(store.catalog_source) if store.catalog_source else 'none'}{hours})"
        )
    return 0


def _list(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.services.stores import list_stores

    stores = list_stores(ctx)
    if args.json:
        print_json([s.as_json() for s in stores])
        return 0
    if not stores:
        print("no stores yet: shelfdesk store add NAME --country FR")
        return 0
    for s in stores:
        last = s.last_import
        imported = "never imported"
        if last is not None:
            imported = f"last import {last.started_at:%Y-%m-%d %H:%M}: {last.stored:,} stored, {last.rejected:,} rejected"
            imported += f" ({last.error})" if last.error else ""
        print(f"{s.id:>3}  {s.name}  {s.country} {s.currency}  {s.products:,} products ({s.gone:,} gone)  {imported}")
        for c in s.channels:
            lights = "not checked"
            if c.readiness is not None:
                lights = "  ".join(f"{light.label} {'ok' if light.ok else 'RED'}" for light in c.readiness.lights)
            print(f"       channel {c.id} {c.name} [{c.market}] via {c.account_name}: {lights}{'  (publishing)' if c.active else ''}")
    return 0
