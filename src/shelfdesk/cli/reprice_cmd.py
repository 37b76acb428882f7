"""``shelfdesk reprice STORE CHANNEL [--simulate]``: one repricer run, or its log.

The repricer follows the buybox between each listing's minimum and default
price (never under the minimum), with a maximum step and a cooldown; see
:mod:`shelfdesk.publishing.repricer`. ``--simulate`` decides and logs what
it would change, and sends nothing. ``--log`` prints the latest decisions.
Exit codes: 0 done, 1 some change refused, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from shelfdesk.cli import CHANNEL_HELP, add_workspace_options
from shelfdesk.formatting import NONE, amount_text


def configure(parser: argparse.ArgumentParser) -> None:
    add_workspace_options(parser)
    parser.add_argument("store", help="store name or id")
    parser.add_argument("channel", help=CHANNEL_HELP)
    parser.add_argument("--simulate", action="store_true", help="show and log what would change; send nothing")
    parser.add_argument("--log", action="store_true", help="print the repricer's latest decisions instead of running")
    parser.add_argument("--limit", type=int, default=0, help="at most this many listings (0: all)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def run(args: argparse.Namespace) -> int:
    from shelfdesk.channels.errors import ChannelError
    from shelfdesk.cli.setup_common import print_json as _print_json
    from shelfdesk.cli.setup_common import workspace
    from shelfdesk.orders.errors import NoCredential
    from shelfdesk.channel_refs import resolve_channel
    from shelfdesk.publishing.errors import PublishError
    from shelfdesk.publishing.repricer import list_changes, reprice_sync

    with workspace(args, PublishError) as ctx:
        channel_id = resolve_channel(ctx, args.channel, store=args.store).id
        if args.log:
            rows = list_changes(ctx, channel_id, limit=args.limit or 100)
            if args.json:
                _print_json(rows)
            for r in [] if args.json else rows:
                mode = "simulated" if r["simulated"] else "applied" if r["applied"] else f"refused: {r['error']}"
                print(f"{r['at'][:16]}  {r['sku']:<28} {r['old_price']} → {r['new_price']}  ({mode}) {r['reason']}")
            return 0
        try:
            result = reprice_sync(ctx, channel_id, simulate=args.simulate, limit=args.limit or None)
        except (ChannelError, NoCredential) as exc:
            print(f"shelfdesk: the repricer stopped: {exc}", file=sys.stderr)
            return 1
    if args.json:
        _print_json(result.as_dict())
    else:
        verb = "would change" if result.simulated else "changed"
        for note in result.notes:
            print(f"! {note}")
        for d in result.decisions:
            status = "" if not d.changes else (" (simulated)" if result.simulated else " applied" if d.applied else f" REFUSED: {d.error}")
            new = amount_text(d.new_price) or NONE
            cur = amount_text(d.current) or NONE
            print(f"{d.sku:<28} {cur:>9} → {new:>9}{status}  {d.reason}")
        print(f"{len(result.decisions):,} listings, {len(result.changed):,} {verb}")
    return 1 if any(d.error for d in result.decisions) else 0
