"""A fleet of workers on PostgreSQL: how many accounts one ``shelfdesk worker`` keeps, what each added one adds.

    scripts/pg-test.sh .venv/bin/python benchmarks/fleet.py [--accounts 200] [--workers 1,2,4]
        [--interval 60] [--minutes 5] [--orders-per-hour 6] [--sandbox-processes 2]

For each worker count, on a fresh PostgreSQL database (on the server named by
``SHELFDESK_TEST_DATABASE_URL``, which ``scripts/pg-test.sh`` starts):

* ``--accounts`` Back Market accounts, each its own sandbox merchant (served,
  many to a process, by ``--sandbox-processes`` processes of this script),
  each receiving ``--orders-per-hour`` new orders at a steady rate;
* only the order harvest scheduled (every ``--interval`` seconds; the rest paused);
* that many real ``shelfdesk worker`` processes sharing the jobs through leases;
* at 40 % of the run one worker is killed with SIGKILL (with 2 workers or
  more), at 70 % the PostgreSQL server is restarted (when this script can:
  ``SHELFDESK_TEST_PG_DATA``, set by pg-test.sh).

Measured from the database, not from the workers' word: an AFTER INSERT
trigger on ``orders`` records when each order arrived (``clock_timestamp()``),
so the arrival lag ("lag") is that minus the order's creation in the sandbox
(its generator makes each order one period after the date it stamps on it:
the lag counts from when the order existed), and "seen" from the later of
that and the order's last change before it arrived; harvest
runs come from ``job_runs`` (overlap: a run of an account starting before the
previous one ended; missed: intervals with no start); takeovers are runs ended
as "taken over"; connections are sampled from ``pg_stat_activity`` per worker
(``application_name``); CPU per worker is the process's own rusage.

The machine's cores bound what more workers add: on a 2-core machine shared
with other work, 4 workers cannot do more CPU work than 2. The closing lines
turn CPU seconds per harvest into accounts per worker at a 60 % busy target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "fleet-token-{}"
#: Busy share of one core a worker is sized for (headroom for bursts, catch-up after an outage).
TARGET_BUSY = 0.6


# ---------------------------------------------------------------- sandbox host (a child process)


def serve_sandboxes(first: int, count: int, total: int, rate: float, state: Path) -> None:
    """Serve ``count`` Back Market sandboxes on free loopback ports; print their URLs (JSON); run until SIGTERM.

    Each sandbox's generator makes an order every ``3600 / rate`` seconds; their
    phases are spread evenly over that period (sandbox ``n`` of ``total`` is
    ``n / total`` of a period ahead), so the fleet receives a steady stream
    rather than every account's first order at the same instant.
    """
    from datetime import timedelta

    import uvicorn

    from shelfdesk.sandbox.app import iso
    from shelfdesk.sandbox.backmarket import BackMarketSandbox
    from shelfdesk.sandbox.server import _url, bind

    sandboxes = []
    period = 3600.0 / rate
    for n in range(first, first + count):
        sandbox = BackMarketSandbox(state / f"bm{n}", seed=n, token=TOKEN.format(n), history_orders=0)
        epoch = sandbox.clock.now() - timedelta(seconds=period * n / total)
        sandbox.state["generator"] = {"rate_per_hour": rate, "epoch": iso(epoch), "generated": 0}
        sandboxes.append(sandbox)
    sockets = [bind("127.0.0.1", 0) for _ in sandboxes]
    servers = [uvicorn.Server(uvicorn.Config(s.app, log_level="error", access_log=False, lifespan="off")) for s in sandboxes]
    print(json.dumps([_url(sock) for sock in sockets]), flush=True)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: [setattr(s, "should_exit", True) for s in servers])
        await asyncio.gather(*(s.serve(sockets=[sock]) for s, sock in zip(servers, sockets, strict=True)))

    asyncio.run(serve())


# ---------------------------------------------------------------- one run


@dataclass
class Run:
    workers: int
    accounts: int
    interval: int
    seconds: float
    #: Seconds between two orders of one account (3600 / --orders-per-hour).
    period: float
    db_url: str
    db_name: str
    started: datetime | None = None
    ended: datetime | None = None
    killed_at: datetime | None = None
    killed_holder: str | None = None
    restart: tuple[datetime, datetime] | None = None
    cpu: list[float] = field(default_factory=list)  # CPU seconds per worker
    alive: list[float] = field(default_factory=list)  # wall seconds per worker
    connections: dict[str, int] = field(default_factory=dict)  # application_name → max seen
    total_connections: int = 0
    results: dict[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _admin(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _with_app_name(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)


ARRIVALS = """
CREATE TABLE fleet_arrivals (order_id BIGINT, account_id INTEGER, remote_id TEXT, created TIMESTAMPTZ,
                             visible TIMESTAMPTZ, arrived TIMESTAMPTZ DEFAULT clock_timestamp());
