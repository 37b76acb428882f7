"""Products feed: validation against the connector's requirements, creation, per-item marketplace errors."""

from __future__ import annotations

from shelfdesk.domain import ItemAction, ItemOutcome, PublicationState
from tests.publishing.conftest import Shop, bm_mappings, sandbox_ean


def test_valid_products_are_created_and_invalid_ones_are_recorded_not_sent(shop: Shop) -> None:
    bm_mappings(shop)
    shop.add_product("NEW-IPH13-VG", ean=sandbox_ean(0), grade="VERY_GOOD", price="579.00", stock=3)
    shop.add_product("NEW-PIXEL-NOGRADE", ean=sandbox_ean(5), price="349.00", stock=2)  # grade missing
    shop.add_product("NEW-BADEAN", ean="1234567890123", grade="GOOD", price="99.00", stock=1)  # bad check digit
    shop.add_product("NEW-UNMAPPED-CAT", ean=sandbox_ean(6), grade="GOOD", category="Laptops", price="700.00", stock=1)
    shop.add_product("NEW-UNKNOWN-EAN", ean="3760000000000", grade="GOOD", price="120.00", stock=1)

    result = shop.publish(shop.bm_channel, "products")

    sent = {row["sku"]: row for row in shop.batch_rows()}
    assert set(sent) == {"NEW-IPH13-VG", "NEW-UNKNOWN-EAN"}
    assert sent["NEW-IPH13-VG"] == {
        "sku": "NEW-IPH13-VG",
        "ean": sandbox_ean(0),
        "quantity": "3",
        "price": "579.00",
        "currency": "EUR",
        "grade": "VERY_GOOD",
        "warranty_delay": "12",
    }
    created = shop.listings()["NEW-IPH13-VG"]
    assert (created["quantity"], created["price"], created["grade"]) == (3, "579.00", "VERY_GOOD")
    items = shop.items(result.publication_id)
    assert items["NEW-IPH13-VG"].outcome is ItemOutcome.created
    assert (items["NEW-PIXEL-NOGRADE"].outcome, items["NEW-PIXEL-NOGRADE"].attribute) == (ItemOutcome.failed, "grade")
    assert items["NEW-PIXEL-NOGRADE"].message == "Grade: missing"
    assert (items["NEW-BADEAN"].attribute, items["NEW-BADEAN"].sent_at) == ("ean", None)
    assert items["NEW-UNMAPPED-CAT"].attribute == "category"
    assert "Laptops" in items["NEW-UNMAPPED-CAT"].message
    unknown = items["NEW-UNKNOWN-EAN"]
    assert (unknown.outcome, unknown.error_code, unknown.attribute) == (ItemOutcome.failed, "unknown-ean", "ean")
    assert unknown.error_key == "unknown-ean:ean"
    pub = shop.publication(result.publication_id)
    assert (pub.sent, pub.succeeded, pub.failed, pub.invalid) == (2, 1, 1, 3)
    assert result.state is PublicationState.partial


def test_listed_skus_are_left_to_the_offers_feed_in_update_mode(shop: Shop) -> None:
    bm_mappings(shop)
    shop.add_product("IPH13-128-MID-EXC", ean=sandbox_ean(0), grade="EXCELLENT", price="629.00", stock=4)
    result = shop.publish(shop.bm_channel, "products")
    assert result.state is PublicationState.skipped
    assert shop.batches() == []
    assert result.plan.skipped["already listed (update mode sends listing changes only)"] == 1


def test_a_mapping_fix_then_republishing_only_the_failed_items_succeeds(shop: Shop) -> None:
    bm_mappings(shop)
    shop.map_column(shop.bm_channel, "grade", column="grade")
    shop.add_product("NEW-A", ean=sandbox_ean(0), grade="VG", price="579.00", stock=3)
    shop.add_product("NEW-B", ean=sandbox_ean(1), grade="VG", price="379.00", stock=2)
    shop.add_product("NEW-C", ean=sandbox_ean(2), grade="GOOD", price="199.00", stock=2)
    first = shop.publish(shop.bm_channel, "products")
    failed = [i.sku for i in shop.items(first.publication_id).values() if i.outcome is ItemOutcome.failed]
    assert sorted(failed) == ["NEW-A", "NEW-B"]  # "VG" is no accepted grade until mapped
    assert shop.items(first.publication_id)["NEW-A"].message.startswith("Grade 'VG' is not an accepted value")

    shop.map_column(shop.bm_channel, "grade", column="grade", value_map={"VG": "VERY_GOOD"})
    batches = len(shop.batches())
    retry = shop.publish(shop.bm_channel, "products", only_skus=failed)
    rows = [r["sku"] for b in shop.batches()[batches:] for r in __import__("csv").DictReader(__import__("io").StringIO(b["catalog"]))]
    assert sorted(rows) == ["NEW-A", "NEW-B"]
    assert {i.sku: i.outcome for i in shop.items(retry.publication_id).values()} == {
        "NEW-A": ItemOutcome.created,
        "NEW-B": ItemOutcome.created,
    }
    assert retry.state is PublicationState.succeeded
    assert shop.publication(retry.publication_id).summary["only_skus"] == ["NEW-A", "NEW-B"]


