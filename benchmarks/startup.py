"""Cold start of the console: process start to first interactive frame.

Runs ``shelfdesk open`` on a workspace (by default the one
``benchmarks/generate.py`` fills) inside a real pseudo-terminal of 80x24, so
Textual uses its normal Linux driver. The console writes the wall-clock time
of its first ``on_ready`` to the file named by ``SHELFDESK_STARTUP_PROBE`` and
exits; the difference from the moment we spawned the process is the figure.

Budget: median under 1.0 s on a 2-core machine.

    python benchmarks/generate.py --orders 1000000 --products 200000
    python benchmarks/startup.py --runs 7
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

DEFAULT_HOME = Path(__file__).resolve().parent.parent / "bench-workspace"


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def one_run(home: Path, timeout: float) -> float:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    reader = threading.Thread(target=_drain, args=(master,), daemon=True)
    reader.start()
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "ready"
        env = {**os.environ, "SHELFDESK_STARTUP_PROBE": str(probe), "TERM": "xterm-256color"}
        env.pop("SHELFDESK_DATABASE_URL", None)
        started = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "shelfdesk", "open", "--home", str(home)],
            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
        )
        try:
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(slave)
        if not probe.exists():
            os.close(master)
            raise SystemExit(f"the console exited ({proc.returncode}) without reaching its first frame")
        ready = float(probe.read_text())
    os.close(master)
    return ready - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="workspace to open")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    if not (args.home / "shelfdesk.db").exists():
        raise SystemExit(f"no workspace at {args.home}: run benchmarks/generate.py first")
    one_run(args.home, args.timeout)  # warm the OS file cache and .pyc files
    times = [one_run(args.home, args.timeout) for _ in range(args.runs)]
    print(f"startup to first interactive frame over {args.runs} runs on {args.home}")
    print(f"  median {statistics.median(times):.3f} s   min {min(times):.3f} s   max {max(times):.3f} s")
    print(f"  budget 1.000 s: {'OK' if statistics.median(times) < 1.0 else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
