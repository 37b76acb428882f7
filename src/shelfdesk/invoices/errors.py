"""Errors of the invoicing service; their messages are written for the operator."""

from __future__ import annotations


class InvoiceError(ValueError):
    """The request cannot be carried out as asked; nothing was written. The message says why."""


class NumberTaken(InvoiceError):
    """The number asked for is not the next free one of its prefix (someone else just took it)."""
