"""Property test against the served OpenAPI document: generated requests never get a 500 or an undocumented answer.

Requests are generated from the document itself (every operation, its path
and query parameters, its body schema, sometimes an Idempotency-Key), with
valid and invalid values mixed; every answer's status must be one the
document lists for that operation and its body must validate against the
schema given for that status. (schemathesis does this too; hypothesis and
jsonschema, already test dependencies, keep it light.)
"""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from jsonschema import Draft202012Validator

from shelfdesk.api.app import ApiSettings

from .conftest import Api, Desk

SAFE = string.ascii_letters + string.digits + "-_~"
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(send_actions=False, rate=1e6, burst=1_000_000, max_body=4096)


def _value(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``schema``, and now and then values outside it."""
    kind = schema.get("type")
    wrong = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), TEXT)
    if "enum" in schema:
        right: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif kind == "integer":
        right = st.integers(schema.get("minimum", -10) - 2, min(schema.get("maximum", 1000) + 2, 10**7 + 2))
    elif kind == "string":
        right = TEXT
    elif kind == "array" and depth < 3:
        right = st.lists(_value(schema.get("items", {}), depth + 1), max_size=4)
    elif kind == "object" and depth < 3:
        props = schema.get("properties", {})
        required = {k: _value(v, depth + 1) for k, v in props.items() if k in schema.get("required", [])}
        optional = {k: _value(v, depth + 1) for k, v in props.items() if k not in required}
        right = st.fixed_dictionaries(required, optional=optional)
    else:
        right = wrong
    return st.one_of(right, right, right, wrong) if depth else right


@st.composite
def _request(draw: st.DrawFn, document: dict[str, Any], order_ids: list[str]) -> tuple[str, str, str, dict[str, Any]]:
    path, item = draw(st.sampled_from(sorted(document["paths"].items())))
    method = draw(st.sampled_from(sorted(item)))
    op = item[method]
    url, query, headers = path, {}, {}
    for param in op.get("parameters", []):
        schema = param["schema"]
        if param["in"] == "path":
            pool = order_ids if param["name"] == "order" else []
            value = draw(st.one_of(st.sampled_from(pool or ["1"]), st.text(SAFE, min_size=1, max_size=10), _value(schema).map(str)))
            url = url.replace("{" + param["name"] + "}", quote(str(value) or "x", safe="") or "x")
        elif param["in"] == "query" and draw(st.booleans()):
            query[param["name"]] = str(draw(_value(schema)))
        elif param["in"] == "header" and draw(st.booleans()):
            headers[param["name"]] = draw(st.text(SAFE, min_size=1, max_size=8))
    body = None
    if "requestBody" in op:
        body = draw(
            st.one_of(
                _value(op["requestBody"]["content"]["application/json"]["schema"]),
                st.recursive(st.none() | st.integers() | TEXT, lambda c: st.lists(c) | st.dictionaries(TEXT, c), max_leaves=4),
            )
        )
    return method.upper(), url, op["operationId"], {"params": query, "headers": headers, "json": body}


def test_no_500_and_no_answer_outside_the_document(api: Api, desk: Desk) -> None:
    desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="paid")
    desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid")
    desk.harvest()
    client = api.writer
    document = client.get("/v1/openapi.json").json()
    order_ids = [o["marketplace_order_id"] for o in client.get("/v1/orders", params={"limit": 20}).json()["orders"]]
    operations = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    seen: dict[str, set[int]] = {}

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(_request(document, order_ids))
    def check(request: tuple[str, str, str, dict[str, Any]]) -> None:
        method, url, operation, kwargs = request
        if kwargs["json"] is None:
            kwargs.pop("json")
        response: httpx.Response = client.request(method, url, **kwargs)
        answers = operations[operation]["responses"]
        assert response.status_code != 500, (method, url, kwargs, response.text)
        assert str(response.status_code) in answers, (method, url, kwargs, response.status_code, response.text)
        schema = answers[str(response.status_code)]["content"]["application/json"]["schema"]
        errors = list(Draft202012Validator({**schema, "components": document["components"]}).iter_errors(response.json()))
        assert not errors, (method, url, kwargs, [e.message for e in errors[:3]])
        seen.setdefault(operation, set()).add(response.status_code)

    check()
    assert set(seen) == set(operations)  # every operation was exercised
    assert any(200 in codes or 202 in codes for codes in seen.values())
