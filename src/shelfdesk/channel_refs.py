"""How an operator names a channel, everywhere: id, name, market, marketplace or short slug.

Every command that takes a channel (``channel``, ``mapping``, ``publish``,
``publications``, ``reprice``, ``orders``, ``jobs``) resolves what was typed
with :func:`resolve_channel`, so the same words work in all of them and a
script can name a channel one way throughout:

* its id (``3``);
* its name, any case (``Back Market France``), or ``STORE/NAME`` when two
  stores have a channel of that name;
* its slug, the short code Orders, Publications and Jobs show, in lower case
  with a dash (``bm-fr``, ``lbc-fr``; ``bm-fr7`` when two channels would share
  one), listed by ``shelfdesk channel list``; it needs no quoting in a shell;
* its market (Back Market's locale ``fr-fr``; ``fr_FR`` is read the same) or
  its marketplace (``backmarket``), when only one channel has it.

The forms are tried in that order, among the channels of ``store`` when one is
given; the first form that names exactly one channel wins, one that names
several is refused with them. An unknown name is refused with every candidate
and the forms it answers to. This module sits below the services (it reads two
tables), so orders, publishing, jobs and the services all call it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shelfdesk.domain import MARKETPLACE_SHORT

if TYPE_CHECKING:
    from shelfdesk.context import AppContext


class UnknownChannel(LookupError):
    """What was typed names no channel, or several; the message lists the candidates."""


@dataclass(frozen=True)
class ChannelRef:
    """One channel with every name it answers to."""

    id: int
    name: str
    store_id: int
    store: str
    marketplace: str
    market: str
    country: str
    code: str  #: the short code of narrow columns ("BM FR", "BM FR7" when shared)

    @property
    def slug(self) -> str:
        """The code as a shell word: ``bm-fr``."""
        return self.code.casefold().replace(" ", "-")

    def describe(self) -> str:
        """``#3 Back Market France (slug bm-fr, market fr-fr, store Refurb Paris)``, as errors list candidates."""
        return f"#{self.id} {self.name} (slug {self.slug}, market {self.market}, store {self.store})"


def codes(rows: list[tuple[int, str, str]]) -> dict[int, str]:
    """Short codes ("BM FR", "LBC FR") of (id, marketplace, country) rows; a code two channels share gets the id."""
    base = {i: f"{MARKETPLACE_SHORT.get(str(m), str(m)[:3].upper())} {country}" for i, m, country in rows}
    taken = Counter(base.values())
    return {i: code if taken[code] == 1 else f"{code}{i}" for i, code in base.items()}


def channel_refs(ctx: AppContext) -> list[ChannelRef]:
    """Every channel, by name, with its store and names."""
    with ctx.read_connection() as conn:
        return refs_from(conn)


def refs_from(conn: Any) -> list[ChannelRef]:
    """:func:`channel_refs` on an open connection or session."""
    from sqlalchemy import select

    from shelfdesk.db.tables import table

    channel, store = table("channels").c, table("stores").c
    rows = conn.execute(
        select(channel.id, channel.name, channel.store_id, store.name, channel.marketplace, channel.market, channel.country)
        .join_from(table("channels"), table("stores"), store.id == channel.store_id)
        .order_by(channel.name, channel.id)
    ).all()
    short = codes([(r[0], r[4], r[6]) for r in rows])
    return [ChannelRef(r[0], r[1], r[2], r[3], str(r[4]), r[5] or "", r[6] or "", short[r[0]]) for r in rows]


def _market(text: str) -> str:
    return text.strip().casefold().replace("_", "-")


#: The forms tried in order: each gives the value a typed text is compared with (both folded).
_FORMS = (
    ("name", lambda c: c.name.casefold()),
    ("slug", lambda c: c.slug),
    ("market", lambda c: _market(c.market)),
    ("marketplace", lambda c: c.marketplace.casefold()),
)


def resolve_channel(ctx: AppContext, text: str | int, *, store: str | int | None = None) -> ChannelRef:
    """The channel ``text`` names (among ``store``'s when given), or :class:`UnknownChannel` listing candidates."""
    from sqlalchemy import select

    from shelfdesk.db.tables import table

    with ctx.read_connection() as conn:
        refs = refs_from(conn)
        columns = table("stores").c
        stores = dict(conn.execute(select(columns.id, columns.name).order_by(columns.name)).all()) if store else {}
    return pick_channel(refs, text, store=store, stores=stores)


def pick_channel(
    refs: list[ChannelRef], text: str | int, *, store: str | int | None = None, stores: dict[int, str] | None = None
) -> ChannelRef:
    """:func:`resolve_channel` over channels (and, with ``store``, every store by id) already read."""
    wanted = str(text).strip()
    candidates, where = refs, ""
    if store not in (None, ""):
        store_id = _store_id(stores or {c.store_id: c.store for c in refs}, store)
        candidates = [c for c in refs if c.store_id == store_id]
        where = f" in store {(stores or {}).get(store_id, store)!r}"
    elif "/" in wanted and not wanted.isdigit():
        store_name, _, rest = wanted.rpartition("/")
        in_store = [c for c in refs if c.store.casefold() == store_name.strip().casefold()]
        if in_store:
            candidates, wanted, where = in_store, rest.strip(), f" in store {in_store[0].store!r}"
    if not wanted:
        raise UnknownChannel(f"give a channel{where}: {_known(candidates)}")
    if wanted.isdigit():
        found = [c for c in candidates if c.id == int(wanted)]
        if found:
            return found[0]
    typed = {wanted.casefold(), _market(wanted)}
    for form, value in _FORMS:
        hits = [c for c in candidates if value(c) in typed]
        if len(hits) == 1:
            return hits[0]
        if hits:
            listed = "; ".join(c.describe() for c in hits)
            raise UnknownChannel(f"{wanted!r} is the {form} of several channels{where} ({listed}): give its slug or id")
    raise UnknownChannel(f"no channel {wanted!r}{where}; {_known(candidates)}")


def _known(refs: list[ChannelRef]) -> str:
    if not refs:
        return "there is no channel yet (shelfdesk channel add)"
    return "channels: " + "; ".join(c.describe() for c in refs)


def _store_id(stores: dict[int, str], store: str | int) -> int:
    """The id of ``store`` (id or name, any case), or :class:`UnknownChannel` naming the stores."""
    text = str(store).strip()
    for store_id, name in stores.items():
        if text == str(store_id) or text.casefold() == name.casefold():
            return store_id
    raise UnknownChannel(f"no store {text!r} (stores: {', '.join(stores.values()) or 'none yet'})")
