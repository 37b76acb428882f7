"""``shelfdesk api serve|token``: the HTTP API for the merchant's own systems, and its tokens.

``serve`` listens on loopback unless ``--host`` says otherwise (put TLS in a
reverse proxy in front of it). ``token add NAME --scope read|write`` prints
the token once: only its hash is stored. ``token list`` shows every token with
its last use (never a secret); ``token revoke NAME`` refuses its next call.
"""

from __future__ import annotations

import argparse

from shelfdesk.cli.setup_common import common_parser, print_json, workspace
from shelfdesk.formatting import when


def configure(parser: argparse.ArgumentParser) -> None:
    from shelfdesk.api import DEFAULT_HOST, DEFAULT_PORT

    common = common_parser()
    sub = parser.add_subparsers(dest="api_command", metavar="action", required=True)
    sv = sub.add_parser(
        "serve",
        help="serve the HTTP API (loopback by default)",
        parents=[common],
        description="Serve orders, order actions, stock and health over HTTP with bearer tokens.",
    )
    sv.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    sv.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    sv.add_argument("--max-body", type=int, default=1_048_576, help="largest request body in bytes (413 past it)")
    sv.add_argument("--rate", type=float, default=20.0, help="requests per second per token (429 past it)")
    sv.add_argument("--burst", type=int, default=100, help="requests per token at once")
    sv.add_argument("--no-send", action="store_true", help="only queue order actions; the worker sends them")
    sv.set_defaults(_api_run=_serve)
    tok = sub.add_parser("token", help="add, list and revoke API tokens")
    tsub = tok.add_subparsers(dest="token_command", metavar="action", required=True)
    add = tsub.add_parser("add", help="create a token (printed once)", parents=[common])
    add.add_argument("name", help="who uses it, e.g. erp-warehouse")
    add.add_argument("--scope", choices=("read", "write"), required=True, help="read: GET only; write: also actions and stock")
    add.set_defaults(_api_run=_add)
    ls = tsub.add_parser("list", help="every token with its scope and last use", parents=[common])
    ls.set_defaults(_api_run=_list)
    rv = tsub.add_parser("revoke", help="revoke a token: its next call gets 401", parents=[common])
    rv.add_argument("name")
    rv.set_defaults(_api_run=_revoke)


def run(args: argparse.Namespace) -> int:
    with workspace(args) as ctx:
        return int(args._api_run(ctx, args))


def _serve(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.api.app import ApiSettings
    from shelfdesk.api.server import serve_forever
    from shelfdesk.catalog.errors import SetupError

    if args.max_body < 1 or args.rate <= 0 or args.burst < 1:
        raise SetupError("--max-body, --rate and --burst must be positive")
    settings = ApiSettings(max_body=args.max_body, rate=args.rate, burst=args.burst, send_actions=not args.no_send)
    serve_forever(ctx, settings, host=args.host, port=args.port)
    return 0


def _add(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.services.api_tokens import add_token

    info, secret = add_token(ctx, args.name, args.scope)
    if args.json:
        print_json({**info.as_json(), "token": secret})
    else:
        print(f"API token {info.name} ({info.scope}); it is shown only now, keep it somewhere safe:")
        print(secret)
    return 0


def _list(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.services.api_tokens import list_tokens

    tokens = list_tokens(ctx)
    if args.json:
        print_json([t.as_json() for t in tokens])
        return 0
    if not tokens:
        print("no API tokens yet: shelfdesk api token add NAME --scope read|write")
    for t in tokens:
        state = f"revoked {when(t.revoked_at)}" if t.revoked_at else "active"
        print(
            f"{t.name:<24} {t.scope:<5} {t.prefix}…  created {when(t.created_at)}  last used {when(t.last_used_at) if t.last_used_at else 'never'}  {state}"
        )
    return 0


def _revoke(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from shelfdesk.services.api_tokens import revoke_token

    info = revoke_token(ctx, args.name)
    if args.json:
        print_json(info.as_json())
    else:
        print(f"API token {info.name} revoked: its next call is refused (401)")
    return 0
