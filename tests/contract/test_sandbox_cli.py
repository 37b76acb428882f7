"""``shelfdesk sandbox`` serves both APIs; a plain HTTP client with the printed token gets real JSON."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox.backmarket import BackMarketSandbox


@contextmanager
def sandbox_command(tmp_path: Path, *args: str) -> Iterator[str]:
    """``shelfdesk sandbox ARGS`` running; yields what it printed up to "Ctrl-C stops.", stops it with Ctrl-C after."""
    command = [sys.executable, "-m", "shelfdesk", "sandbox", *args]
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
        yield "".join(lines)
    finally:
        process.send_signal(signal.SIGINT)  # handled even when the test runs from a background shell
        assert process.wait(timeout=30) == 0, (tmp_path / "stderr.log").read_text()[-2000:]
        errors.close()


@pytest.mark.slow
def test_sandbox_command_serves_both_apis(tmp_path: Path) -> None:
    with sandbox_command(tmp_path, "--state", str(tmp_path / "sb"), "--token", "cli-token-42", "--orders-per-hour", "0") as text:
        bm = re.search(r"Back Market sandbox\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        lbc = re.search(r"Leboncoin sandbox\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        assert "Basic cli-token-42" in text and "refresh token      cli-token-42" in text
        assert "shelfdesk sandbox products FEED" in text and "/_sandbox/proposals" in text  # how it learns a catalog
        orders = httpx.get(f"{bm}/ws/orders", headers={"Authorization": "Basic cli-token-42", "User-Agent": "BM-Acme-cli;ops@example.org"})
        assert orders.status_code == 200 and orders.json()["results"][0]["orderlines"]
        token = httpx.post(f"{lbc}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "cli-token-42"}).json()
        ads = httpx.get(f"{lbc}/api/v1/ads", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert ads.status_code == 200 and ads.json()["total"] > 0
    assert (tmp_path / "sb" / "backmarket" / "state.json").exists() and (tmp_path / "sb" / "leboncoin" / "requests.jsonl").exists()


@pytest.mark.slow
def test_sandbox_command_starts_on_a_broken_folder_and_says_what_it_skipped(tmp_path: Path, clock: FakeClock) -> None:
    """A journal record that cannot be read no longer stops ``shelfdesk sandbox``: it is skipped, and said."""
    sandbox = BackMarketSandbox(tmp_path / "sb" / "backmarket", clock=clock, orders_per_hour=0)
    sandbox.create_orders({"skus": ["APP1-WHT-EXC"], "fate": "paid"})
    journal = sandbox.store.journal_path()
    journal.write_bytes(b"not json\n" + journal.read_bytes())
    with sandbox_command(tmp_path, "--state", str(tmp_path / "sb")) as text:
        assert re.search(r"Recovered\s+backmarket: journal-1.jsonl: skipped 1 unreadable record", text), text


def test_sandbox_command_refuses_a_public_address(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shelfdesk", "sandbox", "--host", "0.0.0.0", "--state", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "loopback" in result.stderr


def test_a_restarted_sandbox_keeps_its_ports(tmp_path: Path) -> None:
    """The ports changed on every restart, breaking the base URL a channel had been given."""

    def urls(*extra: str) -> tuple[str, str]:
        command = [sys.executable, "-m", "shelfdesk", "sandbox", "--state", str(tmp_path / "sb"), "--orders-per-hour", "0", *extra]
        errors = (tmp_path / "stderr.log").open("w")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert process.stdout is not None
            text = ""
            for line in process.stdout:
                text += line
                if line.startswith("Ctrl-C"):
                    break
            bm = re.search(r"Back Market sandbox\s+(\S+)", text).group(1)  # type: ignore[union-attr]
            lbc = re.search(r"Leboncoin sandbox\s+(\S+)", text).group(1)  # type: ignore[union-attr]
            return bm, lbc
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0, (tmp_path / "stderr.log").read_text()[-2000:]
            errors.close()

    first = urls("--port", "0")  # free ports (the default ones may serve another test), kept for the next start
    assert urls() == first


def test_sandbox_products_teaches_the_sandbox_a_feeds_eans_served_or_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A new merchant's catalog is unknown to the sandbox: one command adds its EANs, and says which rows it left out."""
    from shelfdesk.catalog.gtin import make_ean13
    from shelfdesk.cli import main
    from shelfdesk.sandbox.ports import save_ports
    from shelfdesk.sandbox.server import start_sandboxes

    first, second = make_ean13("376000000081"), make_ean13("376000000082")
    feed = tmp_path / "catalog.csv"
    feed.write_text(
        f"Référence;EAN13;Désignation;Catégorie\nFP5;{first};Fairphone 5;Phones\nX;123;Broken;Phones\nFP4;{second};Fairphone 4;Phones\n"
    )
    state = tmp_path / "sb"
    assert main(["sandbox", "products", str(feed), "--state", str(state)]) == 0  # not serving: into its state folder
    out = capsys.readouterr().out
    assert "2 product(s) added to the sandbox's state folder" in out and "left out: line 3: 123 is not a valid EAN" in out
    with start_sandboxes(state, orders_per_hour=0) as running:
        titles = {p["ean"]: p["title"] for p in httpx.get(f"{running.backmarket_url}/_sandbox/products").json()["products"]}
        assert titles[first] == "Fairphone 5"
        save_ports(state, running.backmarket_url, running.leboncoin_url)
        feed.write_text(f"ean,title\n{first},Fairphone 5\n{make_ean13('376000000083')},Fairphone 3\n")
        assert main(["sandbox", "products", str(feed), "--state", str(state)]) == 0  # serving: through its admin API
        out = capsys.readouterr().out
        assert f"1 product(s) added to the sandbox at {running.backmarket_url}; 1 it already knew." in out
        assert httpx.get(f"{running.backmarket_url}/_sandbox/requests", params={"path": "/_sandbox/products"}).status_code == 200
    assert main(["sandbox", "products", str(feed), "--url", "http://127.0.0.1:9"]) == 2
    assert "no Back Market sandbox answers at http://127.0.0.1:9/_sandbox/products" in capsys.readouterr().err