CREATE FUNCTION fleet_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fleet_arrivals (order_id, account_id, remote_id, created, visible)
  VALUES (NEW.id, NEW.account_id, NEW.marketplace_order_id, NEW.purchased_at, NEW.modified_at);
  RETURN NEW;
END $$;
CREATE TRIGGER fleet_arrival AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION fleet_arrival();
"""


def prepare(run: Run, home: Path, urls: list[str]) -> None:
    """A workspace on the run's database: the accounts, each with a store and a channel (one per store and market)."""
    from sqlalchemy import text

    from shelfdesk.context import open_context
    from shelfdesk.jobs.schedules import ensure_schedules, list_schedules, set_interval, set_paused
    from shelfdesk.paths import resolve_paths
    from shelfdesk.services.accounts import create_account
    from shelfdesk.services.channels import create_channel
    from shelfdesk.services.stores import create_store

    ctx = open_context(resolve_paths(home, run.db_url))
    try:
        with ctx.engine.begin() as conn:
            conn.exec_driver_sql(ARRIVALS)
        for n, url in enumerate(urls):
            store = create_store(ctx, f"Fleet {n:03d}", "FR")
            account = create_account(
                ctx, "backmarket", f"BM {n:03d}", token=TOKEN.format(n), base_url=url, company="Fleet", contact_email="ops@example.org"
            )
            create_channel(ctx, store.id, account.id, "FR", name=f"BM {n:03d} FR")
        ensure_schedules(ctx)
        schedules = list_schedules(ctx)
        set_paused(ctx, [s.key for s in schedules if s.job != "harvest"], True)
        for s in schedules:
            if s.job == "harvest":
                set_interval(ctx, s.key, run.interval)
        with ctx.engine.connect() as conn:
            harvests = conn.execute(text("SELECT count(*) FROM job_schedules WHERE job = 'harvest'")).scalar()
        assert harvests == run.accounts, f"{harvests} harvest schedules for {run.accounts} accounts"
    finally:
        ctx.close()


