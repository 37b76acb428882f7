"""``shelfdesk sandbox`` serves both APIs; a plain HTTP client with the printed token gets real JSON."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


@pytest.mark.slow
def test_sandbox_command_serves_both_apis(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "shelfdesk", "sandbox", "--state", str(tmp_path / "sb"), "--token", "cli-token-42",
               "--orders-per-hour", "0"]  # fmt: skip
    # stderr to a file, not a pipe nobody reads: a full pipe would block the server's logging and its exit.
    errors = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(lines)
        bm = re.search(r"Back Market sandbox\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        lbc = re.search(r"Leboncoin sandbox\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        assert "Basic cli-token-42" in text and "refresh token      cli-token-42" in text
        orders = httpx.get(f"{bm}/ws/orders", headers={"Authorization": "Basic cli-token-42", "User-Agent": "BM-Acme-cli;ops@example.org"})
        assert orders.status_code == 200 and orders.json()["results"][0]["orderlines"]
        token = httpx.post(f"{lbc}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "cli-token-42"}).json()
        ads = httpx.get(f"{lbc}/api/v1/ads", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert ads.status_code == 200 and ads.json()["total"] > 0
    finally:
        process.send_signal(signal.SIGINT)  # handled even when the test runs from a background shell
        assert process.wait(timeout=30) == 0, (tmp_path / "stderr.log").read_text()[-2000:]
        errors.close()
    assert (tmp_path / "sb" / "backmarket" / "state.json").exists() and (tmp_path / "sb" / "leboncoin" / "requests.jsonl").exists()


def test_sandbox_command_refuses_a_public_address(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "shelfdesk", "sandbox", "--host", "0.0.0.0", "--state", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 2 and "loopback" in result.stderr
