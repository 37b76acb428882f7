"""An account's hourly budget of listing lines, as the Publications screen and the stock pusher show it.

Back Market accepts about 2,000 SKU lines per hour per account, real-time and
batch together. Every sender draws from one budget: the offers and products
feeds, the stock pusher (their items, by ``sent_at``) and the repricer (its
applied changes). The engine sends within :func:`engine.run_quota` (90 % of
the limit minus the last hour's use); this module says what is left and, when
lines wait, when enough of the hour's lines leave the window for them to go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: The share of the marketplace's limit shelfdesk uses (the rest absorbs clock skew and other tools).
SHARE = 0.9
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class AccountBudget:
    """Lines one account may still send this hour."""

    account_id: int
    limit: int  #: lines per hour shelfdesk allows itself
    sent: tuple[datetime, ...]  #: when each line of the last hour was sent, oldest first

    @property
    def used(self) -> int:
        return len(self.sent)

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def free_at(self, lines: int, now: datetime) -> datetime | None:
        """When ``lines`` more lines fit (None: now)."""
        short = lines - self.left
        if short <= 0:
            return None
        if short > len(self.sent):  # more than a whole hour's budget: some wait beyond this hour
            return now + HOUR
        return self.sent[short - 1] + HOUR

    def wait_text(self, lines: int, now: datetime) -> str:
        """ "" when they fit; else "about N min" until they do."""
        at = self.free_at(lines, now)
        if at is None:
            return ""
        minutes = max(1, int((at - now).total_seconds() + 59) // 60)
        return f"about {minutes} min"


def account_budget(session: Session, account_id: int, per_hour: int | None, now: datetime) -> AccountBudget | None:
    """The account's budget (None when the marketplace sets no hourly limit)."""
    from sqlalchemy import select

    from shelfdesk.db.tables import table

    if per_hour is None:
        return None
    # Core tables: ``shelfdesk status`` reads the budget without the models.
    Channel, Publication, PublicationItem = table("channels").c, table("publications").c, table("publication_items").c
    RepriceChange = table("reprice_changes").c
    since = now - HOUR
    channels = select(Channel.id).where(Channel.account_id == account_id)
    recent = select(Publication.id).where(
        Publication.channel_id.in_(channels),
        Publication.dry_run.is_(False),
        Publication.started_at > now - timedelta(hours=6),
    )
    sent = list(
        session.execute(
            select(PublicationItem.sent_at).where(PublicationItem.publication_id.in_(recent), PublicationItem.sent_at > since)
        ).scalars()
    )
    sent += list(
        session.execute(
            select(RepriceChange.at).where(
                RepriceChange.channel_id.in_(channels), RepriceChange.applied.is_(True), RepriceChange.at > since
            )
        ).scalars()
    )
    return AccountBudget(account_id, int(per_hour * SHARE), tuple(sorted(sent)))
