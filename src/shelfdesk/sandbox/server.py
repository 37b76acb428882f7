"""Run both sandboxes in-process: uvicorn in a background thread, on loopback.

Used by the contract tests, the demo and ``shelfdesk sandbox``::

    with start_sandboxes(state_dir, clock=clock, orders_per_hour=0) as sb:
        sb.backmarket_url, sb.leboncoin_url  # base URLs for the connectors
        sb.backmarket.log.entries            # what the Back Market sandbox received

The sockets are bound before the thread starts, so the URLs are usable as soon
as this returns. Only loopback addresses are accepted unless ``force`` is set:
the sandboxes accept fake credentials and must not be reachable from a network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from shelfdesk.clock import Clock
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN as BM_TOKEN
from shelfdesk.sandbox.backmarket import BackMarketSandbox
from shelfdesk.sandbox.leboncoin import LeboncoinSandbox


class NotLoopback(ValueError):
    """Refused: the sandboxes only listen on loopback unless forced."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int, *, force: bool = False) -> socket.socket:
    if not force and not is_loopback(host):
        raise NotLoopback(f"refusing to listen on {host}: the sandbox only binds loopback addresses (use --force to override)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, a response written in two
    # pieces waits ~40 ms for a delayed ACK on every keep-alive request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def socket_url(sock: socket.socket) -> str:
    """The http:// address a bound socket answers on (brackets around an IPv6 host)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass
class RunningSandboxes:
    backmarket: BackMarketSandbox
    leboncoin: LeboncoinSandbox
    backmarket_url: str
    leboncoin_url: str
    _servers: list[uvicorn.Server] = field(default_factory=list, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def reset(self, *, clock: Clock | None = None, seed: int | None = None) -> None:
        """Both sandboxes back to their seed, on ``clock`` if given (servers keep running)."""
        self.backmarket.reset(clock=clock, seed=seed)
        self.leboncoin.reset(clock=clock, seed=seed)

    def __enter__(self) -> RunningSandboxes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def credentials(self) -> dict[str, Any]:
        return {"backmarket": self.backmarket.credentials(), "leboncoin": self.leboncoin.credentials()}


def start_sandboxes(
    state_dir: Path | str,
    *,
    clock: Clock | None = None,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    orders_per_hour: float | None = None,
    force: bool = False,
    task_seconds: float = 120.0,
    hang_cap: float = 15.0,
    leboncoin_port: int | None = None,
) -> RunningSandboxes:
    """Start both sandboxes; ``port`` 0 picks free ports, else Back Market on ``port`` and Leboncoin on ``port + 1``
    (or on ``leboncoin_port`` when given: the ports a previous start had).

    Each sandbox keeps its state in its own sub-folder of ``state_dir``.
    """
    state_dir = Path(state_dir)
    bm = BackMarketSandbox(
        state_dir / "backmarket",
        clock=clock,
        seed=seed,
        token=token or BM_TOKEN,
        orders_per_hour=orders_per_hour,
        task_seconds=task_seconds,
        hang_cap=hang_cap,
    )
    lbc = LeboncoinSandbox(
        state_dir / "leboncoin",
        clock=clock,
        seed=seed,
        refresh_token=token,
        orders_per_hour=orders_per_hour,
        feed_seconds=task_seconds,
        hang_cap=hang_cap,
    )
    sockets = [bind(host, port, force=force)]
    try:
        second = leboncoin_port if leboncoin_port is not None else (port + 1 if port else 0)
        sockets.append(bind(host, second, force=force))
    except OSError:
        sockets[0].close()
        raise
    servers = [uvicorn.Server(uvicorn.Config(app.app, log_level="warning", access_log=False, lifespan="off")) for app in (bm, lbc)]

    async def serve() -> None:
        await asyncio.gather(*(s.serve(sockets=[sock]) for s, sock in zip(servers, sockets, strict=True)))

    thread = threading.Thread(target=lambda: asyncio.run(serve()), name="shelfdesk-sandbox", daemon=True)
    running = RunningSandboxes(bm, lbc, socket_url(sockets[0]), socket_url(sockets[1]), servers, thread)
    thread.start()
    return running
