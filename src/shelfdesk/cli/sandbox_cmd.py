"""``shelfdesk sandbox``: serve the Back Market and Leboncoin imitations on loopback.

Prints each base URL and the credentials it accepts, then serves until Ctrl-C.
State lives in ``--state`` (default: the workspace's sandbox folder), so orders,
listings and tasks survive a restart. Heavy imports (uvicorn, Starlette) happen
in :func:`run` only, to keep ``shelfdesk --help`` fast.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from shelfdesk.cli import UserFacingError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback only unless --force)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="Back Market's port; Leboncoin takes the next one (default: the ports of the last start "
        "with this state folder, so channels' base URLs keep working, else 8731 and 8732; 0: any free ports)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data (default 0)")
    parser.add_argument("--token", help="credential both sandboxes accept (Back Market token, Leboncoin refresh token)")
    parser.add_argument("--state", help="state folder (default: the workspace's sandbox folder)")
    parser.add_argument("--home", help="workspace folder, for the default state folder")
    parser.add_argument("--orders-per-hour", type=float, default=6.0, help="rate of new orders (default 6; 0 stops the generator)")
    parser.add_argument("--task-seconds", type=float, default=120.0, help="how long a listing batch or feed takes to process")
    parser.add_argument(
        "--review-seconds", type=float, default=600.0, help="how long Back Market's review of a product proposal takes (default 600)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:RATE]",
        help="inject a fault on every imitated-API request with this probability (500, 502, 503, timeout, 429, "
        "truncated, malformed, waf, latency); repeatable, e.g. --fault 503:0.1",
    )
    parser.add_argument("--force", action="store_true", help="allow a non-loopback --host (the sandboxes accept fake credentials)")
    from shelfdesk.cli import sandbox_products

    sub = parser.add_subparsers(dest="sandbox_command", metavar="products")
    products = sub.add_parser("products", help="teach the Back Market sandbox the EANs of a catalog feed", description=__doc__)
    products.description = sandbox_products.__doc__
    products.formatter_class = argparse.RawDescriptionHelpFormatter
    sandbox_products.configure(products)


def parse_fault(text: str) -> dict[str, object]:
    from shelfdesk.sandbox.faults import KINDS

    kind, _, rate = text.partition(":")
    if kind not in KINDS:
        raise UserFacingError(f"unknown fault {kind!r}: one of {', '.join(KINDS)}")
    try:
        probability = float(rate) if rate else 0.1
    except ValueError:
        raise UserFacingError(f"fault rate must be a number between 0 and 1, not {rate!r}") from None
    if not 0 < probability <= 1:
        raise UserFacingError("fault rate must be between 0 and 1")
    spec: dict[str, object] = {"kind": kind, "count": None, "rate": probability}
    if kind == "latency":
        spec["latency"] = 2.0
    return spec


def run(args: argparse.Namespace) -> int:
    if getattr(args, "sandbox_command", None) == "products":
        from shelfdesk.cli import sandbox_products

        return sandbox_products.run(args)
    from shelfdesk.paths import resolve_paths
    from shelfdesk.sandbox.ports import DEFAULT_PORTS, save_ports, saved_ports
    from shelfdesk.sandbox.server import NotLoopback, RunningSandboxes, start_sandboxes

    faults = [parse_fault(f) for f in args.fault]
    if not 0 <= args.review_seconds <= 30 * 86400:
        raise UserFacingError("--review-seconds must be between 0 and 2592000 (30 days)")
    state = Path(args.state) if args.state else resolve_paths(args.home, None).sandbox_dir
    remembered = (saved_ports(state) or DEFAULT_PORTS) if args.port is None else None
    port = args.port if args.port is not None else remembered[0]  # type: ignore[index]

    def start(port: int, leboncoin: int | None) -> RunningSandboxes:
        return start_sandboxes(
            state,
            seed=args.seed,
            host=args.host,
            port=port,
            token=args.token,
            orders_per_hour=args.orders_per_hour,
            force=args.force,
            task_seconds=args.task_seconds,
            leboncoin_port=leboncoin,
            review_seconds=args.review_seconds,
        )

    try:
        try:
            running = start(port, remembered[1] if remembered else None)
        except OSError:
            if not remembered:
                raise
            print(
                f"Ports {remembered[0]} and {remembered[1]} are taken: free ones are used "
                "instead; update the channels' base URL (e on Stores) if they pointed there."
            )
            running = start(0, None)
    except NotLoopback as exc:
        raise UserFacingError(str(exc)) from None
    except OSError as exc:
        raise UserFacingError(f"cannot listen on {args.host}:{port}: {exc.strerror or exc}") from None
    save_ports(state, running.backmarket_url, running.leboncoin_url)
    for sandbox in (running.backmarket, running.leboncoin):
        for spec in faults:
            sandbox.faults.add(**spec)
    bm, lbc = running.backmarket.credentials(), running.leboncoin.credentials()
    print(f"Back Market sandbox  {running.backmarket_url}")
    print(f"  accepts            Authorization: {', '.join(bm['authorization'])}")
    print("  requires           User-Agent: BM-{company}-{integration};{contact email}")
    print(
        f"  try                curl -H 'Authorization: {bm['authorization'][0]}' -H 'User-Agent: BM-Acme-shelfdesk;ops@example.org' "
        f"{running.backmarket_url}/ws/orders"
    )
    print(f"Leboncoin sandbox    {running.leboncoin_url}")
    for token, record in live_refresh_tokens(lbc["refresh_tokens"]):
        print(f"  refresh token      {token} (expires {record['expires_at']})")
    print(f"  token endpoint     POST {running.leboncoin_url}/oauth/token grant_type=refresh_token&refresh_token=…")
    print(f"Admin APIs           {running.backmarket_url}/_sandbox  {running.leboncoin_url}/_sandbox")
    print(f"Your products        shelfdesk sandbox products FEED (or POST {running.backmarket_url}/_sandbox/products)")
    print("                     teaches Back Market's catalog your EANs; others are refused as unknown, or proposed")
    print(f"Proposals            reviewed in {args.review_seconds:.0f} s; GET {running.backmarket_url}/_sandbox/proposals")
    print(f"State                {state}")
    for sandbox in (running.backmarket, running.leboncoin):
        for note in sandbox.recovered:  # what the state folder held that could not be read, and was skipped
            print(f"Recovered            {sandbox.name}: {note}")
    stop = threading.Event()
    # Explicit handlers: a process started in the background by a shell inherits SIGINT
    # ignored, and a service manager stops with SIGTERM; both must stop the sandboxes cleanly.
    # They are in place before the line that invites Ctrl-C, so a Ctrl-C right after it stops cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print("Ctrl-C stops.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
    return 0


def live_refresh_tokens(tokens: dict[str, dict[str, str]]) -> list[tuple[str, dict[str, str]]]:
    """The live refresh tokens, oldest first."""
    return sorted(tokens.items(), key=lambda item: item[1]["issued_at"])