def test_the_channel_that_does_not_own_quantities_does_not_create_listings(shop: Shop) -> None:
    bm_mappings(shop)
    shop.set_channel(shop.bm_channel, owns_quantities=False)
    shop.add_product("NEW-A", ean=sandbox_ean(0), grade="GOOD", price="579.00", stock=3)
    result = shop.publish(shop.bm_channel, "products")
    assert result.state is PublicationState.skipped
    assert result.plan.skipped["created by the channel that owns the account's quantities"] == 1


def test_leboncoin_products_report_marketplace_errors_per_attribute(shop: Shop) -> None:
    c = shop.lbc_channel
    for attribute, column in (
        ("title", "title"),
        ("description", "description"),
        ("condition", "condition"),
        ("price", "price"),
        ("brand", "brand"),
        ("model", "model"),
        ("storage", "storage"),
    ):
        shop.map_column(c, attribute, column=column)
    shop.map_category(c, "Phones > Smartphones", "multimedia.phones.smartphones")
    long_text = "Reconditionné, testé, garanti douze mois, batterie neuve."
    phone = {"condition": "refurbished", "price": "300.00", "stock": 2, "model": "iPhone 13"}
    shop.add_product("LBC-NEW-1", description=long_text, storage="128 Go", **phone)
    shop.add_product("LBC-NEW-2", storage="128 Go", **phone)  # no description
    shop.add_product("LBC-NEW-3", description=long_text, **phone)  # no storage: Leboncoin wants it for smartphones
    result = shop.publish(c, "products")
    items = shop.items(result.publication_id)
    assert items["LBC-NEW-2"].outcome is ItemOutcome.failed and items["LBC-NEW-2"].attribute == "description"
    assert items["LBC-NEW-2"].sent_at is None
    sent = {i["sku"]: i for i in shop.feed_items("products")}
    assert set(sent) == {"LBC-NEW-1", "LBC-NEW-3"}
    assert sent["LBC-NEW-1"]["category"] == "multimedia.phones.smartphones"
    # The shipped tree's leaf ids are the marketplace's: the sandbox accepts them (it reads the same tree).
    assert items["LBC-NEW-1"].outcome is ItemOutcome.created and items["LBC-NEW-1"].error_code is None
    assert shop.ads()["LBC-NEW-1"]["category"] == "multimedia.phones.smartphones"
    # The marketplace's refusal is stored per item with its code and the attribute it names.
    three = items["LBC-NEW-3"]
    assert (three.outcome, three.action, three.error_code, three.attribute, three.error_key) == (
        ItemOutcome.failed,
        ItemAction.create,
        "missing_attribute",
        "storage",
        "missing_attribute:storage",
    )
    assert "multimedia.phones.smartphones" in three.message and three.sent_at is not None


def test_a_run_that_only_refuses_items_is_partial_and_its_group_reads_the_refused_value(shop: Shop) -> None:
    """Nothing sent, but products refused: not "skipped" (nothing to do) — the operator has a group to fix,
    and when every product of the group has the same message, the group says which value is refused."""
    from shelfdesk.publishing.triage import error_clusters

    bm_mappings(shop)
    for n in range(3):
        shop.add_product(f"NEW-WORN-{n}", ean=sandbox_ean(n), grade="Worn", price="300.00", stock=2)
    result = shop.publish(shop.bm_channel, "products")
    assert shop.batches() == []
    pub = shop.publication(result.publication_id)
    assert (result.state, pub.sent, pub.invalid) == (PublicationState.partial, 0, 3)
    [group] = error_clusters(shop.ctx, result.publication_id)
    assert group.label == "Grade 'Worn' is not an accepted value (PREMIUM, EXCELLENT, VERY_GOOD, GOOD, FAIR, STALLONE) — 3 products"
