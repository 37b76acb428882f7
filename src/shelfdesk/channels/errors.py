"""Typed errors raised by connectors.

Services decide what to do from the *type* of the error, never from a status
code or a marketplace name: retry later (:class:`TransientError`,
:class:`RateLimited`), ask the operator for a new credential
(:class:`AuthError`), show the marketplace's own words (:class:`RemoteRejected`),
or reconcile before doing anything else (:class:`UnknownOutcome`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ChannelError(Exception):
    """Base of every connector error.

    ``status`` is the HTTP status when there was a response, ``request_id`` the
    marketplace's request or Cloudflare ray id when it sent one (quote it to
    their support). ``submitted`` holds the batch tickets a multi-batch submit
    had already obtained when this error stopped it: those batches were taken
    by the marketplace and must still be followed, not sent again.
    """

    submitted: tuple[Any, ...] = ()  #: BatchTicket of each batch taken before the error

    def __init__(
        self,
        message: str,
        *,
        marketplace: str = "",
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.marketplace = marketplace
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.request_id:
            parts.append(f"[request {self.request_id}]")
        return " ".join(parts)


class AuthError(ChannelError):
    """The credential is missing, wrong, revoked or expired: a person must act.

    ``expired`` is true when the marketplace said the credential expired (for
    Leboncoin's 365-day refresh token), so the console can say "renew it".
    """

    def __init__(self, message: str, *, expired: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.expired = expired


class WafBlocked(ChannelError):
    """The marketplace's firewall (Cloudflare) answered instead of the API.

    Not an authentication problem and not worth retrying in a loop: it usually
    means a bad User-Agent, an unusual traffic pattern or a blocked IP.
    """


class RateLimited(ChannelError):
    """Still throttled after the allowed waits. ``retry_after`` is in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransientError(ChannelError):
    """A failure that may go away: timeout, 5xx, unreadable body, connection refused.

    Raised for safe calls once their retries are spent.
    """


class UnknownOutcome(TransientError):
    """A non-idempotent call failed in a way that does not say whether it was applied.

    Raised when the connector could not check the effect itself (Back Market's
    listing batches have no idempotency key and no way to list tasks). The
    caller must reconcile (read the state back) before sending it again.
    """


class RemoteRejected(ChannelError):
    """The marketplace understood the request and refused it, with its message.

    ``details`` holds what the marketplace said beyond the message (field
    errors, codes), as it said it.
    """

    def __init__(self, message: str, *, code: str | None = None, details: object = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code
        self.details = details


class NotFound(RemoteRejected):
    """The order, line, listing or task does not exist on the marketplace."""


class InvalidActionInput(ChannelError):
    """Refused locally before any call: a required field is missing, a field is unknown,
    or a rule of the capability table is broken (IMEI in a multi-line ship call)."""


class UnsupportedOperation(ChannelError):
    """The marketplace has no such operation (Leboncoin has no competitor data)."""


@contextmanager
def keep_submitted(tickets: list[Any]) -> Iterator[None]:
    """A :class:`ChannelError` raised inside carries a copy of ``tickets`` (the batches taken so far)."""
    try:
        yield
    except ChannelError as exc:
        if tickets:
            exc.submitted = (*exc.submitted, *tickets)
        raise
