"""Errors the order services raise, each with a message meant for the operator."""

from __future__ import annotations


class OrderError(ValueError):
    """Base of order-service errors; the message says what and where."""


class OrderNotFound(OrderError):
    """No order matches the id (or several do, across accounts)."""


class ActionRefused(OrderError):
    """An action was refused before anything was queued or sent.

    ``order`` is the marketplace order id and ``field`` the input at fault
    (``imei``, ``tracking_number``, ``status`` …), so a bulk preview can say
    exactly which row and which column to fix.
    """

    def __init__(self, message: str, *, order: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.order = order
        self.field = field


class NoCredential(OrderError):
    """The account has no usable credential (missing reference, empty secret)."""
