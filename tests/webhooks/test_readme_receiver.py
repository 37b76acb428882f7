"""The receiver example of README.md ("Verifying push notifications") really accepts shelfdesk's requests.

It is run as written (only its port changes), on the real clock since it checks the
timestamp against the time of day; a request signed with another secret gets 401.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shelfdesk.clock import SystemClock
from shelfdesk.context import AppContext, open_context
from shelfdesk.webhooks import delivery, subscriptions
from tests.webhooks.conftest import order_with_events

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Verifying push notifications") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_readme_receiver_verifies_and_prints_events(ctx: AppContext, tmp_path: Path) -> None:
    real = open_context(ctx.paths, clock=SystemClock())
    port = free_port()
    code = readme_receiver().replace('("127.0.0.1", 8787)', f'("127.0.0.1", {port})')
    assert str(port) in code
    script = tmp_path / "receiver.py"
    script.write_text(code, encoding="utf-8")
    info, secret = subscriptions.add_subscription(real, "erp", f"http://127.0.0.1:{port}/", "order.created")
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env={"SHELFDESK_SECRET": secret, "PATH": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):  # wait until it listens (real time: it is a real process)
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.02)
        assert delivery.send_test(real, "erp").status_code == 204
        order_with_events(real, "README-1")
        report = delivery.deliver_pending(real)
        assert report.delivered == 1
        # Signed with another secret: refused, and counted as a failure.
        other, _ = subscriptions.add_subscription(
            real, "impostor", f"http://127.0.0.1:{port}/", "order.created", secret="not-the-receivers-secret"
        )
        assert delivery.send_test(real, "impostor").status_code == 401
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
        real.close()
    assert "order.created README-1 New" in out, err
