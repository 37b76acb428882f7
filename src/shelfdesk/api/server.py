"""Run the API under uvicorn: in the foreground (``shelfdesk api serve``) or in a thread (tests, benchmarks).

The socket is bound before the server starts (the sandboxes' helper), so the
URL is usable as soon as :func:`start_api` returns. Loopback unless the
merchant names another address; TLS is a reverse proxy's job (README).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import uvicorn

from shelfdesk.api import DEFAULT_HOST, DEFAULT_PORT
from shelfdesk.sandbox.server import bind, socket_url

if TYPE_CHECKING:
    from shelfdesk.api.app import ApiSettings
    from shelfdesk.context import AppContext

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "RunningApi", "serve_forever", "start_api"]


def _server(ctx: AppContext, settings: ApiSettings | None, *, access_log: bool) -> uvicorn.Server:
    from shelfdesk.api.app import create_app

    config = uvicorn.Config(create_app(ctx, settings), log_level="warning", access_log=access_log, lifespan="off", server_header=False)
    return uvicorn.Server(config)


@dataclass
class RunningApi:
    url: str
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> RunningApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_api(ctx: AppContext, settings: ApiSettings | None = None, *, host: str = DEFAULT_HOST, port: int = 0) -> RunningApi:
    """Serve the API in a background thread; returns once the socket listens (port 0: any free port)."""
    sock = bind(host, port, force=True)
    server = _server(ctx, settings, access_log=False)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), name="shelfdesk-api", daemon=True)
    thread.start()
    return RunningApi(socket_url(sock), server, thread)


def serve_forever(ctx: AppContext, settings: ApiSettings | None, *, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both)."""
    sock = bind(host, port, force=True)
    print(f"shelfdesk API on {socket_url(sock)} (OpenAPI document at {socket_url(sock)}/v1/openapi.json)", flush=True)
    asyncio.run(_server(ctx, settings, access_log=True).serve(sockets=[sock]))
