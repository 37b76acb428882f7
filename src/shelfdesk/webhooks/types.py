"""Webhook event type names, apart from the event machinery.

Kept free of SQLAlchemy so the CLI can list the types while building its
parser without loading the database layer (every ``shelfdesk`` start pays for
what the parser imports).
"""

from __future__ import annotations

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
ORDER_ACTION_CONFIRMED = "order.action_confirmed"
ORDER_ACTION_FAILED = "order.action_failed"
PUBLICATION_FINISHED = "publication.finished"
DEADLINE_APPROACHING = "deadline.approaching"
PING = "ping"

#: Every type a subscription may ask for, with the words the console and the CLI show.
EVENT_TYPES: dict[str, str] = {
    ORDER_CREATED: "a new order was harvested",
    ORDER_STATUS_CHANGED: "an order's status changed",
    ORDER_ACTION_CONFIRMED: "an order action (accept, ship …) was confirmed by the marketplace",
    ORDER_ACTION_FAILED: "an order action failed",
    PUBLICATION_FINISHED: "a catalog publication finished",
    DEADLINE_APPROACHING: "a deadline crossed an escalation threshold (4 h, 1 h … before it, once each)",
}
