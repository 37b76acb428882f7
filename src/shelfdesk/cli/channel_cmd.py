"""``shelfdesk channel add|edit|token|list|test|activate``: set up channels and see their readiness.

The token is never an argument (it would stay in the shell history): give
``--token-env VAR`` to reference an environment variable, or ``--token-stdin``
to pipe it in; it is then kept in the workspace's secrets file, never printed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from shelfdesk.cli import CHANNEL_HELP, UserFacingError
from shelfdesk.cli.setup_common import common_parser, print_json, run_with_workspace

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


def configure(parser: argparse.ArgumentParser) -> None:
    common = common_parser()
    sub = parser.add_subparsers(dest="channel_command", metavar="action", required=True)

    add = sub.add_parser(
        "add",
        help="publish a store to one market of a marketplace account",
        parents=[common],
        description="Add a channel. Use --account for an existing account, or --marketplace with --account-name and a token to create one.",
    )
    add.add_argument("store", help="store name or id")
    add.add_argument("--country", required=True, help="market country, e.g. FR (Back Market: one store per country)")
    add.add_argument("--account", help="existing account name or id")
    add.add_argument("--marketplace", choices=("backmarket", "leboncoin"), help="marketplace of a new account")
    add.add_argument("--account-name", help="name of the new account (default: the marketplace's name)")
    token = add.add_mutually_exclusive_group()
    token.add_argument("--token-env", metavar="VAR", help="environment variable holding the token")
    token.add_argument("--token-stdin", action="store_true", help="read the token from standard input")
    add.add_argument("--region", choices=("eu", "na", "ap"), help="Back Market region (default eu)")
    add.add_argument("--base-url", help="custom API base URL (sandbox, proxy)")
    add.add_argument("--company", help="company name (Back Market's User-Agent)")
    add.add_argument("--email", help="contact e-mail (Back Market's User-Agent)")
    add.add_argument("--name", help="channel name (default: marketplace and country)")
    add.add_argument("--no-products-feed", action="store_true", help="do not publish new products")
    add.add_argument("--no-offers-feed", action="store_true", help="do not publish prices and quantities")
    add.add_argument("--quantities-only", action="store_true", help="offers carry quantities, never prices")
    add.add_argument("--no-orders", action="store_true", help="do not manage this channel's orders")
    add.add_argument(
        "--orders-scope", choices=("account", "market"), help="harvest all countries of the account, or only this market (default)"
    )
    add.add_argument("--no-secure-payment", action="store_true", help="Leboncoin: ads without secure payment")
    add.add_argument("--test", action="store_true", help="test the connection right away")
    add.set_defaults(_channel_run=_add)

    edit = sub.add_parser(
        "edit",
        help="change a channel's options and its account's API settings",
        parents=[common],
        description="Change what the Stores screen's e changes: the channel's name and options, "
        "and its account's region, base URL and identity (the token: `channel token`).",
    )
    edit.add_argument("channel", help=CHANNEL_HELP)
    edit.add_argument("--name", help="channel name")
    edit.add_argument("--region", choices=("eu", "na", "ap"), help="Back Market region")
    edit.add_argument("--base-url", help="custom API base URL ('' for the marketplace's own)")
    edit.add_argument("--company", help="company name (Back Market's User-Agent)")
    edit.add_argument("--email", help="contact e-mail (Back Market's User-Agent)")
    for feed, what in (
        ("products-feed", "publish new products"),
        ("offers-feed", "publish prices and quantities"),
        ("orders", "manage this channel's orders"),
        ("secure-payment", "Leboncoin: secure payment"),
    ):
        edit.add_argument(
            f"--{feed}", dest=feed.replace("-", "_"), action=argparse.BooleanOptionalAction, help=f"{what} (--no-{feed}: do not)"
        )
    edit.add_argument("--quantities-only", action=argparse.BooleanOptionalAction, help="offers carry quantities, never prices")
    edit.add_argument("--orders-scope", choices=("account", "market"), help="harvest all countries of the account, or only this market")
    edit.set_defaults(_channel_run=_edit)

    tok = sub.add_parser(
        "token",
        help="replace the token of the channel's account (resets its expiry)",
        parents=[common],
        description="Store the renewed token of the channel's account (the "
        "Stores screen's T). Its expiry and last check are reset: test it with `channel test`.",
    )
    tok.add_argument("channel", help=CHANNEL_HELP)
    token = tok.add_mutually_exclusive_group(required=True)
    token.add_argument("--token-env", metavar="VAR", help="environment variable holding the token")
    token.add_argument("--token-stdin", action="store_true", help="read the token from standard input")
    tok.add_argument("--test", action="store_true", help="test the connection right away")
    tok.set_defaults(_channel_run=_token)

    ls = sub.add_parser("list", help="channels with their readiness lights", parents=[common])
    ls.add_argument("--store", help="only this store's channels")
    ls.add_argument("--check", action="store_true", help="recompute readiness before listing")
    ls.set_defaults(_channel_run=_list)

    test = sub.add_parser("test", help="test the channel's connection (the marketplace's credentials check)", parents=[common])
    test.add_argument("channel", help=CHANNEL_HELP)
    test.set_defaults(_channel_run=_test)

    act = sub.add_parser("activate", help="turn publication on (only when all three lights are green)", parents=[common])
    act.add_argument("channel", help=CHANNEL_HELP)
    act.set_defaults(_channel_run=_activate)


def run(args: argparse.Namespace) -> int:
    return run_with_workspace(args, args._channel_run)


def _read_token(args: argparse.Namespace) -> str | None:
    if not args.token_stdin:
        return None
    token = sys.stdin.readline().strip()
    if not token:
        raise UserFacingError("--token-stdin: nothing was read from standard input")
    return token


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services import accounts, channels
    from shelfdesk.services.stores import find_store

    store = find_store(ctx, args.store)
    token = _read_token(args)
    if not args.account and not args.marketplace:
        raise UserFacingError("say which account: --account NAME, or --marketplace with a token for a new one")
    account_id = accounts.find_account(ctx, args.account).id if args.account else None
    view = channels.set_up_channel(
        ctx,
        store.id,
        args.country,
        account_id=account_id,
        marketplace=args.marketplace,
        account_name=args.account_name,
        token=token,
        token_env=args.token_env,
        region=args.region,
        base_url=args.base_url,
        company=args.company,
        contact_email=args.email,
        name=args.name,
        products_feed_enabled=not args.no_products_feed,
        offers_feed_enabled=not args.no_offers_feed,
        quantities_only=args.quantities_only,
        orders_enabled=not args.no_orders,
        orders_scope=args.orders_scope,
        secure_payment=not args.no_secure_payment,
    )
    account = accounts.get_account(ctx, view.account_id)
    result = channels.test_channel_connection(ctx, view.id) if args.test else None
    view = channels.get_channel(ctx, view.id)
    if args.json:
        print_json(
            {
                "channel": view.as_json(),
                "account": account.as_json(),
                "test": None if result is None else {"ok": result.ok, "message": result.message},
            }
        )
    else:
        print(f"channel {view.id} {view.name!r} added to {view.store_name} via account {account.name} ({account.credential})")
        if result is not None:
            print(f"connection: {'ok' if result.ok else 'FAILED'} — {result.message}")
    return 0 if result is None or result.ok else 1


def _edit(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services import accounts, channels

    view = channels.find_channel(ctx, args.channel)
    account_settings = _account_settings(args)
    options = {
        key: getattr(args, key)
        for key in ("name", "products_feed", "offers_feed", "quantities_only", "orders", "orders_scope", "secure_payment")
    }
    options = {_OPTION_NAMES.get(key, key): value for key, value in options.items() if value is not None}
    if not account_settings and not options:
        raise UserFacingError("channel edit: nothing to change (see shelfdesk channel edit --help)")
    view = channels.edit_channel(ctx, view.id, account=account_settings, **options)
    account = accounts.get_account(ctx, view.account_id)
    if args.json:
        print_json({"channel": view.as_json(), "account": account.as_json()})
    else:
        print(f"channel {view.id} {view.name!r} saved (account {account.name}, {account.credential})")
        print(f"  {_lights(view)}")
    return 0


#: ``channel edit`` option → the service's option name.
_OPTION_NAMES = {"products_feed": "products_feed_enabled", "offers_feed": "offers_feed_enabled", "orders": "orders_enabled"}


def _token(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services import accounts, channels

    view = channels.find_channel(ctx, args.channel)
    account = accounts.replace_token(ctx, view.account_id, token=_read_token(args), token_env=args.token_env)
    result = channels.test_channel_connection(ctx, view.id) if args.test else None
    if args.json:
        print_json(
            {
                "account": account.as_json(),
                "channel": view.id,
                "test": None if result is None else {"ok": result.ok, "message": result.message},
            }
        )
    else:
        print(
            f"token of account {account.name} replaced ({account.credential})"
            + ("" if result is not None else f"; test it with: shelfdesk channel test {view.id}")
        )
        if result is not None:
            print(f"connection: {'ok' if result.ok else 'FAILED'} — {result.message}")
    return 0 if result is None or result.ok else 1


def _account_settings(args: argparse.Namespace) -> dict[str, str]:
    """The account's API settings given on the command line (``''`` included: it clears one)."""
    given = (("region", args.region), ("base_url", args.base_url), ("company", args.company), ("contact_email", args.email))
    return {key: value for key, value in given if value is not None}


