"""The one deadline clock: what is due, by when, and what happens if it is missed.

Every deadline shelfdesk shows (the Due list, ``shelfdesk due``, the status
counts) comes from :func:`due_for_order`, :func:`due_for_line`,
:func:`due_for_token` and :func:`due_for_action`. They are pure: they read
plain facts (no database, no clock of their own) so they are tested across
weekends, holidays, cut-off hours, zones and daylight-saving changes.

Where a deadline comes from, in order:

1. **The marketplace's own date**, when it gives one. Back Market's
   ``expected_dispatch_date`` has no zone in its published example
   (``2022-04-29T09:35:24``): a date without a zone is read in the market's
   local time (our guess; a date with a zone is taken as it is).
   Leboncoin sends ``availability_deadline`` and ``shipping_deadline``.
2. **The marketplace's rule**, otherwise:

   * Back Market: an order is shipped within one business day of its
     acceptance. An order accepted on a business day before the merchant's
     cut-off hour leaves that day; accepted after it, or on a day off, it
     leaves the next business day. "Leaves that day" means by the end of
     that local day (our reading; the exact rule is per seller agreement,
     hence the cut-off setting). An order still New without a date is due
     for acceptance by the ship-by it would have had if accepted when bought:
     every hour it waits eats the shipping time.
   * Leboncoin: availability is confirmed within 3 days (72 hours) of the
     purchase, shipping within 72 hours of the confirmation. Both are
     calendar hours: Leboncoin cancels the sale itself.
   * A Leboncoin refresh token lives 365 days; the account's stored
     ``token_expires_at`` wins when known.

Business days are the merchant's working days (Monday to Friday unless set)
minus the public holidays of the market's country (the ``holidays``
package). Per store, ``settings["deadlines"]`` may hold ``cutoff_hour``
(0-24, default 13) and ``working_days`` (0 = Monday … 6 = Sunday); its
channels inherit them, and a channel's own ``settings["deadlines"]``
overrides them key by key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus

UTC = UTC

DEFAULT_CUTOFF_HOUR = 13
DEFAULT_WORKING_DAYS: frozenset[int] = frozenset(range(5))
LEBONCOIN_AVAILABILITY = timedelta(days=3)
LEBONCOIN_SHIPPING = timedelta(hours=72)
LEBONCOIN_TOKEN_LIFETIME = timedelta(days=365)

#: The local zone of each market's country (the capital's, for countries spanning several).
COUNTRY_ZONES: dict[str, str] = {
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "ES": "Europe/Madrid",
    "DE": "Europe/Berlin",
    "AT": "Europe/Vienna",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "AU": "Australia/Sydney",
    "GB": "Europe/London",
    "US": "America/New_York",
    "NL": "Europe/Amsterdam",
    "PT": "Europe/Lisbon",
    "IE": "Europe/Dublin",
    "GR": "Europe/Athens",
    "SK": "Europe/Bratislava",
    "SE": "Europe/Stockholm",
    "FI": "Europe/Helsinki",
    "LU": "Europe/Luxembourg",
    "CH": "Europe/Zurich",
    "PL": "Europe/Warsaw",
}
DEFAULT_COUNTRY = "FR"


class DueKind(StrEnum):
    """What the operator has to do, one group of the Due list each (in the list's order)."""

    accept = "accept"
    confirm_availability = "confirm availability"
    ship = "ship"
    confirm_shipping = "confirm shipping"
    send_action = "send action"
    renew_token = "renew token"
    care_case = "answer case"  #: an after-sales case: answer the buyer, or resolve it


class Urgency(StrEnum):
    overdue = "overdue"
    hour = "within 1 h"
    soon = "within 4 h"
    today = "within 24 h"
    later = "later"


#: The thresholds urgencies start at (time left at most this much).
URGENCY_LIMITS: tuple[tuple[Urgency, timedelta], ...] = (
    (Urgency.overdue, timedelta(0)),
    (Urgency.hour, timedelta(hours=1)),
    (Urgency.soon, timedelta(hours=4)),
    (Urgency.today, timedelta(hours=24)),
)


@dataclass(frozen=True)
class Due:
    """One thing due: what to do, on what, by when, and what missing it costs."""

    kind: DueKind
    due_at: datetime  #: aware UTC
    consequence: str  #: what the marketplace does when it is missed
    target_type: str  #: order, line, account, action
    target_id: int | None
    reference: str  #: what the operator recognises (an order id, an account name)
    source: str  #: "marketplace" (its own date) or "rule" (computed here)
    order_id: int | None = None  #: the order to open, for an order, a line or an action
    note: str | None = None  #: why it waits (auto-accept's hold reason …)

    def left(self, now: datetime) -> timedelta:
        return self.due_at - now

    def urgency(self, now: datetime) -> Urgency:
        left = self.left(now)
        if left <= timedelta(0):
            return Urgency.overdue
        return next((u for u, limit in URGENCY_LIMITS if left <= limit), Urgency.later)


def format_left(left: timedelta) -> str:
    """Time left as an operator reads it: "2 d 3 h", "3 h 05", "12 min", "late 1 h 10"."""
    seconds = int(left.total_seconds())
    late, seconds = seconds < 0, abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    text = f"{days} d {hours} h" if days else f"{hours} h {minutes:02d}" if hours else f"{minutes} min"
    return f"late {text}" if late else text


# --- business time -------------------------------------------------------------------------------

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _deadline_block(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    raw = (settings or {}).get("deadlines") if isinstance(settings, Mapping) else None
    return dict(raw) if isinstance(raw, Mapping) else {}


def parse_working_days(text: str) -> list[int]:
    """``"mon-fri"``, ``"mon-sat"``, ``"mon,wed,fri"`` (English day names or their first three letters) → [0, …].

    Names rather than numbers: whether 0 or 1 is Monday is the first thing people get wrong.
    """
    days: set[int] = set()

    def day(word: str) -> int:
        key = word.strip().lower()[:3]
        if key not in DAY_NAMES:
            raise ValueError(f"{word.strip()!r} is not a day: use mon, tue, wed, thu, fri, sat, sun (e.g. mon-fri or mon,wed,fri)")
        return DAY_NAMES.index(key)

    for part in (p for p in text.split(",") if p.strip()):
        first, sep, last = part.partition("-")
        start, end = day(first), day(last) if sep else day(first)
        if end < start:
            raise ValueError(f"{part.strip()!r} runs backwards: write the days in the week's order (e.g. mon-sat)")
        days.update(range(start, end + 1))
    if not days:
        raise ValueError("working days cannot be empty (e.g. mon-fri)")
    return sorted(days)


def format_working_days(days: Iterable[int]) -> str:
    """[0, 1, 2, 3, 4] → ``"mon-fri"``; [0, 2, 4] → ``"mon,wed,fri"`` (what :func:`parse_working_days` reads back)."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for d in ordered:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" if len(r) > 2 else ",".join(DAY_NAMES[d] for d in r) for r in runs)


def check_cutoff_hour(value: Any) -> int:
    """The cut-off hour as a whole hour 0-24 (24: every order accepted on a business day leaves that day)."""
    try:
        hour = int(str(value).strip().removesuffix("h").removesuffix(":00"))
    except ValueError:
        raise ValueError(f"cut-off hour {value!r} is not a whole hour: give 0 to 24 (e.g. 13 for 1 p.m.)") from None
    if not 0 <= hour <= 24:
        raise ValueError(f"cut-off hour {hour} is outside 0-24 (e.g. 13 for 1 p.m.)")
    return hour


@lru_cache(maxsize=64)
def _zone(country: str) -> ZoneInfo:
    """The market's zone, looked up once per country (``status`` reads it for every order it dates)."""
    return ZoneInfo(COUNTRY_ZONES.get(country, COUNTRY_ZONES[DEFAULT_COUNTRY]))


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:  # a country the package does not know: weekends only
        return frozenset()


@dataclass(frozen=True)
class WorkingTime:
    """When a merchant works, in one market: its zone, its public holidays, cut-off hour and working days."""

    country: str = DEFAULT_COUNTRY
    cutoff_hour: int = DEFAULT_CUTOFF_HOUR
    working_days: frozenset[int] = field(default=DEFAULT_WORKING_DAYS)

    @classmethod
    def for_channel(
        cls, country: str | None, settings: Mapping[str, Any] | None, store_settings: Mapping[str, Any] | None = None
    ) -> WorkingTime:
        """From a channel's country and ``settings["deadlines"]`` over its store's; a bad value falls back to the default."""
        raw = {**_deadline_block(store_settings), **_deadline_block(settings)}
        cutoff = raw.get("cutoff_hour", DEFAULT_CUTOFF_HOUR) if isinstance(raw, Mapping) else DEFAULT_CUTOFF_HOUR
        days = raw.get("working_days") if isinstance(raw, Mapping) else None
        if not isinstance(cutoff, int) or isinstance(cutoff, bool) or not 0 <= cutoff <= 24:
            cutoff = DEFAULT_CUTOFF_HOUR
        working = frozenset(d for d in days if isinstance(d, int) and 0 <= d <= 6) if isinstance(days, list) else None
        return cls((country or DEFAULT_COUNTRY).upper(), cutoff, working or DEFAULT_WORKING_DAYS)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.country)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in _holidays(self.country, day.year)

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        for _ in range(400):  # a year of days off is a misconfiguration, not a loop forever
            day += timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError(f"no business day within a year after {day} in {self.country}")

    def end_of_day(self, day: date) -> datetime:
        """The instant ``day`` ends in the market's zone (local midnight, DST-aware), in UTC."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)

    def dispatch_day(self, accepted_at: datetime) -> date:
        """The business day an order accepted at ``accepted_at`` leaves: that day before the cut-off, else the next."""
        local = accepted_at.astimezone(self.zone)
        day = local.date()
        if self.is_business_day(day) and local.hour < self.cutoff_hour:
            return day
        return self.next_business_day(day)

    def rule_passed_before(self, now: datetime) -> datetime:
        """An instant before which every rule deadline has passed at ``now`` (whatever the marketplace).

        An order bought, or accepted, before it owes its rule deadline already:
        Back Market's is the end of the dispatch day, and ``dispatch_day`` only
        grows with the acceptance time, so every order accepted before the
        cut-off of the last business day that has ended leaves by that day;
        Leboncoin's are 72 hours. ``shelfdesk status`` counts such orders as
        overdue from an index instead of computing each one's deadline.
        """
        day = now.astimezone(self.zone).date() - timedelta(days=1)  # the last local day that has ended
        for _ in range(400):
            if self.is_business_day(day):
                break
            day -= timedelta(days=1)
        else:
            raise ValueError(f"no business day within a year before {now:%Y-%m-%d} in {self.country}")
        if self.cutoff_hour >= 24:
            day, cutoff = day + timedelta(days=1), time(0)
        else:
            cutoff = time(self.cutoff_hour)
        back_market = datetime.combine(day, cutoff, tzinfo=self.zone).astimezone(UTC)
        return min(back_market, now - max(LEBONCOIN_AVAILABILITY, LEBONCOIN_SHIPPING))

    def local_date(self, value: Any) -> datetime | None:
        """A marketplace date as aware UTC; one without a zone is read in the market's local time."""
        if not value:
            return None
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(UTC)


# --- the facts deadlines are computed from -------------------------------------------------------


@dataclass(frozen=True)
class OrderFacts:
    """What a deadline needs to know of an order (read from the ``orders`` row)."""

    id: int | None
    reference: str
    marketplace: Marketplace
    status: NormalizedStatus
    purchased_at: datetime
    accept_by: datetime | None = None
    ship_by: datetime | None = None
    accepted_at: datetime | None = None  #: when shelfdesk saw it accepted; None = unknown
    hold_reason: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


def _backmarket_marketplace_date(order: OrderFacts, working: WorkingTime) -> datetime | None:
    """Back Market's ``expected_dispatch_date`` read in the market's time, else the stored deadline."""
    return working.local_date(order.payload.get("expected_dispatch_date")) or order.ship_by or order.accept_by


def due_for_order(order: OrderFacts, working: WorkingTime) -> list[Due]:
    """What is due on an order now, by when, and what missing it costs (empty once nothing is)."""
    common = dict(
        target_type="order",
        target_id=order.id,
        reference=order.reference,
        order_id=order.id,
        note=order.hold_reason if order.status is NormalizedStatus.New else None,
    )
    if order.marketplace is Marketplace.leboncoin:
        if order.status is NormalizedStatus.New:
            given = working.local_date(order.payload.get("availability_deadline")) or order.accept_by
            at = given or order.purchased_at + LEBONCOIN_AVAILABILITY
            return [
                Due(
                    DueKind.confirm_availability,
                    at,
                    "Leboncoin cancels the sale and refunds the buyer",
                    source="marketplace" if given else "rule",
                    **common,
                )
            ]
        if order.status is NormalizedStatus.InProgress:
            given = working.local_date(order.payload.get("shipping_deadline")) or order.ship_by
            at = given or (order.accepted_at or order.purchased_at) + LEBONCOIN_SHIPPING
            return [
                Due(
                    DueKind.confirm_shipping,
                    at,
                    "Leboncoin cancels the sale and refunds the buyer",
                    source="marketplace" if given else "rule",
                    **common,
                )
            ]
        return []
    if order.status not in (NormalizedStatus.New, NormalizedStatus.InProgress):
        return []
    given = _backmarket_marketplace_date(order, working)
    if order.status is NormalizedStatus.New:
        at = given or working.end_of_day(working.dispatch_day(order.purchased_at))
        return [
            Due(
                DueKind.accept,
                at,
                "Back Market counts a late shipment and may cancel the order",
                source="marketplace" if given else "rule",
                **common,
            )
        ]
    at = given or working.end_of_day(working.dispatch_day(order.accepted_at or order.purchased_at))
    return [
        Due(
            DueKind.ship,
            at,
            "Back Market counts a late shipment against the seller's rating",
            source="marketplace" if given else "rule",
            **common,
        )
    ]


def due_for_line(order: OrderFacts, line_id: int, line_status: NormalizedStatus, working: WorkingTime) -> list[Due]:
    """A line is due with its order (marketplaces date orders, not lines) while it is itself open."""
    if line_status not in (NormalizedStatus.New, NormalizedStatus.InProgress):
        return []
    facts = OrderFacts(**{**order.__dict__, "status": line_status})
    return [
        Due(d.kind, d.due_at, d.consequence, "line", line_id, d.reference, d.source, d.order_id, d.note)
        for d in due_for_order(facts, working)
    ]


@dataclass(frozen=True)
class TokenFacts:
    account_id: int
    name: str
    marketplace: Marketplace
    expires_at: datetime | None  #: the stored expiry, when the marketplace or a check told it
    issued_at: datetime | None = None  #: when the token was set (a Leboncoin token then lives 365 days)
    rejected_at: datetime | None = None  #: when the marketplace last refused it (the token check), if it did
    error: str | None = None  #: what the marketplace said then


def due_for_token(token: TokenFacts) -> list[Due]:
    """When an account's token must be renewed before harvests and stock pushes stop (at once once refused)."""
    if token.error and token.rejected_at is not None:
        return [
            Due(
                DueKind.renew_token,
                min(token.rejected_at, token.expires_at or token.rejected_at),
                "orders stop arriving and stock stops updating on this account",
                "account",
                token.account_id,
                token.name,
                "marketplace",
                note=f"refused: {token.error}",
            )
        ]
    at = token.expires_at
    source = "marketplace"
    if at is None and token.marketplace is Marketplace.leboncoin and token.issued_at is not None:
        at, source = token.issued_at + LEBONCOIN_TOKEN_LIFETIME, "rule"
    if at is None:
        return []
    return [
        Due(
            DueKind.renew_token,
            at,
            "orders stop arriving and stock stops updating on this account",
            "account",
            token.account_id,
            token.name,
            source,
        )
    ]


#: The order deadline an outbox action of each kind races against.
_ACTION_RACES: dict[ActionKind, tuple[DueKind, ...]] = {
    ActionKind.accept: (DueKind.accept,),
    ActionKind.confirm_availability: (DueKind.confirm_availability,),
    ActionKind.ship: (DueKind.ship,),
    ActionKind.confirm_shipping: (DueKind.confirm_shipping,),
    ActionKind.set_line_details: (DueKind.ship,),
}


def due_for_action(action_id: int, kind: ActionKind, order: OrderFacts, working: WorkingTime) -> list[Due]:
    """A pending outbox action is due by the order deadline it answers (an action nothing races has none)."""
    races = _ACTION_RACES.get(kind, ())
    return [
        Due(
            DueKind.send_action,
            d.due_at,
            f"{kind} not sent in time: {d.consequence}",
            "action",
            action_id,
            d.reference,
            d.source,
            order.id,
            f"{kind} waiting in the outbox",
        )
        for d in due_for_order(order, working)
        if d.kind in races
    ]


def due_for_care_case(case_id: int, case_ref: str, order_id: int | None, what: str, due_at: datetime, consequence: str) -> list[Due]:
    """An open after-sales case: its answer or resolution, by the date :mod:`shelfdesk.care.deadlines` computed."""
    return [Due(DueKind.care_case, due_at, consequence, "case", case_id, f"case {case_ref}", "rule", order_id, f"{what} the buyer's case")]


def most_urgent_first(items: Iterable[Due]) -> list[Due]:
    """Earliest due first; on a tie, the list's group order, then the reference."""
    order = {k: i for i, k in enumerate(DueKind)}
    return sorted(items, key=lambda d: (d.due_at, order[d.kind], d.reference))
