"""Cold start of the console: process start to first interactive frame, seen from outside.

Runs ``shelfdesk open`` on a workspace (by default the one
``benchmarks/generate.py`` fills) inside a real pseudo-terminal of 80x24, so
Textual uses its normal Linux driver, and reads what it draws there as a
terminal would. The figure is the time from spawning the process to the
moment the terminal has received the first complete frame (its footer, which
Textual draws last, shows the ``^p Palette`` key): what an operator waits for.
The console also writes the wall-clock time of its first ``on_ready`` to the
file named by ``SHELFDESK_STARTUP_PROBE`` and exits; that in-process figure is
printed beside it for comparison (the difference is the writing of the frame).
Bytecode is cached as after an install (``PYTHONDONTWRITEBYTECODE`` is unset).

Budget: median under 0.7 s on a 2-core machine, seen from outside.

    python benchmarks/generate.py --orders 1000000 --products 200000
    python benchmarks/startup.py --runs 7
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import resource
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
BUDGET_S = 0.7
#: Drawn in the footer, the last part of the first full frame.
MARKER = "Palette"
_ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class _Screen:
    """Reads the terminal's side of the pseudo-terminal and notes when ``MARKER`` first shows."""

    def __init__(self, fd: int) -> None:
        self.fd, self.seen_at, self._text = fd, None, b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while chunk := os.read(self.fd, 65536):
                if self.seen_at is None:
                    self._text += _ESCAPES.sub(b"", chunk)
                    if MARKER.encode() in self._text:
                        self.seen_at = time.time()
        except OSError:
            pass


def one_run(home: Path, timeout: float) -> tuple[float, float, float]:
    """(seen from outside, reported from inside, CPU) seconds from spawning the console."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    screen = _Screen(master)
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "ready"
        env = {**os.environ, "SHELFDESK_STARTUP_PROBE": str(probe), "TERM": "xterm-256color"}
        env.pop("SHELFDESK_DATABASE_URL", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, then read from __pycache__
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "shelfdesk", "open", "--home", str(home)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    screen.thread.join(timeout=2)
    os.close(master)
    if screen.seen_at is None:
        raise SystemExit(f"the terminal never showed {MARKER!r}: is the footer still drawn?")
    return screen.seen_at - started, ready - started, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="workspace to open")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    if not (args.home / "shelfdesk.db").exists():
        raise SystemExit(f"no workspace at {args.home}: run benchmarks/generate.py first")
    one_run(args.home, args.timeout)  # warm the OS file cache and .pyc files
    runs = [one_run(args.home, args.timeout) for _ in range(args.runs)]
    outside, inside, cpu = [r[0] for r in runs], [r[1] for r in runs], [r[2] for r in runs]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"startup to first interactive frame over {args.runs} runs on {args.home} (load average {load})")
    print(f"  seen in the terminal: median {statistics.median(outside):.3f} s   min {min(outside):.3f} s   max {max(outside):.3f} s")
    print(f"  on_ready, in process: median {statistics.median(inside):.3f} s   min {min(inside):.3f} s   max {max(inside):.3f} s")
    print(f"  CPU of the whole run (to its exit, just after the frame): median {statistics.median(cpu):.3f} s")
    print(f"  budget {BUDGET_S:.3f} s (seen in the terminal): {'OK' if statistics.median(outside) < BUDGET_S else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
