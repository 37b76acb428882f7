"""The OpenAPI document, built from the route table and the services' own dataclasses.

Answer schemas are derived from the type hints of the dataclasses the
services return (``OrderRow``, ``OrderDetail``, ``QueuedAction``,
``ActionInfo`` …), the same objects the JSON is made from, so the document
cannot drift from the answers: a field added to a service's dataclass
appears in both. Money is a decimal string, times RFC 3339 strings in UTC.
Objects are closed (``additionalProperties: false``) where the shape is fixed.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from shelfdesk.api.errors import ERROR_STATUSES

if TYPE_CHECKING:
    from shelfdesk.api.app import Endpoint

OPENAPI_PATH = "/v1/openapi.json"
MONEY = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "decimal amount as a string"}
TIME = {"type": "string", "format": "date-time", "description": "RFC 3339, UTC"}
ERROR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "message", "field"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"]}},
        }
    },
}


class Schemas:
    """Component schemas collected while walking dataclasses (each dataclass once, by name)."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Error": ERROR}

    def ref(self, cls: type, *, extra: dict[str, Any] | None = None, drop: tuple[str, ...] = (), name: str | None = None) -> dict[str, Any]:
        """A ``$ref`` to the schema of dataclass ``cls`` (built on first use)."""
        name = name or cls.__name__
        if name not in self.components:
            self.components[name] = {}  # placeholder: recursive types terminate
            self.components[name] = self.of_dataclass(cls, extra=extra, drop=drop)
        return {"$ref": f"#/components/schemas/{name}"}

    def of_dataclass(self, cls: type, *, extra: dict[str, Any] | None = None, drop: tuple[str, ...] = ()) -> dict[str, Any]:
        hints = typing.get_type_hints(cls, localns=_late_names())
        props = {f.name: self.of_type(hints[f.name]) for f in dataclasses.fields(cls) if f.name not in drop}
        props.update(extra or {})
        return {"type": "object", "additionalProperties": False, "required": sorted(props), "properties": props}

    def of_type(self, hint: Any) -> dict[str, Any]:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            inner = self.of_type(options[0]) if len(options) == 1 else {"anyOf": [self.of_type(a) for a in options]}
            return {"anyOf": [inner, {"type": "null"}]} if type(None) in args else inner
        if origin in (list, tuple, typing.Sequence) or hint in (list, tuple):
            return {"type": "array", "items": self.of_type(args[0]) if args else {}}
        if origin is dict or hint is dict or origin is typing.Mapping:
            return {"type": "object"}
        if hint is Any:
            return {}
        if isinstance(hint, type):
            if dataclasses.is_dataclass(hint):
                return self.ref(hint)
            if issubclass(hint, Enum):
                return {"type": "string", "enum": [m.value for m in hint]}
            if issubclass(hint, bool):
                return {"type": "boolean"}
            if issubclass(hint, int):
                return {"type": "integer"}
            if issubclass(hint, float):
                return {"type": "number"}
            if issubclass(hint, Decimal):
                return dict(MONEY)
            if issubclass(hint, datetime):
                return dict(TIME)
            if issubclass(hint, str):
                return {"type": "string"}
        raise TypeError(f"no JSON schema for {hint!r}")


def _late_names() -> dict[str, Any]:
    """Names the services' dataclasses import only for type checking."""
    from shelfdesk.orders.actions import ActionInfo

    return {"ActionInfo": ActionInfo}


def build_document(endpoints: list[Endpoint], *, version: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for ``endpoints``."""
    schemas = Schemas()
    paths: dict[str, Any] = {}
    for ep in endpoints:
        op: dict[str, Any] = {"operationId": ep.name, "summary": ep.summary, "tags": [ep.tag]}
        if ep.handler.__doc__:
            op["description"] = " ".join(ep.handler.__doc__.split())
        params = [
            {"name": p.name, "in": p.where, "required": p.where == "path" or p.required, "description": p.description, "schema": p.schema}
            for p in ep.params
        ]
        if ep.idempotent:
            params.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "a retried request with the same key gets the first answer, and queues nothing twice",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            )
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ep.body(schemas)}}}
        responses: dict[str, Any] = {}
        for status, (description, schema) in ep.answers.items():
            responses[str(status)] = {"description": description, "content": {"application/json": {"schema": schema(schemas)}}}
        for status in ep.errors:
            responses[str(status)] = {
                "description": ERROR_STATUSES.get(status, "not ready"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        op["responses"] = responses
        if ep.scope is None:
            op["security"] = []
        elif ep.scope == "write":
            op["description"] = (op.get("description", "") + " Needs a token of scope write.").strip()
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shelfdesk API",
            "version": version,
            "description": "Orders, order actions, stock and sync health of one shelfdesk workspace. "
            "Send `Authorization: Bearer TOKEN` (from `shelfdesk api token add`). Errors are "
            'always {"error": {"code", "message", "field"}}; money is a decimal string; '
            "times are RFC 3339 in UTC.",
        },
        "servers": [{"url": "/"}],
        "components": {"schemas": schemas.components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
