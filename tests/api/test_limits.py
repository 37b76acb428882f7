"""The body size limit (413) and the per-token rate limit (429 with Retry-After), on a small budget."""

from __future__ import annotations

import pytest

from shelfdesk.api.app import ApiSettings

from .conftest import Api, error_of


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(send_actions=False, max_body=2048, rate=1.0, burst=3)


def test_body_over_the_limit_is_413_declared_or_streamed(api: Api) -> None:
    big = {"items": [{"sku": f"SKU-{n}", "quantity": 1} for n in range(200)]}
    response = api.writer.post("/v1/stock/s", json=big)
    assert response.status_code == 413 and error_of(response)["code"] == "too_large"

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(10):
            yield b" " * 500

    response = api.client(api.read_token).post("/v1/stock/s", content=chunks())
    assert response.status_code == 413


def test_rate_limit_per_token_with_retry_after(api: Api) -> None:
    writer, reader = api.writer, api.reader
    assert [writer.get("/v1/status").status_code for _ in range(3)] == [200, 200, 200]
    limited = writer.get("/v1/status")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert error_of(limited)["code"] == "rate_limited"
    assert reader.get("/v1/status").status_code == 200  # another token has its own bucket
    api.ctx.clock.advance(1)  # type: ignore[attr-defined]
    assert writer.get("/v1/status").status_code == 200
    assert writer.get("/v1/status").status_code == 429
