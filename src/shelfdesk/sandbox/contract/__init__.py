"""The published contract of a marketplace, as data: what the connector sends and the sandbox answers must match.

``backmarket.json`` describes the Back Market endpoints shelfdesk uses (paths,
methods, path and query parameters, the ``Accept-Language`` header, request
and response bodies by status) as JSON Schemas, written from the facts of
Back Market's published OpenAPI (the version it names under ``spec``); where
that spec contradicts itself or is silent, ``open_points`` says what the
schema accepts. The contract tests check every exchange with the Back Market
sandbox against it (:func:`check_exchange`); the sandbox may check its own
answers the same way.

Validation uses ``jsonschema`` (the ``test`` extra): it is imported when a
check runs, never by the sandbox serving the demo.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

_FOLDER = Path(__file__).parent


@functools.cache
def load(name: str = "backmarket") -> dict[str, Any]:
    """The contract document of a marketplace (``backmarket``)."""
    return json.loads((_FOLDER / f"{name}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: Mapping[str, Any]
    pattern: re.Pattern[str]


@functools.cache
def operations(name: str = "backmarket") -> tuple[Operation, ...]:
    """The operations, literal paths first so ``/ws/listings/detail`` wins over ``/ws/listings/{listingId}``."""
    ops = []
    for spec in load(name)["operations"]:
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(spec["path"])) + "/?$"
        ops.append(Operation(spec["method"], spec["path"], spec, re.compile(regex)))
    return tuple(sorted(ops, key=lambda op: op.path.count("{")))


def find(method: str, path: str, name: str = "backmarket") -> tuple[Operation, dict[str, str]] | None:
    """The operation answering ``method path``, with its path parameters; None when the contract has none."""
    for op in operations(name):
        if op.method == method.upper() and (m := op.pattern.match(path)):
            return op, m.groupdict()
    return None


def _validator(schema: Any, name: str) -> Any:
    from jsonschema import Draft202012Validator, FormatChecker

    root = {**schema, "$defs": load(name)["$defs"]} if isinstance(schema, dict) else schema
    return Draft202012Validator(root, format_checker=FormatChecker())


def _where(error: Any) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return parts.lstrip(".")


def divergences(schema: Any, value: Any, label: str, name: str = "backmarket") -> list[str]:
    """Each place ``value`` breaks ``schema``, as ``label: field: reason`` (the field named as a path)."""
    found = []
    for error in sorted(_validator(schema, name).iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message if len(error.message) <= 300 else error.message[:300] + "…"
        where = _where(error)
        found.append(f"{label}: {where}: {message}" if where else f"{label}: {message}")
    return found


def _typed(schema: Any, text: str, name: str) -> Any:
    """A query or path parameter (always text on the wire) as the type its schema declares."""
    if isinstance(schema, dict) and "$ref" in schema:
        schema = load(name)["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    types = schema.get("type") if isinstance(schema, dict) else None
    types = [types] if isinstance(types, str) else list(types or [])
    if "integer" in types and re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def check_request(
    method: str, path: str, *, query: str = "", headers: Mapping[str, str | None] | None = None, body: Any = None, name: str = "backmarket"
) -> list[str]:
    """What in a request the contract does not allow (an unknown endpoint is one divergence)."""
    label = f"{method} {path} request"
    match = find(method, path, name)
    if match is None:
        return [f"{label}: no such operation in the contract"]
    op, params = match
    found: list[str] = []
    for key, value in params.items():
        schema = op.spec.get("params", {}).get(key, {})
        found += divergences(schema, _typed(schema, value, name), f"{label} path parameter {key}", name)
    allowed = op.spec.get("query", {})
    pairs = parse_qsl(query, keep_blank_values=True)
    values = {k: _typed(allowed.get(k, {}), v, name) for k, v in pairs}
    query_schema = {"type": "object", "properties": allowed, "additionalProperties": False}
    found += divergences(query_schema, values, f"{label} query", name)
    for header, schema in op.spec.get("headers", {}).items():
        sent = (headers or {}).get(header.lower().replace("-", "_")) or (headers or {}).get(header)
        if sent is not None:
            found += divergences(schema, sent, f"{label} header {header}", name)
    if "body" in op.spec:
        found += divergences(op.spec["body"], body, f"{label} body", name)
    return found


def response_schema(op: Operation, status: int) -> Any | None:
    """The schema of an answer with ``status``: exact, else its class (``4XX``); None when the contract has none."""
    responses = op.spec.get("responses", {})
    return responses.get(str(status), responses.get(f"{str(status)[0]}XX"))


def check_response(method: str, path: str, status: int, body: Any, name: str = "backmarket") -> list[str]:
    """What in an answer the contract does not allow; a status it does not list for the operation is one."""
    match = find(method, path, name)
    if match is None:
        return [f"{method} {path}: no such operation in the contract"]
    op, _ = match
    if status == 429 or status >= 500:
        return []  # throttling and server failures: see open_points
    schema = response_schema(op, status)
    if schema is None:
        return [f"{method} {path} response {status}: the contract lists no such status for this operation"]
    return divergences(schema, body, f"{method} {path} response {status}", name)


def parsed(body: bytes | str | None) -> Any:
    """A body as JSON when it is JSON, else its text (None when empty)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def form_fields(body: bytes | None) -> dict[str, str] | None:
    """The plain fields of a ``multipart/form-data`` body (its files left out), read with the boundary its
    first line names; None when it is not one. What the contract's form schemas are checked against."""
    from shelfdesk.sandbox.inputs import multipart_parts

    if not body or not body.startswith(b"--"):
        return None
    boundary = body[2 : body.find(b"\r\n")].decode("latin-1")
    parts = multipart_parts(f'multipart/form-data; boundary="{boundary}"', body)
    return {p.field: p.content.decode("utf-8", "replace") for p in parts if not p.filename} if parts else None


def check_exchange(
    entry: Mapping[str, Any], request_body: bytes | None, response: bytes | None, *, requests: bool = True, name: str = "backmarket"
) -> list[str]:
    """Both sides of one exchange with the sandbox (see ``SandboxApp.observe``).

    ``entry`` is the request log's entry (method, path, query, accept_language,
    status, fault); ``request_body`` and ``response`` the bodies as sent. Answers a
    fault rule made (a 502, a truncated body) are the test's doing, not the
    sandbox's: they are not checked.
    """
    found: list[str] = []
    if requests:
        body = form_fields(request_body) if "multipart" in str(entry.get("body")) else parsed(request_body)
        found += check_request(
            entry["method"],
            entry["path"],
            query=entry.get("query") or "",
            headers={"accept_language": entry.get("accept_language")},
            body=body,
            name=name,
        )
    if not entry.get("fault"):
        found += check_response(entry["method"], entry["path"], int(entry["status"]), parsed(response), name)
    return found
