"""When a Care case is due: an answer to the buyer, or its resolution.

Neither the Care spec nor the rate-limit notes give a deadline. What they say:
a message may be "informative" and then "does not trigger LRR" (Back Market's
late response rate), so an answer to the buyer's messages is what is timed.
Our documented guesses, calendar hours like Leboncoin's rules:

* **answer** within :data:`ANSWER_WITHIN` (48 h) of the buyer's latest
  message, when the thread's latest message is the buyer's and not
  informative;
* **resolve** (repair, replace, refund, or close) within
  :data:`RESOLVE_WITHIN` (7 days) of the case's opening, while it is open.

A closed case is due for nothing. Pure functions: no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ANSWER_WITHIN = timedelta(hours=48)
RESOLVE_WITHIN = timedelta(days=7)


ANSWER_CONSEQUENCE = "counts as a late response (LRR) on the seller's rating"
RESOLVE_CONSEQUENCE = "the buyer may escalate to Back Market, which can refund at the seller's cost"


def case_due_consequence(what: str | None) -> str:
    return ANSWER_CONSEQUENCE if what == "answer" else RESOLVE_CONSEQUENCE


@dataclass(frozen=True)
class CaseDue:
    what: str  #: answer / resolve
    due_at: datetime
    consequence: str


def case_due(
    state: str, opened_at: datetime | None, last_message_at: datetime | None, last_from: str | None, informative: bool = False
) -> CaseDue | None:
    """The next thing due on a case (the earlier of answer and resolve), or None when closed."""
    if state == "closed" or opened_at is None:
        return None
    candidates: list[CaseDue] = [CaseDue("resolve", opened_at + RESOLVE_WITHIN, RESOLVE_CONSEQUENCE)]
    if last_from == "buyer" and last_message_at is not None and not informative:
        candidates.append(CaseDue("answer", last_message_at + ANSWER_WITHIN, ANSWER_CONSEQUENCE))
    return min(candidates, key=lambda d: d.due_at)
