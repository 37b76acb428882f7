"""The sandboxes' ports: stable between starts, so the base URL a channel was given keeps working.

``shelfdesk sandbox`` starts on :data:`DEFAULT_PORTS` the first time (``--port``
overrides), the demo on free ones; both then keep the ports they served on in
the state folder (:data:`PORTS_FILE`) and take them again at the next start.
Ports that are taken by then give way to free ones, and the caller says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

#: Back Market's and Leboncoin's ports for a state folder that never served.
DEFAULT_PORTS = (8731, 8732)
#: In the state folder: the ports of the last start, reused by the next one.
PORTS_FILE = "ports.json"


def saved_ports(state: Path) -> tuple[int, int] | None:
    """(Back Market, Leboncoin) ports the sandboxes had the last time they served this state folder."""
    try:
        saved = json.loads((state / PORTS_FILE).read_text(encoding="utf-8"))
        ports = int(saved["backmarket"]), int(saved["leboncoin"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ports if all(0 < p < 65536 for p in ports) else None


def save_ports(state: Path, backmarket_url: str, leboncoin_url: str) -> None:
    """Keep the ports for the next start, so the base URL a channel was given stays right."""
    ports = {"backmarket": urlsplit(backmarket_url).port, "leboncoin": urlsplit(leboncoin_url).port}
    if all(ports.values()):
        state.mkdir(parents=True, exist_ok=True)
        (state / PORTS_FILE).write_text(json.dumps(ports) + "\n", encoding="utf-8")
