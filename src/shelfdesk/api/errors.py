"""The one error shape of every answer: ``{"error": {"code", "message", "field"}}``.

Service errors are mapped to a status and a code here, in one table, so an
integrator meets the same shape whether the token, the body or the order was
at fault. Messages are the services' own (meant for an operator); nothing
internal (a traceback, a SQL statement, a token) is ever put in one.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    """An answer other than success, raised anywhere under a route."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


#: Every status an endpoint may answer with an error, and what it means (the OpenAPI document lists them).
ERROR_STATUSES: dict[int, str] = {
    400: "The body is not valid JSON, or not the shape this endpoint takes",
    401: "No bearer token, or one that is unknown or revoked",
    403: "The token's scope does not allow this call (writes need a write token), or the workspace is read-only",
    404: "No such order, action, store or SKU",
    409: "The Idempotency-Key was used for a different request",
    413: "The body is over the size limit",
    422: "The input was refused (the field at fault is named)",
    429: "Too many requests for this token: retry after Retry-After seconds",
}


def from_service_error(exc: Exception) -> ApiError | None:
    """The answer for an error a service raised on bad input, or None when it is not one (then: a 500)."""
    from shelfdesk.catalog.errors import CatalogError
    from shelfdesk.channel_refs import UnknownChannel
    from shelfdesk.context import ReadOnlyError
    from shelfdesk.orders.errors import ActionRefused, OrderError, OrderNotFound
    from shelfdesk.services.api_tokens import IdempotencyMismatch

    if isinstance(exc, IdempotencyMismatch):
        return ApiError(409, "idempotency_mismatch", str(exc), field="Idempotency-Key")
    if isinstance(exc, OrderNotFound):
        return ApiError(404, "not_found", str(exc), field="order")
    if isinstance(exc, ActionRefused):
        return ApiError(422, "refused", str(exc), field=exc.field)
    if isinstance(exc, ReadOnlyError):
        return ApiError(403, "read_only", str(exc))
    if isinstance(exc, UnknownChannel):
        return ApiError(422, "invalid", str(exc), field="channel")
    if isinstance(exc, OrderError | CatalogError):
        return ApiError(422, "invalid", str(exc))
    return None
