"""``shelfdesk store add|edit|list``: create and change stores, see their catalogs and channels."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from shelfdesk.cli.setup_common import common_parser, print_json, run_with_workspace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


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
        help="rename a store or change its catalog source",
        parents=[common],
        description="Change a store's name or catalog source (the Stores screen's e).",
    )
    edit.add_argument("store", help="store name or id")
    edit.add_argument("--name", help="new name")
    edit.add_argument("--source", help="catalog feed: a file path or an http(s) URL ('' forgets it)")
    edit.set_defaults(_store_run=_edit)
    ls = sub.add_parser("list", help="list stores with products, last import and channels", parents=[common])
    ls.set_defaults(_store_run=_list)


def run(args: argparse.Namespace) -> int:
    return run_with_workspace(args, args._store_run)


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services.stores import create_store

    store = create_store(ctx, args.name, args.country, args.currency, catalog_source=args.source)
    if args.json:
        print_json(store.as_json())
    else:
        print(f"store {store.id} {store.name!r} created ({store.country}, {store.currency})")
    return 0


def _edit(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.cli import UserFacingError
    from shelfdesk.secrets import mask_url
    from shelfdesk.services.stores import find_store, update_store

    changes = {key: value for key, value in (("name", args.name), ("catalog_source", args.source)) if value is not None}
    if not changes:
        raise UserFacingError("store edit: nothing to change (give --name or --source)")
    store = update_store(ctx, find_store(ctx, args.store).id, **changes)
    if args.json:
        print_json(store.as_json())
    else:
        print(f"store {store.id} {store.name!r} saved (source: {mask_url(store.catalog_source) if store.catalog_source else 'none'})")
    return 0


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
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
