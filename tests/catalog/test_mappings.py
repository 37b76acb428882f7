"""Category and column mappings: leaves only, costs, suggestions, value maps, preview; files round-trip."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shelfdesk.catalog import category_mapping as cm, column_mapping as col, exclusions as ex, mapping_files as mf
from shelfdesk.catalog.categories import category_tree
from shelfdesk.catalog.errors import CatalogError
from shelfdesk.catalog.importer import import_catalog
from shelfdesk.services.accounts import create_account
from shelfdesk.services.channels import create_channel
from tests.catalog.conftest import ean

FEED = (
    "sku,ean,title,category,price,stock,grade,warranty,condition\n"
    f"P1,{ean(1)},iPhone 13,Electronics > Mobile phones > Smartphones,379,2,0,12,refurbished\n"
    f"P2,{ean(2)},iPhone 12,Electronics > Mobile phones > Smartphones,289,1,3,12,used\n"
    f"P3,{ean(3)},Galaxy S21,Electronics > Mobile phones > Smartphones,239,1,9,6,Second-hand\n"
    "L1,,MacBook Air,Electronics > Computers > Laptops,589,1,1,24,new\n"
    "C1,,Tolix chair,Home > Furniture > Chairs,38,1,,,used\n"
    "C2,,Bistro chair,Home > Furniture > Chairs,45,1,,,used\n"
    "X1,,Mystery,,10,1,,,used\n"
)


@pytest.fixture
def channels(ctx, store_id, write):  # type: ignore[no-untyped-def]
    import_catalog(ctx, store_id, str(write("feed.csv", FEED)))
    bm = create_account(ctx, "backmarket", "BM EU", token="bm-token-123456", region="eu")
    lbc = create_account(ctx, "leboncoin", "LBC", token="lbc-token-123456")
    return (create_channel(ctx, store_id, bm.id, "FR").id, create_channel(ctx, store_id, lbc.id, "FR").id)


def test_trees_are_realistic_and_consistent() -> None:
    bm, lbc = category_tree("backmarket"), category_tree("leboncoin")
    smartphones = bm.by_path("Smartphones & mobile phones > Smartphones")
    assert smartphones is not None and smartphones.leaf and smartphones.needs == "imei" and smartphones.commission
    assert [c.name for c in lbc.children()] == ["Fashion", "Home", "Leisure", "Multimedia", "Family"]
    for tree in (bm, lbc):
        for node in tree.nodes:
            assert node.leaf == (not tree.children(node.id))
            assert not node.leaf or node.commission is not None


def test_unmapped_first_largest_first_and_leaf_only(ctx, channels) -> None:  # type: ignore[no-untyped-def]
    bm, _ = channels
    rows = cm.merchant_categories(ctx, bm)
    assert [(r.path, r.products) for r in rows] == [
        ("Electronics > Mobile phones > Smartphones", 3),
        ("Home > Furniture > Chairs", 2),
        ("Electronics > Computers > Laptops", 1),
        (None, 1),
    ]
    with pytest.raises(CatalogError, match="not a leaf category: choose one of its subcategories"):
        cm.set_category_mapping(ctx, bm, "Electronics > Computers > Laptops", "Computers > Laptops")
    with pytest.raises(CatalogError, match="no category"):
        cm.set_category_mapping(ctx, bm, "Electronics > Computers > Laptops", "Spaceships")
    mapped = cm.set_category_mapping(ctx, bm, "Electronics > Mobile phones > Smartphones", "7")
    assert mapped.commission == Decimal("10.0") and mapped.requires_imei_or_serial
    rows = cm.merchant_categories(ctx, bm)
    assert rows[-1].path == "Electronics > Mobile phones > Smartphones" and rows[-1].mapped  # mapped ones go last


def test_leboncoin_cost_follows_secure_payment(ctx, channels) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.services.channels import update_channel

    _, lbc = channels
    with_payment = cm.set_category_mapping(ctx, lbc, "Home > Furniture > Chairs", "home.furniture.seating")
    assert (with_payment.commission, with_payment.insertion_fee) == (Decimal("6.0"), None)
    update_channel(ctx, lbc, secure_payment=False)
    without = cm.set_category_mapping(ctx, lbc, "Home > Furniture > Chairs", "Home > Furniture > Chairs & armchairs")
    assert (without.commission, without.insertion_fee) == (None, Decimal("2.00"))
    custom = cm.set_category_mapping(ctx, lbc, "Home > Furniture > Chairs", "home.furniture.seating", insertion_fee=Decimal("1.25"))
    assert custom.insertion_fee == Decimal("1.25")


def test_category_suggestions(ctx, channels) -> None:  # type: ignore[no-untyped-def]
    bm, lbc = channels
    done = dict(cm.apply_suggestions(ctx, lbc))
    assert done["Electronics > Mobile phones > Smartphones"] == "Multimedia > Phones & connected devices > Mobile phones"
    assert done["Home > Furniture > Chairs"] == "Home > Furniture > Chairs & armchairs"
    assert "Home > Furniture > Chairs" not in dict(cm.apply_suggestions(ctx, bm))  # no furniture on Back Market


def test_column_mapping_value_maps_and_preview(ctx, channels) -> None:  # type: ignore[no-untyped-def]
    bm, _ = channels
    rows = {r.spec.name: r for r in col.attribute_rows(ctx, bm)}
    assert rows["grade"].spec.mandatory and rows["grade"].spec.accepted == ("PREMIUM", "EXCELLENT", "VERY_GOOD", "GOOD", "FAIR", "STALLONE")
    assert rows["warranty_delay"].suggestion == "warranty" and rows["ean"].suggestion == "ean"
    with pytest.raises(CatalogError, match="not an accepted value"):
        col.set_mapping(ctx, bm, "grade", column="grade", value_map={"0": "MINT"})
    with pytest.raises(CatalogError, match="below the minimum of 12"):
        col.set_mapping(ctx, bm, "warranty_delay", constant="6")
    with pytest.raises(CatalogError, match="column or to a constant"):
        col.set_mapping(ctx, bm, "grade")
    grades = {"0": "PREMIUM", "1": "EXCELLENT", "2": "VERY_GOOD", "3": "GOOD", "4": "STALLONE"}
    col.set_mapping(ctx, bm, "grade", column="grade", value_map=grades)
    col.set_mapping(ctx, bm, "warranty_delay", column="warranty", default="12")
    col.set_mapping(ctx, bm, "price", column="price")
    col.set_mapping(ctx, bm, "ean", column="ean")
    ex.add_rule(ctx, bm, "category", "contains", "Home")
    preview = col.preview(ctx, bm, skus=["P1", "P3", "L1"])
    values = {row.sku: row.values for row in preview.rows}
    assert values["P1"]["grade"] == ("PREMIUM", None)
    assert values["P3"]["grade"] == (None, "'9' is not an accepted value (PREMIUM, EXCELLENT, VERY_GOOD, GOOD, FAIR, STALLONE)")
    assert values["P3"]["warranty_delay"] == (None, "6 is below the minimum of 12")
    assert values["L1"]["ean"] == (None, "needs product_id or ean")
    # Failures are counted over the whole not-excluded catalog (the chairs are excluded).
    assert preview.products == 5 and preview.failures == {"grade": 2, "warranty_delay": 1, "ean": 2, "product_id": 2}


def test_leboncoin_reason_is_required_only_for_new(ctx, channels) -> None:  # type: ignore[no-untyped-def]
    _, lbc = channels
    col.set_mapping(ctx, lbc, "condition", column="condition", value_map={"Second-hand": "used"})
    rows = {r.sku: r.values for r in col.preview(ctx, lbc, skus=["P1", "P3", "L1"], count_failures=False).rows}
    assert rows["P3"]["condition"] == ("used", None) and rows["P1"]["new_reason"] == (None, None)
    assert rows["L1"]["new_reason"] == (None, "unmapped")
    col.set_mapping(ctx, lbc, "new_reason", constant="customer_return")
    rows = {r.sku: r.values for r in col.preview(ctx, lbc, skus=["L1"], count_failures=False).rows}
    assert rows["L1"]["new_reason"] == ("customer_return", None)


def test_value_map_suggestions() -> None:
    from shelfdesk.catalog.attributes import attribute_set

    grade = attribute_set("backmarket").get("grade")
    assert col.suggest_value_map(grade, ["Very good", "excellent", "Fair", "B"]) == {
        "Very good": "VERY_GOOD",
        "excellent": "EXCELLENT",
        "Fair": "FAIR",
    }


@pytest.mark.parametrize("fmt", ["toml", "csv"])
def test_mapping_files_round_trip_between_channels(ctx, channels, store_id, fmt, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.services.stores import create_store

    bm, _ = channels
    cm.set_category_mapping(ctx, bm, "Electronics > Mobile phones > Smartphones", "7", commission=Decimal("11.5"))
    col.set_mapping(ctx, bm, "grade", column="grade", value_map={"0": "PREMIUM", 'odd "quote"': "FAIR"})
    col.set_mapping(ctx, bm, "warranty_delay", constant="12")
    ex.add_rule(ctx, bm, "stock", "less_than", "1")
    ex.exclude_product(ctx, bm, "C1")
    path = tmp_path / f"bm.{fmt}"
    mf.export_mappings(ctx, bm, path)
    other_store = create_store(ctx, "Refurb Madrid", "ES").id
    account = create_account(ctx, "backmarket", "BM ES", token="bm-es-token-123", region="eu")
    target = create_channel(ctx, other_store, account.id, "ES").id
    report = mf.import_mappings(ctx, target, path)
    assert (report.categories, report.columns, report.exclusions) == (1, 2, 2)
    assert mf.collect(ctx, target).categories == mf.collect(ctx, bm).categories
    assert mf.collect(ctx, target).columns == mf.collect(ctx, bm).columns
    assert mf.collect(ctx, target).exclusions == mf.collect(ctx, bm).exclusions


def test_a_bad_mapping_file_lists_every_problem_and_changes_nothing(ctx, channels, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bm, lbc = channels
    col.set_mapping(ctx, bm, "price", column="price")
    before = mf.collect(ctx, bm)
    path = tmp_path / "bad.csv"
    path.write_text(
        "section,key,target,column,constant,default,values,commission,insertion_fee,group,operator,value,enabled,name\n"
        "category,Phones,2,,,,,,,,,,,\n"
        'column,grade,,grade,,,"{""A"": ""MINT""}",,,,,,,\n'
        "column,colour,,colour,,,,,,,,,,\n"
        "exclusion,price,,,,,,,,0,greater_than,cheap,true,\n",
        encoding="utf-8",
    )
    with pytest.raises(mf.MappingFileError) as info:
        mf.import_mappings(ctx, bm, path)
    assert [p.split(":")[0] for p in info.value.problems] == ["line 2 (Phones)", "line 3 (grade)", "line 4", "line 5"]
    assert mf.collect(ctx, bm) == before
    with pytest.raises(mf.MappingFileError, match="the file is for backmarket"):
        mf.import_mappings(ctx, lbc, text=mf.export_mappings(ctx, bm), fmt="toml")
