"""The publishing services and their CLI import no Textual (the CLI and workers run without a UI)."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "shelfdesk.publishing.engine",
    "shelfdesk.publishing.triage",
    "shelfdesk.publishing.repricer",
    "shelfdesk.cli.publish_cmd",
    "shelfdesk.cli.publications_cmd",
    "shelfdesk.cli.reprice_cmd",
]


def test_publishing_does_not_import_textual() -> None:
    code = f"import sys\nfor m in {MODULES!r}: __import__(m)\nprint(','.join(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
