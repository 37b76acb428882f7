"""Errors of the push-notification service; their messages are written for the operator."""

from __future__ import annotations


class WebhookError(ValueError):
    """The request cannot be carried out as asked; nothing was changed. The message says why."""
