"""Reading a request's inputs before anything changes: typed parameters and fields, or a refusal.

A sandbox is only as good as what it refuses. Whatever it accepts ends up in
its state and its journal, and is read again at every tick and every restart:
a value no handler can read (a two-character CSV delimiter, a price of
``NaN``, a string no UTF-8 encoder can write) would make every later request
fail. So each handler reads its inputs through these helpers first, and only
then changes the state.

The helpers raise :class:`~shelfdesk.sandbox.app.ApiError` with the status
the caller gives (the marketplace's own for that endpoint); the message names
the input and what was expected. The parsers without a status (``as_int``,
``as_decimal`` …) return ``None`` for what they cannot read, for callers
that report errors their own way (a CSV line's result, a feed's report).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from shelfdesk.sandbox.app import ApiError
from shelfdesk.sandbox.core import as_datetime, utf8_clean  # noqa: F401  (read with the other checks)

#: Integers the sandboxes store are bounded like a database column would bound them [I].
INT_MAX = 2**31 - 1
#: Prices and amounts: finite, at most this many digits before the point [I].
DECIMAL_DIGITS = 12
_INT_TEXT = re.compile(r"^[+-]?\d{1,18}$")


def as_int(value: Any, *, allow_text: bool = True, minimum: int = -INT_MAX, maximum: int = INT_MAX) -> int | None:
    """``value`` as an integer (a JSON integer, or decimal digits when ``allow_text``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif allow_text and isinstance(value, str) and _INT_TEXT.match(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if minimum <= number <= maximum else None


def as_decimal(value: Any) -> Decimal | None:
    """A finite amount from a JSON number or its text, or None (``NaN``, ``Infinity``, ``1e999``, words)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number.adjusted() >= DECIMAL_DIGITS or number.as_tuple().exponent < -DECIMAL_DIGITS:  # type: ignore[operator]  # a finite Decimal's exponent is an int (only NaN and infinities have a letter)
        return None
    return number


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------- refusals


def admin_number(
    values: Mapping[str, Any], name: str, low: float, high: float, *, default: float | None = None, whole: bool = False
) -> float:
    """A number of the admin API (JSON number or its text) within ``[low, high]``; ``ValueError`` (a 400) otherwise."""
    value = values.get(name, default)
    number = as_decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    if number is None or not low <= number <= high or (whole and number != number.to_integral_value()):
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{name} must be {kind} from {low:g} to {high:g}")
    return float(number)


def query_int(
    params: Mapping[str, str],
    name: str,
    *,
    status: int = 400,
    code: str = "invalid-parameter",
    choices: tuple[int, ...] | None = None,
    minimum: int = -INT_MAX,
    maximum: int = INT_MAX,
    message: str | None = None,
) -> int | None:
    """The integer query parameter ``name`` (None when absent or empty), or a refusal (``message`` if given)."""
    text = params.get(name)
    if text is None or text == "":
        return None
    number = as_int(text, minimum=minimum, maximum=maximum)
    if number is None or (choices is not None and number not in choices):
        expected = f"one of {', '.join(map(str, choices))}" if choices else f"an integer from {minimum} to {maximum}"
        raise ApiError(status, message or f"{name} must be {expected}, not {_shown(text)}", code)
    return number


def field_str(
    body: Mapping[str, Any],
    name: str,
    *,
    status: int = 400,
    code: str = "invalid-field",
    min_len: int = 0,
    max_len: int | None = None,
    nullable: bool = False,
    plain: bool = False,
) -> str | None:
    """The string field ``name`` of a JSON body (None when absent, or null when ``nullable``), or a refusal."""
    if name not in body or (body[name] is None and nullable):
        return None
    value = body[name]
    if not isinstance(value, str):
        raise ApiError(status, f"{name} must be a string", code, plain=plain)
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        span = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
        raise ApiError(status, f"{name} must be {span} characters long", code, plain=plain)
    return value


def _shown(text: str, limit: int = 40) -> str:
    """A refused value, quoted and cut, for an error message."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ---------------------------------------------------------------------- forms


class FormFile:
    """One file of a ``multipart/form-data`` body: its field, its name, its type and its bytes."""

    __slots__ = ("field", "filename", "content_type", "content")

    def __init__(self, field: str, filename: str, content_type: str, content: bytes) -> None:
        self.field, self.filename, self.content_type, self.content = field, filename, content_type, content


def multipart_parts(content_type: str, body: Any) -> list[FormFile]:
    """Every named part of a ``multipart/form-data`` body, in order (``filename`` is "" for a plain field).

    Parsed with the standard library's MIME reader, which never raises on
    malformed input: a body that is not multipart at all yields no part.
    """
    from email.parser import BytesParser
    from email.policy import HTTP

    if not isinstance(body, bytes):
        return []
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return []
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)  # bytes for a leaf part (a form's file), a Message only for a nested one
            parts.append(FormFile(name, part.get_filename() or "", part.get_content_type(), payload if isinstance(payload, bytes) else b""))
    return parts


def read_form(content_type: str, body: Any, *, code: str = "invalid-body") -> tuple[dict[str, Any], list[FormFile]]:
    """A form-like body as its fields and its files: ``multipart/form-data`` (what the spec names), or a URL-encoded
    form or a JSON object [I].

    A field named twice keeps its first value. Anything else (a JSON list, bytes
    of no known kind) is a 400.
    """
    if "multipart/form-data" in content_type:
        fields: dict[str, Any] = {}
        files = []
        for part in multipart_parts(content_type, body):
            if part.filename:
                files.append(part)
            elif part.field not in fields:
                fields[part.field] = part.content.decode("utf-8", "replace")
        if not utf8_clean(fields):
            raise ApiError(400, "The form's fields must be UTF-8 text", code)
        return fields, files
    if "application/x-www-form-urlencoded" in content_type and isinstance(body, bytes):
        from urllib.parse import parse_qsl

        try:
            pairs = parse_qsl(body.decode("utf-8", "strict"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "The form is not UTF-8 text", code) from None
        fields = {}
        for key, value in pairs:
            fields.setdefault(key, value)
        if not utf8_clean(fields):
            raise ApiError(400, "The form's fields must be UTF-8 text", code)
        return fields, []
    if isinstance(body, dict):
        return body, []
    raise ApiError(400, "Send the form as multipart/form-data (or a JSON object)", code)