def _lights(view: Any) -> str:
    if view.readiness is None:
        return "readiness not checked (shelfdesk channel list --check)"
    return view.readiness.summary()


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services import channels
    from shelfdesk.services.stores import find_store

    store_id = find_store(ctx, args.store).id if args.store else None
    views = channels.list_channels(ctx, store_id)
    if args.check and not ctx.read_only:
        for view in views:
            channels.check_readiness(ctx, view.id)
        views = channels.list_channels(ctx, store_id)
    if args.json:
        print_json([v.as_json() for v in views])
        return 0
    if not views:
        print("no channels yet: shelfdesk channel add STORE --country FR --marketplace backmarket --token-stdin …")
    for v in views:
        state = "publishing" if v.activated_at else "not active"
        print(f"{v.id:>3}  {v.slug:<8} {v.store_name} / {v.name} [{v.market}] via {v.account_name} — {state}")
        print(f"       {_lights(v)}")
    return 0


def _test(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services import channels

    view = channels.find_channel(ctx, args.channel)
    result = channels.test_channel_connection(ctx, view.id)
    view = channels.get_channel(ctx, view.id)
    if args.json:
        print_json(
            {
                "channel": view.id,
                "ok": result.ok,
                "message": result.message,
                "expires_at": result.expires_at,
                "readiness": view.as_json()["readiness"],
            }
        )
    else:
        print(f"{view.name}: {'connection ok' if result.ok else 'connection FAILED'} — {result.message}")
        print(f"  {_lights(view)}")
    return 0 if result.ok else 1


def _activate(ctx: AppContext, args: argparse.Namespace) -> int:
    from shelfdesk.services import channels

    view = channels.activate_channel(ctx, channels.find_channel(ctx, args.channel).id)
    if args.json:
        print_json(view.as_json())
    else:
        print(f"{view.name}: publication active since {view.activated_at:%Y-%m-%d %H:%M} UTC")
    return 0
