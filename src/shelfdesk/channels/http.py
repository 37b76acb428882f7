"""Shared httpx plumbing for connectors: limits, retries, error mapping, masked logs.

The policy, in one place so every connector behaves the same:

* Before each attempt, take a unit from the connector's rate limiters (on the
  injected clock); it counts until the answer is in, then for a whole window
  (:func:`~shelfdesk.channels.ratelimit.hold_all`).
* A **429** means the request was not processed: wait ``Retry-After`` when the
  marketplace sends it, else the policy's ``rate_limit_delay`` (at least 10 s
  for Back Market, whose Cloudflare blocks for 10 s and sends no header), tell
  the limiters so concurrent calls pause too, and try again (any method).
* A connection that could not be opened (refused, connect timeout) also means
  nothing was sent: retried for any method.
* Timeouts after sending, **5xx** and unreadable JSON are retried with
  exponential back-off and jitter **only for safe calls** (reads, and writes
  that set absolute values). For other calls they raise
  :class:`~shelfdesk.channels.errors.UnknownOutcome` at once; the connector
  then reads the state back to learn whether the effect happened before it
  sends again.
* Everything logged goes through :func:`shelfdesk.logs.redact`; connectors
  register their tokens with :func:`shelfdesk.logs.register_secret`.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol

from shelfdesk.channels.errors import (
    AuthError,
    ChannelError,
    NotFound,
    RateLimited,
    RemoteRejected,
    TransientError,
    UnknownOutcome,
    WafBlocked,
)
from shelfdesk.channels.ratelimit import SlidingWindowLimiter, hold_all
from shelfdesk.claims import backoff
from shelfdesk.clock import Clock
from shelfdesk.logs import redact

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("shelfdesk.channels.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to insist.

    ``max_attempts`` bounds attempts for timeouts/5xx/bad bodies on safe calls
    and for connections that could not be opened; ``max_rate_limited`` bounds
    the 429 waits; a ``Retry-After`` above ``max_retry_after`` is not waited
    for in-line (the caller gets :class:`RateLimited` and reschedules).
    """

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.5
    rate_limit_delay: float = 10.0
    max_rate_limited: int = 4
    max_retry_after: float = 300.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number ``retry`` (1-based): exponential, capped, with jitter.

        The delay is drawn in ``[d * (1 - jitter), d]`` so that many clients
        failing together do not come back together, yet never wait less than
        half the exponential step.
        """
        return backoff(retry, rng, base=self.base_delay, cap=self.max_delay, jitter=self.jitter)


@dataclass
class ApiResponse:
    status: int
    headers: httpx.Headers
    data: Any
    attempts: int


class AuthHook(Protocol):
    """How a connector adds credentials; Leboncoin refreshes its access token here."""

    async def headers(self) -> Mapping[str, str]: ...

    async def refresh(self) -> bool:
        """Called once on a 401; return True when a retry with new headers makes sense."""


LimitersFor = Callable[[str, str], Sequence[SlidingWindowLimiter]]


def parse_retry_after(value: str | None, now_epoch: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now_epoch is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)


def error_message(body: Any) -> tuple[str, str | None]:
    """The marketplace's message and code from any of the envelopes we know.

    Back Market mixes V1 ``{error: {code, message}}``, V2 ``{errors: [...]}``,
    V3 (adds ``title``) and plain-string bodies; our Leboncoin shape uses OAuth's
    ``{error, error_description}`` and ``{error: {code, message}}``.
    """
    if isinstance(body, str):
        return body.strip()[:500] or "no message", None
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            return str(err.get("message") or err.get("code") or err), _opt(err.get("code"))
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0] if isinstance(errors[0], Mapping) else {"message": str(errors[0])}
            messages = [str(e.get("message") or e.get("detail") or e.get("code")) if isinstance(e, Mapping) else str(e) for e in errors]
            return "; ".join(messages), _opt(first.get("code"))
        if isinstance(err, str):
            return str(body.get("error_description") or body.get("message") or err), err
        for key in ("detail", "title", "message"):
            if body.get(key):
                return str(body[key]), _opt(body.get("code"))
    return "no message", None


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _is_waf(response: httpx.Response, body: Any) -> bool:
    ctype = response.headers.get("content-type", "")
    if "html" in ctype:
        return True
    if isinstance(body, Mapping):
        for e in body.get("errors") or []:
            if isinstance(e, Mapping) and str(e.get("code", "")).startswith("bot-"):
                return True
    return False


class ApiClient:
    """One marketplace host: send a request under the policy, return parsed JSON."""

    def __init__(
        self,
        *,
        marketplace: str,
        base_url: str,
        clock: Clock,
        headers: Mapping[str, str] | None = None,
        auth: AuthHook | None = None,
        limiters_for: LimitersFor | None = None,
        policy: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        import httpx  # here: a process that only reads connectors' capabilities (orders show) never loads it

        self.marketplace = marketplace
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self.clock = clock
        self.headers = dict(headers or {})
        self.auth = auth
        self.limiters_for = limiters_for or (lambda method, path: ())
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(transport=transport, timeout=timeout, verify=shared_ssl_context())

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    def url(self, path_or_url: str) -> httpx.URL:
        """Absolute URL for a path under the base URL, or a ``next`` link.

        A link to another host is refused: following it would hand the token
        to a host the merchant never configured. A link to the same host under
        another scheme or port (an API behind a proxy writes ``http://`` links
        while it is reached over ``https://``) is followed on the configured
        origin: paging goes on, and the token never leaves in clear.
        """
        if "://" in path_or_url:
            import httpx

            url = httpx.URL(path_or_url)
            if url.host != self.base_url.host:
                raise ChannelError(f"refusing to follow a link to another host: {url.host}", marketplace=self.marketplace)
            if (url.scheme, url.port) != (self.base_url.scheme, self.base_url.port):
                url = url.copy_with(scheme=self.base_url.scheme, port=self.base_url.port)
            return url
        return self.base_url.join(path_or_url.lstrip("/"))

    def _relative(self, path: str) -> str:
        """``path`` without the base URL's own path prefix (``/prefix/ws/x`` -> ``/ws/x``)."""
        base = self.base_url.path.rstrip("/")
        return path[len(base) :] if base and path.startswith(base + "/") else path

    def _error(
        self, cls: type[ChannelError], message: str, response: httpx.Response | None = None, *, body: Any = None, **kw: Any
    ) -> ChannelError:
        rid = None
        if response is not None:
            rid = response.headers.get("x-request-id") or response.headers.get("cf-ray")
        if rid is None and isinstance(body, Mapping) and body.get("requestId"):
            rid = str(body["requestId"])  # Back Market's error envelopes carry it in the body
        return cls(
            redact(message),
            marketplace=self.marketplace,
            status=response.status_code if response is not None else None,
            request_id=rid,
            **kw,
        )

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        safe: bool | None = None,
        use_auth: bool = True,
        limiter_path: str | None = None,
    ) -> ApiResponse:
        """Send with the retry policy and return the parsed response (JSON, or text).

        ``safe`` says whether repeating the call can do no harm; it defaults to
        true for GET/HEAD/OPTIONS only.
        """
        import httpx

        method = method.upper()
        safe = method in SAFE_METHODS if safe is None else safe
        url = self.url(path_or_url)
        limiters = list(self.limiters_for(method, limiter_path or self._relative(url.path)))
        policy = self.policy
        attempts = 0
        retries = 0  # retries spent on transient failures
        throttled = 0
        refreshed = False
        while True:
            attempts += 1
            hold = await hold_all(limiters)
            label = f"{method} {url.copy_with(query=None)}"
            try:
                with hold:  # the marketplace counts the request somewhere before its answer
                    send_headers = dict(self.headers)
                    if use_auth and self.auth is not None:
                        send_headers.update(await self.auth.headers())
                    send_headers.update(headers or {})
                    response = await self.client.request(
                        method, url, params=params, json=json_body, data=data, files=files, content=content, headers=send_headers
                    )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server: any call may be tried again.
                log.warning("%s: could not connect (%s), attempt %d", label, type(exc).__name__, attempts)
                retries += 1
                if retries >= policy.max_attempts:
                    # Named with the URL tried: a sandbox restarted on another port, a typo in the base URL.
                    where = redact(str(url.copy_with(query=None)))
                    raise self._error(TransientError, f"cannot reach {self.marketplace} at {where}: {exc or type(exc).__name__}") from exc
                await self.clock.sleep(policy.backoff(retries, self.rng))
                continue
            except httpx.TransportError as exc:
                # Sent, then the answer never came or broke: the effect is unknown.
                log.warning("%s: %s after sending, attempt %d", label, type(exc).__name__, attempts)
                if not safe:
                    raise self._error(
                        UnknownOutcome, f"{method} {url.path}: no answer ({type(exc).__name__}); it may have been applied"
                    ) from exc
                retries += 1
                if retries >= policy.max_attempts:
                    raise self._error(
                        TransientError, f"{method} {url.path}: no answer after {attempts} attempts ({type(exc).__name__})"
                    ) from exc
                await self.clock.sleep(policy.backoff(retries, self.rng))
                continue

            status = response.status_code
            log.info("%s -> %d (attempt %d)", redact(label), status, attempts)
            body, parsed_ok = _parse_body(response)

            if status == 429:
                throttled += 1
                wait = parse_retry_after(response.headers.get("retry-after"), self.clock.now().timestamp())
                wait = policy.rate_limit_delay if wait is None else wait
                for limiter in limiters:
                    limiter.penalize(wait)
                if throttled > policy.max_rate_limited or wait > policy.max_retry_after:
                    raise self._error(RateLimited, f"{self.marketplace} keeps throttling {method} {url.path}", response, retry_after=wait)
                await self.clock.sleep(wait)
                continue
            if status == 401:
                if use_auth and self.auth is not None and not refreshed and await self.auth.refresh():
                    refreshed = True
                    continue
                message, _ = error_message(body)
                raise self._error(
                    AuthError,
                    f"{self.marketplace} refused the credential: {message}",
                    response,
                    body=body,
                    expired="expired" in message.lower(),
                )
            if status == 403:
                if _is_waf(response, body):
                    raise self._error(
                        WafBlocked, f"{self.marketplace}'s firewall blocked the request (quote the ray id to support)", response
                    )
                message, _ = error_message(body)
                raise self._error(AuthError, f"{self.marketplace} forbids this: {message}", response, body=body)
            if status >= 500 or (200 <= status < 300 and not parsed_ok):
                what = f"HTTP {status}" if status >= 500 else "an unreadable body"
                if not safe:
                    raise self._error(UnknownOutcome, f"{method} {url.path} got {what}; it may have been applied", response)
                retries += 1
                if retries >= policy.max_attempts:
                    raise self._error(TransientError, f"{method} {url.path} got {what} {attempts} times", response)
                await self.clock.sleep(policy.backoff(retries, self.rng))
                continue
            if status >= 400:
                message, code = error_message(body)
                cls = NotFound if status == 404 else RemoteRejected
                raise self._error(cls, message, response, body=body, code=code, details=body)
            return ApiResponse(status=status, headers=response.headers, data=body, attempts=attempts)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~50 ms per client."""
    import httpx

    return httpx.create_ssl_context()


def _parse_body(response: httpx.Response) -> tuple[Any, bool]:
    """(body, ok). JSON bodies are parsed; a JSON content type that does not parse is not ok."""
    text = response.text
    ctype = response.headers.get("content-type", "")
    if "json" in ctype or (text[:1] in "[{" and text):
        try:
            return json.loads(text), True
        except ValueError:
            return text, False
    if response.status_code == 204 or not text:
        return None, True
    return text, "json" not in ctype


async def call_with_verification(
    send: Callable[[], Awaitable[Any]],
    verify: Callable[[], Awaitable[Any]],
    *,
    attempts: int = 3,
) -> Any:
    """Send a non-idempotent call; on an unknown outcome, check its effect before sending again.

    ``verify`` returns a truthy value when the effect is visible (that value is
    returned), falsy when it is not, in which case the call is sent once more.
    """
    last: UnknownOutcome | None = None
    for _ in range(attempts):
        try:
            return await send()
        except UnknownOutcome as exc:
            last = exc
            seen = await verify()
            if seen:
                return seen
    assert last is not None
    raise last
