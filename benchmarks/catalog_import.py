"""Time a catalog import of 200,000 products through the real import service.

    python benchmarks/catalog_import.py [--products 200000] [--home bench-import] [--format csv|json|jsonl]

Writes a CSV feed of ``--products`` realistic rows (the demo catalog's
families with numbered variants, valid EANs, a few bad rows), imports it into
a fresh throwaway workspace, then imports it a second time (the usual daily
run: every SKU exists, nothing changed). Prints both times and the peak
memory. Budget: well under a minute on a 2-core machine. CPU time is printed
beside wall time: on a shared machine the wall clock also counts waiting for
a core, the CPU time is what the import itself costs.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import time
from pathlib import Path

from shelfdesk.catalog.gtin import make_ean13
from shelfdesk.catalog.importer import import_catalog
from shelfdesk.clock import SystemClock
from shelfdesk.context import open_context
from shelfdesk.demo.catalog import demo_catalog
from shelfdesk.paths import resolve_paths

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-import"


def write_feed(path: Path, count: int) -> int:
    """A semicolon CSV like a French shop export; one row in 1,000 is broken. Returns the bad-row count."""
    catalog = demo_catalog()
    extra = sorted({key for p in catalog for key in p.attributes})
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Référence", "EAN13", "Désignation", "Marque", "Catégorie", "Prix TTC", "Quantité", *extra])
        for i in range(count):
            base = catalog[i % len(catalog)]
            ean = make_ean13(f"2{i:011d}")
            price = str(base.price).replace(".", ",")
            if i % 1000 == 999:
                bad += 1
                ean = ean[:-1] + str((int(ean[-1]) + 1) % 10)  # bad check digit
            writer.writerow(
                [
                    f"{base.sku}-V{i:06d}",
                    ean,
                    base.title,
                    base.brand,
                    base.category_path,
                    price,
                    base.stock,
                    *(base.attributes.get(k, "") for k in extra),
                ]
            )
    return bad


def write_json_feed(csv_path: Path, path: Path, lines: bool) -> None:
    """The same rows as a JSON array (numbers as JSON numbers) or JSON lines, to time the JSON readers."""
    import json
    from decimal import Decimal

    with csv_path.open(newline="", encoding="utf-8") as src, path.open("w", encoding="utf-8") as out:
        reader = csv.DictReader(src, delimiter=";")
        if not lines:
            out.write('{"products": [\n')
        for n, row in enumerate(reader):
            item = {k: v for k, v in row.items() if v}
            price = item.pop("Prix TTC", "").replace(",", ".")
            text = json.dumps(item, ensure_ascii=False)[:-1] + (f', "Prix TTC": {Decimal(price)}' if price else "") + "}"
            out.write(text + "\n" if lines else ("" if n == 0 else ",\n") + text)
        if not lines:
            out.write("\n]}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--format", choices=("csv", "json", "jsonl"), default="csv", help="feed format to time")
    args = parser.parse_args(argv)
    if args.home.exists():
        shutil.rmtree(args.home)
    args.home.mkdir(parents=True)
    feed = args.home / "feed.csv"
    started = time.perf_counter()
    bad = write_feed(feed, args.products)
    if args.format != "csv":
        csv_feed, feed = feed, args.home / f"feed.{args.format}"
        write_json_feed(csv_feed, feed, args.format == "jsonl")
    print(f"feed: {args.products:,} rows, {feed.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s")

    ctx = open_context(resolve_paths(args.home / "workspace"), clock=SystemClock())
    from shelfdesk.db.models import Store

    now = ctx.clock.now()
    with ctx.write_session() as session:
        store = Store(name="Benchmark", country="FR", currency="EUR", created_at=now, updated_at=now)
        session.add(store)
        session.flush()
        store_id = int(store.id)  # type: ignore[arg-type]

    ok = True
    for label in ("first import (all new)", "re-import (all known)"):
        started, cpu = time.perf_counter(), time.process_time()
        result = import_catalog(ctx, store_id, str(feed))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{label}: {elapsed:.1f} s wall, {cpu:.1f} s CPU — {result.rows_read:,} read, {result.stored:,} stored, "
            f"{result.rejected:,} rejected, {result.gone:,} gone"
            f"{'' if result.ok else ' — ' + str(result.error)}"
        )
        ok = ok and result.ok and result.rejected == bad and result.stored == args.products - bad
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB")
    ctx.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
