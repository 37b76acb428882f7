"""Text that did not decode cleanly: bytes invalid in the feed's encoding, or UTF-8 read as Windows-1252.

A feed assembled from several exports can mix encodings: most lines UTF-8 and
a few pasted from a Windows-1252 spreadsheet, or the other way round. Readers
decode with ``surrogateescape`` so one bad byte does not stop the whole read,
then ask :func:`encoding_problem` about each record: a record holding either
kind of damage is rejected with its line instead of being stored as mojibake.
"""

from __future__ import annotations

import re

#: Decoding error handler the readers use: undecodable bytes become lone surrogates we can find.
ERRORS = "surrogateescape"

_UNDECODED = re.compile("[\udc80-\udcff]")
#: A UTF-8 lead byte followed by a continuation byte, as Windows-1252 / Latin-1 show them ("Ã©" for "é").
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030"
    "\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122"
    "\u0161\u203a\u0153\u017e\u0178]"
)
_SINGLE_BYTE = {"cp1252", "windows-1252", "latin-1", "latin1", "iso-8859-1", "iso8859-1", "iso-8859-15"}


def encoding_problem(text: str, encoding: str) -> str | None:
    """Why ``text`` (one record, decoded with :data:`ERRORS`) is not clean ``encoding`` text, or None."""
    bad = _UNDECODED.search(text)
    if bad is not None:
        byte = ord(bad.group()) - 0xDC00
        return f"not valid {encoding} text (byte 0x{byte:02X}): the file mixes text encodings"
    if encoding.lower() in _SINGLE_BYTE and _MOJIBAKE.search(text):
        return f"UTF-8 text in a file read as {encoding} (like 'Ã©' for 'é'): the file mixes text encodings"
    return None


def clean(text: str) -> str:
    """``text`` with undecodable bytes shown as U+FFFD, safe to store and print."""
    return _UNDECODED.sub("\ufffd", text)
