"""Commands that do what the Mappings screen's keys do (m, d, a, space, x), through the same services.

Each test drives a real workspace with the CLI, then reads the database back.
"""

from __future__ import annotations

import json

from tests.cli.conftest import db, run

# ---------------------------------------------------------------- Mappings screen: m, d, a, space, x


def test_mapping_commands_map_clear_and_exclude_one_at_a_time(capsys, channel, workspace) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "mapping", "show", "Back Market France", "--json")
    shown = json.loads(out)
    assert code == 0 and {c["category"] for c in shown["categories"]} == {"Phones", "Phones > Android"}
    assert shown["rules"] == [] and shown["products"] == 2
    target = "Smartphones & mobile phones > Smartphones"
    code, out, _ = run(capsys, "mapping", "category", "Back Market France", "Phones", target, "--json")
    assert code == 0 and json.loads(out)["target"] == target and json.loads(out)["identifier_required"]  # phones: the tree's rule
    laptops = "Computers > Laptops > Windows laptops"
    code, out, _ = run(capsys, "mapping", "category", "Back Market France", "Phones > Android", laptops, "--json")
    assert code == 0 and not json.loads(out)["identifier_required"]  # Back Market asks for none on laptops
    code, out, _ = run(
        capsys, "mapping", "category", "Back Market France", "Phones > Android", laptops, "--identifier", "required", "--json"
    )
    assert code == 0 and json.loads(out)["identifier_required"]  # the merchant's own rule for this category
    assert run(capsys, "mapping", "clear", "Back Market France", "--category", "Phones > Android")[0] == 0
    code, _, err = run(capsys, "mapping", "category", "Back Market France", "Phones", "Smartphones")
    assert code == 2 and "did you mean: Smartphones & mobile phones > Smartphones" in err
    code, out, _ = run(
        capsys, "mapping", "column", "Back Market France", "grade", "--column", "grade", "--map", "GOOD=GOOD", "--map", "FAIR=FAIR"
    )
    assert code == 0 and "grade ← grade (value map, 2)" in out
    code, out, _ = run(capsys, "mapping", "column", "Back Market France", "grade", "--default", "FAIR", "--json")
    assert json.loads(out)["value_map"] == {"GOOD": "GOOD", "FAIR": "FAIR"}  # the current map is kept
    code, _, err = run(capsys, "mapping", "column", "Back Market France", "grade", "--constant", "MINT")
    assert code == 2 and "not an accepted value" in err
    code, _, err = run(capsys, "mapping", "column", "Back Market France", "grade", "--map", "GOOD")
    assert code == 2 and "write catalog value=accepted value" in err
    code, out, _ = run(capsys, "mapping", "suggest", "Back Market France", "--only", "attributes", "--json")
    suggested = json.loads(out)
    assert code == 0 and suggested["categories"] == [] and "warranty_delay" in suggested["columns"]
    code, out, _ = run(capsys, "mapping", "rule", "Back Market France", "stock", "less_than", "1", "--json")
    rule = json.loads(out)
    assert code == 0 and (rule["excluded"], rule["products"]) == (1, 2)
    code, out, _ = run(capsys, "mapping", "disable-rule", "Back Market France", str(rule["rule"]), "--json")
    assert json.loads(out)["excluded"] == 0
    code, out, _ = run(capsys, "mapping", "exclude", "Back Market France", "A1", "--json")
    manual = json.loads(out)["rule"]
    code, _, err = run(capsys, "mapping", "enable-rule", "Back Market France", "999")
    assert code == 2 and "has no exclusion rule 999" in err
    with db(workspace) as ctx:
        from sqlalchemy import select

        from shelfdesk.catalog.column_mapping import channel_rules as column_rules
        from shelfdesk.catalog.exclusions import channel_rules
        from shelfdesk.db.models import CategoryMapping as CM

        def mapped() -> dict[str, str]:
            with ctx.read_session() as session:
                return dict(session.execute(select(CM.merchant_category, CM.channel_category_path)).all())

        rules = {r.id: r for r in channel_rules(ctx, channel)}
        grade = column_rules(ctx, channel)["grade"]
    assert rules[rule["rule"]].enabled is False and rules[manual].is_manual and rules[manual].value == "A1"
    assert (grade.column, grade.default) == ("grade", "FAIR") and mapped() == {"Phones": target}
    assert run(capsys, "mapping", "clear", "Back Market France", "--rule", str(manual))[0] == 0
    assert run(capsys, "mapping", "clear", "Back Market France", "--category", "Phones")[0] == 0
    code, out, _ = run(capsys, "mapping", "clear", "Back Market France", "--attribute", "grade", "--json")
    assert code == 0 and json.loads(out)["removed"] is True
    code, _, err = run(capsys, "mapping", "clear", "Back Market France", "--attribute", "grade")
    assert code == 2 and "'grade' is not mapped" in err
    with db(workspace) as ctx:
        assert [r.id for r in channel_rules(ctx, channel)] == [rule["rule"]]
        assert "grade" not in column_rules(ctx, channel) and mapped() == {}