def start_worker(run: Run, home: Path, index: int, logs: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SHELFDESK_DATABASE_URL": _with_app_name(run.db_url, f"fleet-w{index}"), "PYTHONPATH": str(ROOT / "src")}
    log = open(logs / f"worker{index}.log", "wb")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "shelfdesk", "worker", f"--home={home}", "--grace=10"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def reap(proc: subprocess.Popen[bytes], started: float, run: Run) -> None:
    """Wait for a worker and keep its CPU time (its rusage) and wall time."""
    _pid, _status, usage = os.wait4(proc.pid, 0)
    proc.returncode = _status
    run.cpu.append(usage.ru_utime + usage.ru_stime)
    run.alive.append(time.monotonic() - started)


def holder_of(admin: Any, db: str, pid: int) -> str | None:
    from sqlalchemy import text

    url = admin.url.set(database=db)
    engine = _admin(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT holder FROM job_runs WHERE holder LIKE :p LIMIT 1"), {"p": f"%:{pid}:worker-%"}).scalar()
    finally:
        engine.dispose()


def restart_postgres() -> tuple[datetime, datetime] | None:
    data, bindir = os.environ.get("SHELFDESK_TEST_PG_DATA"), os.environ.get("SHELFDESK_TEST_PG_BINDIR")
    if not data or not bindir:
        return None
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    begun = _now()
    subprocess.run(
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "restart"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return begun, _now()


def sample_connections(admin: Any, run: Run) -> None:
    from sqlalchemy import text

    try:
        with admin.connect() as conn:
            rows = conn.execute(
                text("SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = :d GROUP BY application_name"),
                {"d": run.db_name},
            ).all()
    except Exception:  # the server is restarting
        return
    total = 0
    for name, count in rows:
        if name.startswith("fleet-w"):
            run.connections[name] = max(run.connections.get(name, 0), int(count))
            total += int(count)
    run.total_connections = max(run.total_connections, total)


def execute(run: Run, admin: Any, work: Path, sandbox_procs: int, rate: float) -> None:
    home, logs = work / f"ws{run.workers}", work / f"logs{run.workers}"
    logs.mkdir(parents=True)
    hosts, urls = [], []
    per = -(-run.accounts // sandbox_procs)
    for first in range(0, run.accounts, per):
        count = min(per, run.accounts - first)
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "sandbox-host",
                str(first),
                str(count),
                str(run.accounts),
                str(rate),
                str(work / f"sandbox{run.workers}"),
            ],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        assert proc.stdout is not None
        urls += json.loads(proc.stdout.readline())
        hosts.append(proc)
    try:
        prepare(run, home, urls)
        run.started = _now()
        began = time.monotonic()
        workers = [start_worker(run, home, i, logs) for i in range(run.workers)]
        born = [time.monotonic()] * run.workers
        kill_at = began + 0.4 * run.seconds if run.workers >= 2 else None
        restart_at = began + 0.7 * run.seconds
        while time.monotonic() - began < run.seconds:
            time.sleep(2.0)
            sample_connections(admin, run)
            if kill_at is not None and time.monotonic() >= kill_at:
                victim = workers[0]
                run.killed_holder = holder_of(admin, run.db_name, victim.pid)
                victim.send_signal(signal.SIGKILL)
                run.killed_at = _now()
                reap(victim, born[0], run)
                kill_at = None
            if restart_at is not None and time.monotonic() >= restart_at:
                run.restart = restart_postgres()
                restart_at = None
        run.ended = _now()
        for proc in workers[1 if run.killed_at else 0 :]:
            proc.send_signal(signal.SIGTERM)
        for i, proc in enumerate(workers[1 if run.killed_at else 0 :]):
            reap(proc, born[i], run)
    finally:
        for proc in hosts:
            proc.send_signal(signal.SIGTERM)
        for proc in hosts:
            proc.wait(timeout=30)
    analyse(run, admin, logs)


# ---------------------------------------------------------------- analysis


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def analyse(run: Run, admin: Any, logs: Path) -> None:
    from sqlalchemy import text

    engine = _admin(admin.url.set(database=run.db_name).render_as_string(hide_password=False))
    with engine.connect() as conn:
        # The sandbox's generator makes order k when period k ends but stamps it with the period's
        # start: an order exists from its date_creation + one period, and the lag counts from there.
        made = f"created + make_interval(secs => {run.period})"
        arrivals = conn.execute(
            text(
                f"SELECT account_id, remote_id, EXTRACT(EPOCH FROM arrived - ({made})), "
                f"EXTRACT(EPOCH FROM arrived - GREATEST(visible, {made})) "
                f"FROM fleet_arrivals WHERE {made} >= :t"
            ),
            {"t": run.started},
        ).all()
        duplicated = conn.execute(text("SELECT count(*) - count(DISTINCT (account_id, remote_id)) FROM fleet_arrivals")).scalar()
        runs = conn.execute(
            text(
                "SELECT channel_id, holder, started_at, finished_at, outcome, error FROM job_runs "
                "WHERE job = 'harvest' ORDER BY channel_id, started_at"
            )
        ).all()
    engine.dispose()
    by_channel: dict[int, list[Any]] = {}
    for row in runs:
        by_channel.setdefault(row.channel_id, []).append(row)
    overlapping = missed = late_accounts = 0
    pickups: list[float] = []
    steady_end = run.killed_at or (run.restart[0] if run.restart else run.ended)
    assert run.started is not None and run.ended is not None
    for rows in by_channel.values():
        late = False
        for prev, cur in zip(rows, rows[1:], strict=False):
            if prev.finished_at is None or cur.started_at < prev.finished_at:
                overlapping += 1
            gap = (cur.started_at - prev.started_at).total_seconds()
            missed += max(0, round(gap / run.interval) - 1)
            if cur.started_at <= steady_end and gap > 1.5 * run.interval:
                late = True
        late_accounts += late
        if run.killed_at and run.killed_holder:
            before = [r for r in rows if r.started_at <= run.killed_at]
            if before and before[-1].holder == run.killed_holder:
                after = [r for r in rows if r.started_at > run.killed_at and r.holder != run.killed_holder]
                pickups.append((after[0].started_at - run.killed_at).total_seconds() if after else float("inf"))
    lags = [float(a[2]) for a in arrivals]
    visible_lags = [float(a[3]) for a in arrivals if a[3] is not None]
    takeovers = sum(1 for r in runs if r.error and "taken over by" in r.error)
    failed = sum(1 for r in runs if r.outcome == "failed")
    harvests = sum(1 for r in runs if r.outcome in ("succeeded", "skipped"))
    outage_lines = sum(open(p, errors="replace").read().count("is unavailable (") for p in logs.glob("worker*.log"))
    cpu = sum(run.cpu)
    run.results = {
        "harvests": harvests,
        "failed": failed,
        "orders": len(lags),
        "lag_p50": _pct(lags, 0.5),
        "lag_p95": _pct(lags, 0.95),
        "seen_p50": _pct(visible_lags, 0.5),
        "seen_p95": _pct(visible_lags, 0.95),
        "missed": missed,
        "overlapping": overlapping,
        "late_accounts": late_accounts,
        "duplicated": int(duplicated or 0),
        "takeovers": takeovers,
        "killed_accounts": len(pickups),
        "pickup_max": max(pickups) if pickups else None,
        "outage_lines": outage_lines,
        "cpu_per_worker": [c / a for c, a in zip(run.cpu, run.alive, strict=True)],
        "cpu_per_harvest": cpu / harvests if harvests else float("nan"),
    }


def report(runs: list[Run], interval: int) -> None:
    print()
    print(
        f"{'workers':>7} {'accounts':>8} {'harvests':>8} {'failed':>6} {'orders':>6} {'lag p50':>7} {'lag p95':>7} {'seen p50':>8} {'seen p95':>8} "
        f"{'missed':>6} {'overlap':>7} {'late acc':>8} {'dup':>3} {'takeover':>8} {'pickup':>7} "
        f"{'conns':>5} {'conn/w':>6} {'CPU/worker':>14} {'ms CPU/harvest':>14}"
    )
    for run in runs:
        r = run.results
        pickup = "-" if r["pickup_max"] is None else f"{r['pickup_max']:.0f} s"
        cpu = " ".join(f"{c * 100:.0f}%" for c in r["cpu_per_worker"])
        per_worker = max(run.connections.values(), default=0)
        print(
            f"{run.workers:>7} {run.accounts:>8} {r['harvests']:>8} {r['failed']:>6} {r['orders']:>6} "
            f"{r['lag_p50']:>6.1f}s {r['lag_p95']:>6.1f}s {r['seen_p50']:>7.1f}s {r['seen_p95']:>7.1f}s {r['missed']:>6} {r['overlapping']:>7} "
            f"{r['late_accounts']:>8} {r['duplicated']:>3} {r['takeovers']:>8} {pickup:>7} "
            f"{run.total_connections:>5} {per_worker:>6} {cpu:>14} {r['cpu_per_harvest'] * 1000:>14.0f}"
        )
    print()
    for run in runs:
        r = run.results
        events = []
        if run.killed_at:
            events.append(
                f"worker killed (SIGKILL) at {run.killed_at:%H:%M:%S}: {r['killed_accounts']} accounts it had "
                f"harvested last, all picked up again within {r['pickup_max']:.0f} s, "
                f"{r['takeovers']} lease(s) taken over"
            )
        if run.restart:
            took = (run.restart[1] - run.restart[0]).total_seconds()
            events.append(
                f"PostgreSQL restarted at {run.restart[0]:%H:%M:%S} ({took:.1f} s): "
                f"{r['outage_lines']} 'unavailable' line(s) in the workers' logs, {r['failed']} run(s) failed"
            )
        print(f"{run.workers} worker(s): " + ("; ".join(events) or "no fault injected"))
    base = runs[0].results
    if base["harvests"]:
        per_worker = interval * TARGET_BUSY / base["cpu_per_harvest"]
        print(
            f"\none worker: {base['cpu_per_harvest'] * 1000:.0f} ms of CPU per harvest, so about {per_worker:.0f} "
            f"accounts harvested every {interval} s at {TARGET_BUSY:.0%} of a core "
            f"(this machine: {os.cpu_count()} cores, shared)"
        )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox-host"]:
        serve_sandboxes(int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4]), Path(argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, one run each (default 1,2,4)")
    parser.add_argument("--interval", type=int, default=60, help="harvest interval in seconds (default 60)")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of each run (default 5)")
    parser.add_argument("--orders-per-hour", type=float, default=6.0, help="new orders per account per hour")
    parser.add_argument("--sandbox-processes", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SHELFDESK_TEST_DATABASE_URL"),
        help="a PostgreSQL server's admin URL (default: $SHELFDESK_TEST_DATABASE_URL)",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("needs a PostgreSQL server: run it under scripts/pg-test.sh or give --database-url")
    admin = _admin(args.database_url)
    runs = []
    with tempfile.TemporaryDirectory(prefix="shelfdesk-fleet-") as tmp:
        for workers in (int(w) for w in args.workers.split(",")):
            name = f"fleet_{workers}w_{os.getpid()}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            run = Run(workers, args.accounts, args.interval, args.minutes * 60, 3600.0 / args.orders_per_hour, url, name)
            print(
                f"run: {workers} worker(s), {args.accounts} accounts, harvest every {args.interval} s, {args.minutes:g} min …", flush=True
            )
            execute(run, admin, Path(tmp), args.sandbox_processes, args.orders_per_hour)
            runs.append(run)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    report(runs, args.interval)
    bad = [r for r in runs if r.results["overlapping"] or r.results["duplicated"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
