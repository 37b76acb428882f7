"""``shelfdesk sandbox products FILE``: teach the Back Market sandbox the products of a catalog feed.

The sandbox knows a small slice of Back Market's catalog; a new listing whose
EAN it does not know is refused as Back Market refuses a product missing from
its catalog. This reads the merchant's own feed (CSV, JSON or XML, columns
detected as a catalog import detects them) and adds each valid EAN, with its
title and category, through the sandbox's admin API (``POST
/_sandbox/products``) when it serves, or into its state folder when it does
not. Rows without a valid EAN are listed, by line, and left out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from shelfdesk.cli import UserFacingError

ADMIN_PATH = "/_sandbox/products"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the catalog feed (CSV, JSON or XML) whose EANs the sandbox should know")
    parser.add_argument("--url", help="the Back Market sandbox's address (default: the one the state folder last served on)")
    parser.add_argument("--state", help="state folder (default: the workspace's sandbox folder)")
    parser.add_argument("--home", help="workspace folder, for the default state folder")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def read_products(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The feed's products as ``{ean, title, category}``, and why each left-out row was left out."""
    from shelfdesk.catalog.columns import suggest_roles
    from shelfdesk.catalog.detect import detect_options
    from shelfdesk.catalog.gtin import is_valid_gtin
    from shelfdesk.catalog.readers import RawRow, read_rows

    if not path.is_file():
        raise UserFacingError(f"no file at {path}")
    options = detect_options(path)
    with path.open("rb") as binary:
        rows = list(read_rows(binary, options))
    read = [r for r in rows if isinstance(r, RawRow)]
    skipped = [f"line {r.line}: {r.reason}" for r in rows if not isinstance(r, RawRow)]
    columns = list(dict.fromkeys(c for r in read for c in r.values))
    roles = suggest_roles(columns, {c: [r.values.get(c, "") for r in read[:50]] for c in columns})
    if "ean" not in roles:
        raise UserFacingError(f"{path.name} has no EAN column (its columns: {', '.join(columns[:12]) or 'none'})")
    products: list[dict[str, str]] = []
    seen: set[str] = set()
    for row in read:
        ean = (row.values.get(roles["ean"]) or "").strip()
        if not ean:
            skipped.append(f"line {row.line}: no EAN")
        elif not is_valid_gtin(ean):
            skipped.append(f"line {row.line}: {ean[:20]} is not a valid EAN")
        elif ean not in seen:
            seen.add(ean)
            product = {"ean": ean}
            for role in ("title", "category"):
                value = (row.values.get(roles[role]) or "").strip()[:200] if role in roles else ""
                if value:
                    product[role] = value
            products.append(product)
    return products, skipped


def run(args: argparse.Namespace) -> int:
    from shelfdesk.paths import resolve_paths
    from shelfdesk.sandbox.ports import saved_ports

    products, skipped = read_products(args.file)
    state = Path(args.state) if args.state else resolve_paths(args.home, None).sandbox_dir
    url = args.url
    if url is not None and not url.startswith(("http://", "https://")):
        raise UserFacingError(f"--url {url!r} is not an http:// address")
    if url is None:
        ports = saved_ports(state)
        url = f"http://127.0.0.1:{ports[0]}" if ports else None
    added = _over_http(url, products) if url else None
    where = f"the sandbox at {url}"
    if added is None:
        if args.url:
            raise UserFacingError(f"no Back Market sandbox answers at {args.url}{ADMIN_PATH}")
        added = _into_state(state, products)
        where = f"the sandbox's state folder {state} (it was not serving; it knows them at its next start)"
    if args.json:
        print(json.dumps({"read": len(products), "added": added, "skipped": skipped, "where": where}, indent=2))
    else:
        print(f"{added:,} product(s) added to {where}; {len(products) - added:,} it already knew.")
        for line in skipped:
            print(f"  left out: {line}")
    return 0


def _over_http(url: str, products: list[dict[str, str]]) -> int | None:
    """How many the serving sandbox added; None when nothing answers at ``url``."""
    import httpx

    try:
        response = httpx.post(url.rstrip("/") + ADMIN_PATH, json={"products": products}, timeout=30)
    except httpx.TransportError:
        return None
    except httpx.InvalidURL as exc:
        raise UserFacingError(f"--url {url!r} is not an address: {exc}") from None
    body: Any = response.json() if response.headers.get("content-type", "").startswith("application/json") else response.text
    if response.status_code >= 300:
        raise UserFacingError(f"{url}{ADMIN_PATH} refused the products: {body.get('error') if isinstance(body, dict) else body}")
    return int(body["added"])


def _into_state(state: Path, products: list[dict[str, str]]) -> int:
    from shelfdesk.sandbox.backmarket import BackMarketSandbox

    try:
        return len(BackMarketSandbox(state / "backmarket").add_products(products))
    except ValueError as exc:
        raise UserFacingError(str(exc)) from None
