"""CLI read commands as a script runs them: a fresh process each time, wall time from spawn to exit.

    python benchmarks/generate.py --orders 1000000 --products 200000 --home bench-workspace
    python benchmarks/cli.py [--home bench-workspace] [--runs 11]

Budget: median under 300 ms for ``orders list``, ``orders show``, ``status``
and ``jobs list`` on the 1,000,000-order workspace. For each command the
median, min and max wall times are printed (and the median CPU time, user
plus system, which a busy machine inflates much less), then where the time goes, from
one more run under ``python -X importtime``: the imports (the sum of the
top-level modules' cumulative times, as that run measured them) and the rest
(interpreter start, opening the workspace, the query and the output). The
interpreter alone (``python -c pass``), importing SQLAlchemy alone (the floor
of any command that reads the database) and ``shelfdesk paths`` (no database)
are printed for reference, with the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-workspace"
BUDGET_S = 0.300


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh process; CPU (user + system) is what a busy machine does not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # status exits 1 on a critical alert: still an answer
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_seconds(argv: list[str], env: dict[str, str]) -> float:
    """The top-level imports' cumulative time, as ``-X importtime`` reports it (microseconds → seconds)."""
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env, capture_output=True, text=True)
    total = 0
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit() and not name.startswith("  "):  # depth 0: one space after the bar
                total += int(cumulative)
    return total / 1e6


def some_order(home: Path) -> str:
    """A marketplace order id of the workspace (the newest), for ``orders show``."""
    with sqlite3.connect(f"file:{home / 'shelfdesk.db'}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT marketplace_order_id FROM orders ORDER BY purchased_at DESC, id DESC LIMIT 1").fetchone()
    if row is None:
        raise SystemExit(f"{home} has no orders: run benchmarks/generate.py first")
    return str(row[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    if not (args.home / "shelfdesk.db").exists():
        print(f"no workspace in {args.home}: run benchmarks/generate.py --orders 1000000 first", file=sys.stderr)
        return 2
    env = {**os.environ}
    env.pop("SHELFDESK_DATABASE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, then read from __pycache__
    shelfdesk = [sys.executable, "-m", "shelfdesk"]
    home = ["--home", str(args.home)]
    budgeted = {
        "orders list --status New --json": [*shelfdesk, "orders", "list", "--status", "New", "--json", *home],
        "orders list (no filter)": [*shelfdesk, "orders", "list", *home],
        "orders show ID --json": [*shelfdesk, "orders", "show", some_order(args.home), "--json", *home],
        "status --json": [*shelfdesk, "status", "--json", *home],
        "jobs list": [*shelfdesk, "jobs", "list", *home],
    }
    reference = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import sqlalchemy'": [sys.executable, "-c", "import sqlalchemy"],  # the floor of any database read
        "paths (no database)": [*shelfdesk, "paths", *home],
    }
    print(
        f"{args.home}: median of {args.runs} fresh processes each, wall seconds; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    worst = 0.0
    for label, argv in {**reference, **budgeted}.items():
        run_once(argv, env)  # warm the page cache, .pyc files and the tables' copy
        samples = [run_once(argv, env) for _ in range(args.runs)]
        times = [w for w, _ in samples]
        median, cpu = statistics.median(times), statistics.median(c for _, c in samples)
        imports = import_seconds(argv, env)
        mark = ""
        if label in budgeted:
            worst = max(worst, median)
            mark = "ok" if median < BUDGET_S else "OVER"
        print(
            f"  {label:<34} median {median:.3f}  min {min(times):.3f}  max {max(times):.3f}  (CPU {cpu:.3f})   "
            f"imports {imports:.3f}  rest {max(0.0, median - imports):.3f}  {mark}"
        )
    print(f"worst median {worst:.3f} s (budget {BUDGET_S:.3f} s); load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if worst < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
