"""Back Market product proposals: a new listing that carries its product's own data.

``POST /ws/listings`` "creates both Products and Listings at the same time": a
row whose EAN the catalog does not know, sent with the product's data, is a
proposal that Back Market's team reviews, then approves (the product and the
listing exist) or rejects. The spec names no column for that data ("generate a
CSV with all the required columns based on the product category in your back
office"), so these are guesses, kept in one place [I]:

* ``title``: the product's name as the catalog gives it;
* ``brand``: the catalog's ``brand`` attribute, when it has one;
* ``category_id``: the Back Market leaf the merchant's category is mapped to
  (the id of shelfdesk's category tree).

A task's result for such a row is undocumented too; we read a status of
``pending_review`` (or ``proposed``, ``pending``) as "in review": not listed
yet, not refused either, under the code :data:`IN_REVIEW_CODE`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.channels.base import ListingUpdate

#: The product columns a proposal row adds to a listing row [I].
PROPOSAL_COLUMNS = ("title", "brand", "category_id")
#: Task result statuses read as "the product proposal waits for Back Market's review" [I].
IN_REVIEW = frozenset({"pending_review", "proposed", "pending", "in_review"})
#: The code a row in review gets, so its items group together on the errors screen.
IN_REVIEW_CODE = "product-in-review"


def proposal_columns(update: ListingUpdate) -> dict[str, str]:
    """The product's data as a proposal row carries it."""
    brand = update.brand or next((v for k, v in update.attributes.items() if k.casefold() == "brand"), "")
    return {"title": update.title or "", "brand": brand or "", "category_id": update.category or ""}
