"""One way to name a channel: id, name, STORE/NAME, slug, market, marketplace; one error listing the candidates."""

from __future__ import annotations

import pytest

from shelfdesk.channel_refs import ChannelRef, UnknownChannel, codes, pick_channel


def _refs() -> list[ChannelRef]:
    rows = [(1, "backmarket", "FR"), (2, "leboncoin", "FR"), (3, "backmarket", "ES"), (4, "backmarket", "FR")]
    short = codes(rows)
    return [
        ChannelRef(1, "Back Market France", 10, "Refurb Paris", "backmarket", "fr-fr", "FR", short[1]),
        ChannelRef(2, "Leboncoin France", 10, "Refurb Paris", "leboncoin", "FR", "FR", short[2]),
        ChannelRef(3, "Back Market Spain", 20, "Refurb Madrid", "backmarket", "es-es", "ES", short[3]),
        ChannelRef(4, "Back Market France", 30, "Refurb Lyon", "backmarket", "fr-fr", "FR", short[4]),
    ]


def test_codes_are_the_short_names_and_a_shared_one_gets_the_id() -> None:
    refs = _refs()
    assert [r.code for r in refs] == ["BM FR1", "LBC FR", "BM ES", "BM FR4"]
    assert [r.slug for r in refs] == ["bm-fr1", "lbc-fr", "bm-es", "bm-fr4"]


@pytest.mark.parametrize(
    ("typed", "store", "expected"),
    [
        ("3", None, 3),
        ("back market spain", None, 3),
        ("Refurb Lyon/Back Market France", None, 4),
        ("bm-fr4", None, 4),
        ("LBC-FR", None, 2),
        ("es-es", None, 3),
        ("es_ES", None, 3),
        ("fr-fr", "Refurb Paris", 1),
        ("fr-fr", "30", 4),
        ("Back Market France", "Refurb Lyon", 4),
        ("leboncoin", None, 2),
        ("backmarket", "Refurb Madrid", 3),
    ],
)
def test_every_form_names_the_same_channel(typed: str, store: str | None, expected: int) -> None:
    stores = {10: "Refurb Paris", 20: "Refurb Madrid", 30: "Refurb Lyon"}
    assert pick_channel(_refs(), typed, store=store, stores=stores).id == expected


def test_a_name_several_channels_answer_to_is_refused_with_them() -> None:
    with pytest.raises(UnknownChannel) as refused:
        pick_channel(_refs(), "fr-fr")
    message = str(refused.value)
    assert message.startswith("'fr-fr' is the market of several channels")
    assert "#1 Back Market France (slug bm-fr1, market fr-fr, store Refurb Paris)" in message
    assert "#4 Back Market France (slug bm-fr4" in message and "give its slug or id" in message
    assert "Spain" not in message


def test_an_unknown_name_lists_every_candidate_with_its_forms() -> None:
    with pytest.raises(UnknownChannel) as refused:
        pick_channel(_refs(), "amazon-fr", store="Refurb Paris", stores={10: "Refurb Paris", 20: "Refurb Madrid"})
    assert str(refused.value) == (
        "no channel 'amazon-fr' in store 'Refurb Paris'; channels: "
        "#1 Back Market France (slug bm-fr1, market fr-fr, store Refurb Paris); "
        "#2 Leboncoin France (slug lbc-fr, market FR, store Refurb Paris)"
    )
    with pytest.raises(UnknownChannel, match=r"no store 'Nowhere' \(stores: Refurb Paris, Refurb Madrid\)"):
        pick_channel(_refs(), "fr-fr", store="Nowhere", stores={10: "Refurb Paris", 20: "Refurb Madrid"})
    with pytest.raises(UnknownChannel, match=r"no channel '9'; there is no channel yet"):
        pick_channel([], "9")
    with pytest.raises(UnknownChannel, match=r"no channel '5'; channels: #1 "):
        pick_channel(_refs(), "5")
