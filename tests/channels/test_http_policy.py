"""The retry policy of ApiClient, against an in-memory transport (the contract tests use real HTTP)."""

from __future__ import annotations

import logging
import random

import httpx
import pytest

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
from shelfdesk.channels.http import ApiClient, RetryPolicy, call_with_verification, error_message, parse_retry_after
from shelfdesk.clock import FakeClock
from shelfdesk.logs import MaskingFilter, register_secret


def scripted(*responses: httpx.Response | type[Exception]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport that answers with ``responses`` in order and records what it was sent."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, type):
            raise item("scripted", request=request)
        return item

    return httpx.MockTransport(handler), seen


def client(clock: FakeClock, transport: httpx.MockTransport, **kw) -> ApiClient:
    return ApiClient(marketplace="test", base_url="https://api.test/base", clock=clock, transport=transport, rng=random.Random(7), **kw)


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=0.5)
    rng = random.Random(3)
    delays = [policy.backoff(n, rng) for n in range(1, 7)]
    for n, delay in enumerate(delays, start=1):
        step = min(8.0, 2 ** (n - 1))
        assert step / 2 <= delay <= step
    assert len({round(d, 6) for d in delays}) == len(delays)  # jitter: no two alike


async def test_safe_call_retried_on_5xx_then_succeeds(clock: FakeClock) -> None:
    transport, seen = scripted(httpx.Response(503), httpx.Response(502), ok({"x": 1}))
    response = await client(clock, transport).request("GET", "/ws/orders")
    assert response.data == {"x": 1} and response.attempts == 3 and len(seen) == 3
    assert len(clock.sleeps) == 2 and clock.sleeps[1] > clock.sleeps[0] * 0.5


async def test_safe_call_gives_up_after_max_attempts(clock: FakeClock) -> None:
    transport, seen = scripted(*[httpx.Response(500)] * 4)
    with pytest.raises(TransientError) as info:
        await client(clock, transport).request("GET", "/x")
    assert len(seen) == 4 and not isinstance(info.value, UnknownOutcome)


async def test_unsafe_call_never_retried_on_5xx_or_timeout(clock: FakeClock) -> None:
    for failure in (httpx.Response(500), httpx.ReadTimeout, httpx.RemoteProtocolError):
        transport, seen = scripted(failure)
        with pytest.raises(UnknownOutcome):
            await client(clock, transport).request("POST", "/ws/listings", json_body={})
        assert len(seen) == 1


async def test_unreadable_body_is_an_unknown_outcome_for_unsafe_and_retried_for_safe(clock: FakeClock) -> None:
    broken = httpx.Response(200, content=b'{"order_id": 1,', headers={"content-type": "application/json"})
    transport, seen = scripted(broken)
    with pytest.raises(UnknownOutcome):
        await client(clock, transport).request("POST", "/ws/orders/1", json_body={})
    transport, seen = scripted(broken, ok())
    assert (await client(clock, transport).request("GET", "/ws/orders/1")).attempts == 2


async def test_connect_errors_retried_even_for_unsafe_calls(clock: FakeClock) -> None:
    transport, seen = scripted(httpx.ConnectError, ok())
    response = await client(clock, transport).request("POST", "/ws/orders/1", json_body={})
    assert response.attempts == 2


async def test_429_without_retry_after_waits_the_policy_delay(clock: FakeClock) -> None:
    transport, seen = scripted(httpx.Response(429), ok())
    await client(clock, transport, policy=RetryPolicy(rate_limit_delay=10.0)).request("POST", "/ws/listings", json_body={})
    assert clock.sleeps == [10.0] and len(seen) == 2


async def test_429_honours_retry_after(clock: FakeClock) -> None:
    transport, seen = scripted(httpx.Response(429, headers={"Retry-After": "3"}), ok())
    await client(clock, transport).request("GET", "/x")
    assert clock.sleeps == [3.0]


async def test_429_forever_raises_rate_limited(clock: FakeClock) -> None:
    transport, seen = scripted(*[httpx.Response(429)] * 10)
    with pytest.raises(RateLimited) as info:
        await client(clock, transport, policy=RetryPolicy(max_rate_limited=2)).request("GET", "/x")
    assert info.value.retry_after == 10.0 and len(seen) == 3


