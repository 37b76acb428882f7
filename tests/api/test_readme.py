"""The README's curl examples, run as written against a live API (curl, a shell, the sandboxes)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import GOOD_IMEI, Api, Desk, add_products

README = Path(__file__).resolve().parents[2] / "README.md"


def _examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- api-curl -->\s*```sh\n(.*?)```", text, re.S)
    assert block, "the README's HTTP API section lost its curl examples"
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_readme_curl_examples_run_as_written(api: Api, desk: Desk) -> None:
    add_products(desk.ctx, desk.store_id, {"IPH13-128-MID-GOOD": 10})
    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="accepted")
    desk.harvest()
    env = {**os.environ, "SHELFDESK_API": api.url, "TOKEN": api.write_token, "ORDER": str(order["order_id"])}
    examples = _examples()
    assert len(examples) >= 8 and GOOD_IMEI in "\n".join(examples)
    for line in examples:
        run = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, (line, run.stderr)
        answer = json.loads(run.stdout)
        assert "error" not in answer, (line, answer)
        if "/ship" in line:
            assert answer["kind"] == "ship" and answer["created"]
            env["ACTION"] = str(answer["action_id"])
    assert desk.send().outcomes[0].state.value == "confirmed"
    assert desk.sandbox_state("backmarket")["orders"][str(order["order_id"])]["tracking_number"] == "6A12345678901"
