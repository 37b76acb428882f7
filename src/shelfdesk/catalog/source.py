"""Where a feed comes from: a local path, or an http(s) URL downloaded with limits.

A download is streamed to a file in the workspace (never held in memory),
stops at a size limit and at a total time limit (checked as each piece
arrives, and enforced by a watchdog that closes the connection, so a server
trickling one byte a second is cut off on time), and follows a few redirects
on the same host only: a redirect to another host is refused, and the
operator who trusts it gives that URL as the source instead.
Readers then stream from that file, so the import's memory does not grow with
the feed. Any other URL scheme is refused (no ``file://`` tricks through a URL
field someone else may fill in).
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shelfdesk.catalog.errors import SourceError

if TYPE_CHECKING:
    import httpx

    from shelfdesk.clock import Clock

#: Largest feed downloaded (a 200,000-product CSV is about 40 MB).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: Seconds for the whole download; connect and each read have their own shorter limits.
DEFAULT_TIMEOUT = 300.0
CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 60.0
MAX_REDIRECTS = 5


@dataclass
class LocalFeed:
    """A feed on disk, ready to read; ``temporary`` ones are deleted by :meth:`cleanup`."""

    path: Path
    source: str
    size: int
    temporary: bool = False
    content_type: str | None = None
    etag: str | None = None  #: the server's validators, for the next conditional request
    last_modified: str | None = None
    not_modified: bool = False  #: the server answered 304 to a conditional request: nothing was downloaded

    def cleanup(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


def is_url(source: str) -> bool:
    return urlsplit(source.strip()).scheme.lower() in ("http", "https")


def open_source(
    source: str,
    *,
    download_dir: Path,
    clock: Clock,
    max_bytes: int | None = None,
    timeout: float | None = None,
    transport: httpx.BaseTransport | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> LocalFeed:
    """The feed at ``source`` as a local file; raises :class:`SourceError` with the reason.

    Limits default to :data:`DEFAULT_MAX_BYTES` and :data:`DEFAULT_TIMEOUT`.
    ``etag``/``last_modified`` make a URL's request conditional (see :func:`download`).
    """
    max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    text = source.strip()
    if not text:
        raise SourceError("no catalog source: give a file path or an http(s) URL")
    scheme = urlsplit(text).scheme.lower()
    if is_url(text):
        return download(
            text,
            download_dir=download_dir,
            clock=clock,
            max_bytes=max_bytes,
            timeout=timeout,
            transport=transport,
            etag=etag,
            last_modified=last_modified,
        )
    if scheme and len(scheme) > 1:  # "C:" is a Windows drive, not a scheme
        raise SourceError(f"unsupported source {scheme}://: give a file path or an http(s) URL")
    path = Path(os.path.expanduser(text))
    if not path.exists():
        raise SourceError(f"no such file: {path}")
    if not path.is_file():
        raise SourceError(f"not a file: {path}")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return LocalFeed(path, str(path), size)


def download(
    url: str,
    *,
    download_dir: Path,
    clock: Clock,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> LocalFeed:
    """Stream ``url`` into a temporary file under ``download_dir``.

    ``etag``/``last_modified`` (what the server answered last time) make the
    request conditional: a 304 returns a feed with ``not_modified`` and no file.
    """
    import httpx

    from shelfdesk.secrets import mask_url

    shown = mask_url(url)
    download_dir.mkdir(parents=True, exist_ok=True)
    deadline = clock.monotonic() + timeout
    fd, name = tempfile.mkstemp(dir=download_dir, prefix="feed-", suffix=_suffix(url))
    path = Path(name)
    size = 0
    expired = threading.Event()
    try:
        with (
            os.fdopen(fd, "wb") as out,
            httpx.Client(
                transport=transport,
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                follow_redirects=False,
                headers={"User-Agent": "shelfdesk catalog import"},
            ) as client,
        ):
            target = url
            for _ in range(MAX_REDIRECTS + 1):
                request = client.build_request("GET", target, headers=_conditional(etag, last_modified))
                response = client.send(request, stream=True)
                if not response.has_redirect_location:  # a 304 (not modified) is a 3xx without a Location
                    break
                following = str(response.next_request.url) if response.next_request is not None else ""
                response.close()
                if not _same_host(url, following):
                    raise SourceError(
                        f"{shown} redirects to another host ({mask_url(following)}): refused; if you trust it, give that URL as the source"
                    )
                target = following
            else:
                raise SourceError(f"{shown} redirects too many times")
            if response.status_code == 304 and (etag or last_modified):
                response.close()
                path.unlink(missing_ok=True)
                return LocalFeed(
                    path,
                    url,
                    0,
                    etag=response.headers.get("etag") or etag,
                    last_modified=response.headers.get("last-modified") or last_modified,
                    not_modified=True,
                )

            def give_up(response: Any = response) -> None:
                expired.set()
                response.close()

            watchdog = threading.Timer(timeout, give_up)
            watchdog.daemon = True
            watchdog.start()
            try:
                if response.status_code >= 400:
                    raise SourceError(f"{shown} answered HTTP {response.status_code} {response.reason_phrase}".rstrip())
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise SourceError(f"{shown} is {_mb(int(declared))}, over the {_mb(max_bytes)} limit")
                for chunk in response.iter_bytes():  # as each piece arrives, however small
                    size += len(chunk)
                    if size > max_bytes:
                        raise SourceError(f"{shown} is larger than the {_mb(max_bytes)} limit; download stopped")
                    if clock.monotonic() > deadline or expired.is_set():
                        raise SourceError(f"{shown} took longer than {timeout:.0f} s to download; stopped")
                    out.write(chunk)
                if expired.is_set():
                    raise SourceError(f"{shown} took longer than {timeout:.0f} s to download; stopped")
                content_type = response.headers.get("content-type")
                validators = response.headers.get("etag"), response.headers.get("last-modified")
            except httpx.HTTPError:
                if expired.is_set():
                    raise SourceError(f"{shown} took longer than {timeout:.0f} s to download; stopped") from None
                raise
            finally:
                watchdog.cancel()
                response.close()
    except SourceError:
        path.unlink(missing_ok=True)
        raise
    except httpx.TimeoutException:
        path.unlink(missing_ok=True)
        raise SourceError(f"{shown} timed out") from None
    except httpx.TooManyRedirects:
        path.unlink(missing_ok=True)
        raise SourceError(f"{shown} redirects too many times") from None
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise SourceError(f"cannot download {shown}: {exc}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return LocalFeed(path, url, size, temporary=True, content_type=content_type, etag=validators[0], last_modified=validators[1])


def _conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _same_host(origin: str, target: str) -> bool:
    """A redirect kept on the feed's own host (http to https on it is fine)."""
    first, then = urlsplit(origin), urlsplit(target)
    return then.scheme in ("http", "https") and (first.hostname or "").lower() == (then.hostname or "").lower()


def _suffix(url: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    return suffix if suffix in (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".xml") else ""


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n:,} bytes"