async def test_error_mapping(clock: FakeClock) -> None:
    cases = [
        (httpx.Response(401, json={"errors": [{"code": "unauthorized", "message": "no"}]}), AuthError),
        (httpx.Response(403, json={"errors": [{"code": "forbidden", "message": "Invalid token."}]}), AuthError),
        (
            httpx.Response(
                403, text="<html>Attention Required! | Cloudflare</html>", headers={"content-type": "text/html", "cf-ray": "abc-CDG"}
            ),
            WafBlocked,
        ),
        (httpx.Response(403, json={"errors": [{"code": "bot-need-challenge", "message": "challenge"}]}), WafBlocked),
        (httpx.Response(404, json={"errors": [{"code": "not-found", "message": "Order 1 not found"}]}), NotFound),
        (httpx.Response(400, json="Missing required field(s): catalog"), RemoteRejected),
    ]
    for response, expected in cases:
        transport, _ = scripted(response)
        with pytest.raises(expected) as info:
            await client(clock, transport).request("GET", "/x")
        assert type(info.value) is expected
    transport, _ = scripted(httpx.Response(403, text="<html/>", headers={"content-type": "text/html", "cf-ray": "ray-1"}))
    with pytest.raises(WafBlocked) as waf:
        await client(clock, transport).request("GET", "/x")
    assert waf.value.request_id == "ray-1"


async def test_401_refreshes_once_then_retries(clock: FakeClock) -> None:
    class Auth:
        def __init__(self) -> None:
            self.token, self.refreshes = "old", 0

        async def headers(self):
            return {"Authorization": f"Bearer {self.token}"}

        async def refresh(self) -> bool:
            self.refreshes += 1
            self.token = "new"
            return True

    auth = Auth()
    transport, seen = scripted(httpx.Response(401), ok())
    await client(clock, transport, auth=auth).request("POST", "/orders/1/cancel", json_body={})
    assert [r.headers["authorization"] for r in seen] == ["Bearer old", "Bearer new"] and auth.refreshes == 1
    transport, seen = scripted(httpx.Response(401), httpx.Response(401))
    with pytest.raises(AuthError):
        await client(clock, transport, auth=auth).request("GET", "/x")
    assert len(seen) == 2


async def test_links_to_other_hosts_refused(clock: FakeClock) -> None:
    transport, seen = scripted(ok())
    api = client(clock, transport)
    with pytest.raises(ChannelError):
        await api.request("GET", "https://evil.test/ws/orders?page=2")
    assert seen == []
    await api.request("GET", "https://api.test/base/ws/orders?page=2")
    assert seen[0].url.path == "/base/ws/orders"


async def test_limiter_path_is_relative_to_the_base(clock: FakeClock) -> None:
    paths: list[str] = []
    transport, _ = scripted(ok())
    api = client(clock, transport, limiters_for=lambda method, path: paths.append(path) or [])
    await api.request("GET", "/ws/listings")
    assert paths == ["/ws/listings"]


async def test_tokens_never_reach_the_logs(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-very-secret-token-123"
    register_secret(secret)
    transport, _ = scripted(httpx.Response(500), ok())
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.DEBUG, logger="shelfdesk"):
        await client(clock, transport, headers={"Authorization": f"Basic {secret}"}).request("GET", f"/x?token={secret}")
    assert caplog.records and secret not in caplog.text


def test_error_envelopes() -> None:
    assert error_message({"error": {"code": "E1", "message": "bad listing"}}) == ("bad listing", "E1")
    assert error_message({"errors": [{"code": "a", "message": "one"}, {"message": "two"}]}) == ("one; two", "a")
    assert error_message({"error": "invalid_grant", "error_description": "refresh token expired"}) == (
        "refresh token expired",
        "invalid_grant",
    )
    assert error_message({"status": 400, "title": "Bad Request"}) == ("Bad Request", None)
    assert error_message("plain text") == ("plain text", None)
    assert error_message(None) == ("no message", None)


def test_retry_after_parsing() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now_epoch=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None


async def test_call_with_verification_checks_before_resending(clock: FakeClock) -> None:
    sent: list[int] = []
    applied = {"done": False}

    async def send():
        sent.append(1)
        applied["done"] = True  # the effect happened, the answer was lost
        raise UnknownOutcome("lost")

    async def verify():
        return "seen" if applied["done"] else None

    assert await call_with_verification(send, verify) == "seen"
    assert len(sent) == 1

    attempts: list[int] = []

    async def send_lost_before():
        attempts.append(1)
        if len(attempts) == 1:
            raise UnknownOutcome("lost before")
        return "sent"

    async def not_seen():
        return None

    assert await call_with_verification(send_lost_before, not_seen) == "sent"
    assert len(attempts) == 2
