"""`pal rules list` and `pal rules show`: the rule versions, what each changes, who follows it."""

from __future__ import annotations

import json

from helpers import TRAD, Pal, identify, ok, refused


def test_rules_list_names_each_version_what_it_extends_and_its_agreements(seeded: Pal) -> None:
    """2017-04 extends 2017-10 (a base version); each counts the agreements that follow it."""
    identify(seeded, TRAD, "--rules", "2017-04")
    rows = json.loads(ok(seeded, "rules", "list", "--json"))
    found = {row["version"]: (row["extends"], row["agreements"]) for row in rows}
    assert found == {"2017-04": ("2017-10", 1), "2017-10": (None, 0)}
    assert all(row["description"] for row in rows)
    text = ok(seeded, "rules", "list")
    assert "2017-04  extends 2017-10; 1 agreement\n" in text
    assert "2017-10  base version; 0 agreements" in text


def test_rules_show_gives_what_differs_from_the_extended_version(seeded: Pal) -> None:
    """2017-04 differs from 2017-10 in the plan's 60 days (and its description) only."""
    view = json.loads(ok(seeded, "rules", "show", "2017-04", "--json"))
    assert view["extends"] == "2017-10"
    assert view["differences"] == [
        {"key": "deadlines[plan_due].days", "extended": 90, "value": 60}
    ]
    assert "deadlines[plan_due].days: 90 in 2017-10, 60 here" in ok(seeded, "rules", "show",
                                                                    "2017-04")  # fmt: skip


def test_rules_show_of_a_base_version_gives_its_values(seeded: Pal) -> None:
    """A base version has nothing to differ from: its values are shown."""
    view = json.loads(ok(seeded, "rules", "show", "2017-10", "--json"))
    values = {item["key"]: item["value"] for item in view["values"]}
    assert view["extends"] is None
    assert values["permissions.correct_date"] == ["director"]
    assert values["deadlines[rga_due].months"] == 18
    assert "permissions.migrate_rules = [director]" in ok(seeded, "rules", "show", "2017-10")


def test_rules_show_refuses_an_unknown_version(seeded: Pal) -> None:
    """An unknown version, or one naming a path, is one error line, exit 2, nothing changed."""
    refused(seeded, 2, "rules", "show", "2099-01", mentions="unknown rules version")
    refused(seeded, 2, "rules", "show", "../config/rules/2017-10")
    refused(seeded, 2, "rules", "list", "extra")
