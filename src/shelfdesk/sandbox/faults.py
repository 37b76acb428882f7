"""Fault injection: rules the admin API or command-line flags set, applied per request.

A rule matches by method and path prefix and, after letting ``skip`` matches
through, fires either for its next ``count`` matching requests or with probability ``rate`` (from the sandbox's
seeded random generator, so a run is repeatable). Kinds:

``500`` ``502`` ``503``
    an error status instead of the answer;
``timeout``
    no answer at all: the request hangs until the client gives up;
``latency``
    the answer comes ``latency`` seconds later (on the sandbox clock);
``429``
    throttled, with ``Retry-After`` only when the rule gives ``retry_after``;
``truncated`` / ``malformed``
    status 200 with a cut or broken JSON body;
``waf``
    Cloudflare's 403 HTML challenge page.

``after_effect`` makes ``500``/``502``/``503``/``timeout`` happen *after* the
request was applied (the effect is saved, the answer is lost), which is what
makes blind retries of non-idempotent calls dangerous. ``truncated`` and
``malformed`` always corrupt the real answer, so they are after the effect too.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("500", "502", "503", "timeout", "latency", "429", "truncated", "malformed", "waf")
AFTER_ONLY = {"truncated", "malformed", "latency"}


@dataclass
class FaultRule:
    kind: str
    method: str | None = None
    path: str = ""  #: path prefix; empty matches every imitated-API path
    count: int | None = 1  #: fire for this many matches; None = use ``rate`` forever
    rate: float = 1.0
    after_effect: bool = False
    retry_after: float | None = None
    latency: float = 0.0
    skip: int = 0  #: let this many matches through first ("the second batch fails")
    fired: int = field(default=0)
    passed: int = field(default=0)

    def __post_init__(self) -> None:
        """Check every field: a rule is read at each request, so one it cannot read would fail them all."""
        if _whole(self.kind, 0, 999):
            self.kind = str(self.kind)  # 503 for "503"
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}: one of {', '.join(KINDS)}")
        if self.method is not None and not isinstance(self.method, str):
            raise ValueError("method must be a string")
        if self.method:
            self.method = self.method.upper()
        if not isinstance(self.path, str):
            raise ValueError("path must be a string (a path prefix)")
        for name in ("count", "skip"):
            value = getattr(self, name)
            if not (value is None and name == "count") and not _whole(value, 0, 10**9):
                raise ValueError(f"{name} must be a whole number from 0" + (" (or null: fire forever at rate)" if name == "count" else ""))
        for name, high in (("rate", 1.0), ("latency", 3600.0), ("retry_after", 86400.0)):
            value = getattr(self, name)
            if not (value is None and name == "retry_after") and not _number(value, 0.0, high):
                raise ValueError(f"{name} must be a number from 0 to {high:g}")
        if not isinstance(self.after_effect, bool):
            raise ValueError("after_effect must be true or false")

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)

    @property
    def before_effect(self) -> bool:
        return self.kind not in AFTER_ONLY and not self.after_effect


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _number(value: Any, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


class Faults:
    """The active rules of one sandbox."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self.rng = random.Random(f"faults:{seed}")

    def add(self, **spec: Any) -> FaultRule:
        rule = FaultRule(**{k: v for k, v in spec.items() if k not in ("fired", "passed")})
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first live rule that fires for this request (and count it)."""
        for rule in self.rules:
            if rule.exhausted or not rule.matches(method, path):
                continue
            if rule.passed < rule.skip:
                rule.passed += 1
                continue
            if rule.count is None and self.rng.random() >= rule.rate:
                continue
            rule.fired += 1
            return rule
        return None

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rules]


WAF_PAGE = """<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title></head>
<body><div id="cf-wrapper"><h1>Sorry, you have been blocked</h1>
<p>This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: <strong>{ray}</strong></p></div></body></html>
"""
