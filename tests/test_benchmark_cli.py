"""`pal benchmark ...`, `pal school add --high-school` and `identify --schools`: the plan's schools
and benchmarks, entered one by one or from CSV (all rows or none), and their measurements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers import (
    ASSESSMENT_ON,
    DIRECTOR,
    LIAISON,
    PSA,
    SIGNED_ON,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_school,
    execute,
    identify,
    ok,
    refused,
    show,
    sign,
    start_assessment,
)

BENCHMARK_HEADER = "school,kind,label,baseline,target_18,target_36,direction\n"
MEASUREMENT_HEADER = "benchmark,value,on,evidence\n"
BENCHMARK_KEYS = {"id", "school", "kind", "label", "baseline", "target_18", "target_36",
                  "direction", "measurements"}  # fmt: skip


def planning(pal: Pal) -> int:
    """A high school HS1 and an elementary EL1 in TRAD, and an agreement in its needs assessment
    naming both."""
    add_school(pal, "HS1", high_school=True)
    add_school(pal, "EL1")
    agreement = identify(pal, TRAD, "--schools", "HS1,EL1")
    start_assessment(pal, agreement)
    return agreement


def add(pal: Pal, agreement: int, school: str, kind: str, *extra: str) -> Any:
    """Baseline 40, targets 50 and 60; lower-is-better: baseline 60, targets 50 and 40."""
    values = ("60", "50", "40") if "--lower-is-better" in extra else ("40", "50", "60")
    return pal("benchmark", "add", agreement, "--school", school, "--kind", kind,
               "--baseline", values[0], "--target-18", values[1], "--target-36", values[2],
               *extra, "--on", ASSESSMENT_ON, "--by", LIAISON)  # fmt: skip


def added(pal: Pal, agreement: int, school: str, kind: str, *extra: str) -> int:
    result = add(pal, agreement, school, kind, *extra)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout.strip())


def listed(pal: Pal, agreement: int) -> list[dict[str, Any]]:
    return json.loads(ok(pal, "benchmark", "list", agreement, "--json"))  # type: ignore[no-any-return]


def write(tmp_path: Path, text: str, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- schools -------------------------------------------------------------------------------------


def test_school_add_high_school_is_on_file(seeded: Pal, db_url: str) -> None:
    """`school add --high-school` records the school as a high school (others are not)."""
    add_school(seeded, "HS1", high_school=True)
    add_school(seeded, "EL1")
    rows = dict(execute(db_url, "SELECT code, high_school FROM school ORDER BY code"))
    assert {code: bool(flag) for code, flag in rows.items()} == {"EL1": False, "HS1": True}


def test_graduation_rate_only_for_a_high_school(seeded: Pal) -> None:
    """A graduation-rate benchmark is accepted for a high school and refused (exit 2) otherwise."""
    agreement = planning(seeded)
    added(seeded, agreement, "HS1", "graduation_rate")
    refused(seeded, 2, "benchmark", "add", agreement, "--school", "EL1", "--kind",
            "graduation_rate", "--baseline", "1", "--target-18", "2", "--target-36", "3",
            "--by", LIAISON, mentions="not a high school")  # fmt: skip


def test_identify_schools_are_covered_without_benchmarks(seeded: Pal) -> None:
    """Schools named with `identify --schools` are in `agreement show` before any benchmark."""
    agreement = planning(seeded)
    view = show(seeded, agreement)
    assert [(s["code"], s["benchmarks"], s["status"]) for s in view["schools"]] == [
        ("EL1", [], None),
        ("HS1", [], None),
    ]
    assert view["review"] is None


def test_identify_refuses_a_school_of_another_district(seeded: Pal) -> None:
    """`identify --schools` with a school not of the district is bad input and changes nothing."""
    add_school(seeded, "P1", PSA)
    refused(seeded, 2, "agreement", "identify", TRAD, "--schools", "P1", "--by", DIRECTOR)


# --- benchmark add and list ----------------------------------------------------------------------


def test_benchmark_add_prints_the_id_and_list_has_the_documented_shape(seeded: Pal) -> None:
    """`benchmark add` prints the new id; `benchmark list --json` is the issue's objects."""
    agreement = planning(seeded)
    first = added(seeded, agreement, "HS1", "on_track")
    second = added(seeded, agreement, "EL1", "local", "--label", "chronic absence",
                   "--lower-is-better")  # fmt: skip
    assert second == first + 1
    rows = listed(seeded, agreement)
    assert all(set(row) == BENCHMARK_KEYS for row in rows)
    assert rows == [
        {"id": first, "school": "HS1", "kind": "on_track", "label": None, "baseline": 40.0,
         "target_18": 50.0, "target_36": 60.0, "direction": "higher", "measurements": []},
        {"id": second, "school": "EL1", "kind": "local", "label": "chronic absence",
         "baseline": 60.0, "target_18": 50.0, "target_36": 40.0, "direction": "lower",
         "measurements": []},
    ]  # fmt: skip


def test_benchmark_list_in_words(seeded: Pal) -> None:
    """`benchmark list` names kinds and directions in words, and flags a benchmark not measured."""
    agreement = planning(seeded)
    added(seeded, agreement, "HS1", "proficiency_or_growth", "--lower-is-better")
    out = ok(seeded, "benchmark", "list", agreement)
    assert "proficiency or growth" in out
    assert "lower is better" in out
    assert "no measurement" in out
    assert "proficiency_or_growth" not in out


def test_benchmark_add_refusals(seeded: Pal) -> None:
    """A local benchmark without a label and an unknown kind are exit 2; a second benchmark of a
    kind for the same school is exit 3; each changes nothing."""
    agreement = planning(seeded)
    added(seeded, agreement, "HS1", "attendance_rate")
    base = ("benchmark", "add", agreement, "--baseline", "1", "--target-18", "2",
            "--target-36", "3", "--by", LIAISON)  # fmt: skip
    refused(seeded, 2, *base, "--school", "HS1", "--kind", "local", mentions="--label")
    refused(seeded, 2, *base, "--school", "HS1", "--kind", "happiness")
    refused(seeded, 2, *base, "--school", "HS1", "--kind", "on_track", "--baseline", "many")
    refused(seeded, 3, *base, "--school", "HS1", "--kind", "attendance_rate")
    refused(seeded, 2, *base, "--school", "NOPE", "--kind", "on_track")


def test_benchmark_add_after_signing_is_not_allowed(seeded: Pal) -> None:
    """Once the plan is signed its benchmarks change only by amendment: exit 3."""
    agreement = planning(seeded)
    sign(seeded, agreement, TRAD_PARTIES)
    refused(seeded, 3, "benchmark", "add", agreement, "--school", "HS1", "--kind", "on_track",
            "--baseline", "1", "--target-18", "2", "--target-36", "3", "--by", LIAISON)  # fmt: skip


def test_benchmark_add_needs_a_permitted_person(seeded: Pal) -> None:
    """A district superintendent may not add a benchmark (exit 4)."""
    agreement = planning(seeded)
    refused(seeded, 4, "benchmark", "add", agreement, "--school", "HS1", "--kind", "on_track",
            "--baseline", "1", "--target-18", "2", "--target-36", "3",
            "--by", "superintendent@trad.example")  # fmt: skip


def test_benchmark_list_of_no_agreement_is_exit_2(seeded: Pal) -> None:
    """`benchmark list` of an agreement not on file is bad input."""
    refused(seeded, 2, "benchmark", "list", 99)


# --- benchmark import ----------------------------------------------------------------------------


def test_benchmark_import_adds_every_row(seeded: Pal, tmp_path: Path) -> None:
    """Every row of the CSV becomes a benchmark; the output counts them and names their ids."""
    agreement = planning(seeded)
    rows = ("HS1,graduation_rate,,70,75,80,higher\n"
            "HS1,local,suspensions,12,9,6,lower\n"
            "EL1,on_track,,30,35,40,\n")  # fmt: skip
    path = write(tmp_path, BENCHMARK_HEADER + rows)
    out = ok(seeded, "benchmark", "import", agreement, path, "--on", ASSESSMENT_ON, "--by", LIAISON)
    assert out.strip() == "imported 3 benchmarks (1, 2, 3)"
    found = listed(seeded, agreement)
    assert [(b["school"], b["kind"], b["label"], b["direction"]) for b in found] == [
        ("HS1", "graduation_rate", None, "higher"),
        ("HS1", "local", "suspensions", "lower"),
        ("EL1", "on_track", None, "higher"),
    ]


def test_benchmark_import_is_all_or_nothing_naming_the_line(seeded: Pal, tmp_path: Path) -> None:
    """A bad value on line 4 refuses the whole file (exit 2, 'line 4'): nothing is added."""
    agreement = planning(seeded)
    rows = ("HS1,graduation_rate,,70,75,80,higher\n"
            "EL1,on_track,,30,35,40,higher\n"
            "EL1,attendance_rate,,90,92,sideways,higher\n")  # fmt: skip
    path = write(tmp_path, BENCHMARK_HEADER + rows)
    refused(seeded, 2, "benchmark", "import", agreement, path, "--by", LIAISON, mentions="line 4:")
    assert listed(seeded, agreement) == []


def test_benchmark_import_refusals_name_their_line(seeded: Pal, tmp_path: Path) -> None:
    """A wrong header is line 1; a bad direction, a missing field and a duplicate kind in the file
    are named by their line (the duplicate not allowed: exit 3)."""
    agreement = planning(seeded)
    cases = [
        (2, "school,kind,baseline\nHS1,on_track,1\n", "line 1: header must be"),
        (2, BENCHMARK_HEADER + "HS1,on_track,,1,2,3,up\n", "line 2:"),
        (2, BENCHMARK_HEADER + "HS1,on_track,,1,2,3,higher\nEL1,on_track,,1,2\n", "line 3:"),
        (3, BENCHMARK_HEADER + "HS1,on_track,,1,2,3,higher\nHS1,on_track,,1,2,3,higher\n",
         "line 3:"),
    ]  # fmt: skip
    for code, text, mention in cases:
        path = write(tmp_path, text)
        refused(seeded, code, "benchmark", "import", agreement, path, "--by", LIAISON,
                mentions=mention)  # fmt: skip


# --- measurements --------------------------------------------------------------------------------


def signed_with_benchmarks(pal: Pal) -> tuple[int, int, int]:
    """`planning`'s agreement with one benchmark per school, signed: (agreement, HS1's, EL1's)."""
    agreement = planning(pal)
    high = added(pal, agreement, "HS1", "graduation_rate")
    elementary = added(pal, agreement, "EL1", "attendance_rate", "--lower-is-better")
    sign(pal, agreement, TRAD_PARTIES)
    return agreement, high, elementary


def test_measure_records_a_value_with_its_date_and_evidence(seeded: Pal) -> None:
    """`benchmark measure` prints what it recorded; `list` shows the measurements by date."""
    agreement, high, _ = signed_with_benchmarks(seeded)
    out = ok(seeded, "benchmark", "measure", high, "--value", "57.5", "--on", "2019-06-01",
             "--evidence", "state data", "--by", LIAISON)  # fmt: skip
    assert out.strip() == f"benchmark {high}: 57.5 measured on 2019-06-01"
    ok(seeded, "benchmark", "measure", high, "--value", "52", "--on", "2018-06-01", "--by", LIAISON)
    [row, _] = listed(seeded, agreement)
    assert row["measurements"] == [
        {"value": 52.0, "on": "2018-06-01", "evidence": None},
        {"value": 57.5, "on": "2019-06-01", "evidence": "state data"},
    ]


def test_measure_refusals(seeded: Pal) -> None:
    """No such benchmark, a value that is not a number and a future date are bad input (exit 2)."""
    _, high, _ = signed_with_benchmarks(seeded)
    refused(seeded, 2, "benchmark", "measure", 999, "--value", "1", "--on", SIGNED_ON,
            "--by", LIAISON, mentions="no benchmark 999")  # fmt: skip
    refused(seeded, 2, "benchmark", "measure", high, "--value", "lots", "--on", SIGNED_ON,
            "--by", LIAISON)  # fmt: skip
    refused(seeded, 2, "benchmark", "measure", high, "--value", "1", "--on", "2999-01-01",
            "--by", LIAISON)  # fmt: skip
    refused(seeded, 2, "benchmark", "measure", high, "--value", "1", "--by", LIAISON)


def test_measure_import_records_every_row(seeded: Pal, tmp_path: Path) -> None:
    """Every row of the measurements CSV is recorded; the output counts them."""
    agreement, high, elementary = signed_with_benchmarks(seeded)
    rows = (f"{high},61,2019-09-01,state data\n"
            f"{elementary},12.5,2019-09-01,\n")  # fmt: skip
    path = write(tmp_path, MEASUREMENT_HEADER + rows)
    out = ok(seeded, "benchmark", "measure-import", agreement, path, "--by", LIAISON)
    assert out.strip() == "imported 2 measurements"
    found = {b["id"]: b["measurements"] for b in listed(seeded, agreement)}
    assert found == {
        high: [{"value": 61.0, "on": "2019-09-01", "evidence": "state data"}],
        elementary: [{"value": 12.5, "on": "2019-09-01", "evidence": None}],
    }


def test_measure_import_is_all_or_nothing_naming_the_line(seeded: Pal, tmp_path: Path) -> None:
    """A bad row (bad date, bad value, a benchmark of no or another agreement) refuses the whole
    file with exit 2, naming its line; nothing is recorded."""
    agreement, high, elementary = signed_with_benchmarks(seeded)
    good = f"{high},61,2019-09-01,state data\n{elementary},12,2019-09-01,\n"
    for bad in (f"{high},61,2019-13-01,x\n", f"{high},sixty,2019-09-01,x\n", "999,1,2019-09-01,\n",
                f"{high},61\n"):  # fmt: skip
        path = write(tmp_path, MEASUREMENT_HEADER + good + bad)
        refused(seeded, 2, "benchmark", "measure-import", agreement, path, "--by", LIAISON,
                mentions="line 4:")  # fmt: skip
    assert all(b["measurements"] == [] for b in listed(seeded, agreement))


def test_agreement_show_lists_schools_with_benchmarks_in_words(seeded: Pal) -> None:
    """`agreement show` lists each school by name, its benchmarks in words; `--json` has them."""
    agreement, high, _ = signed_with_benchmarks(seeded)
    ok(seeded, "benchmark", "measure", high, "--value", "45", "--on", "2019-06-01", "--by", LIAISON)
    out = ok(seeded, "agreement", "show", agreement)
    assert "HS1        HS1 School: -" in out
    assert "graduation rate" in out and "45 on 2019-06-01" in out
    assert "graduation_rate" not in out.split("  deadlines")[0]
    [el1, hs1] = show(seeded, agreement)["schools"]
    assert set(hs1) == {"code", "name", "benchmarks", "status", "missing_benchmarks"}
    assert hs1["benchmarks"] == [b for b in listed(seeded, agreement) if b["school"] == "HS1"]
    assert el1["code"] == "EL1" and el1["name"] == "EL1 School"


def test_agreement_show_names_the_benchmarks_the_law_still_requires(seeded: Pal) -> None:
    """A school's plan lacking a kind the law requires says which, in words and in JSON."""
    agreement, _, _ = signed_with_benchmarks(seeded)
    [el1, hs1] = show(seeded, agreement)["schools"]
    assert hs1["missing_benchmarks"] == ["on_track", "proficiency_or_growth", "attendance_rate"]
    assert el1["missing_benchmarks"] == ["on_track", "proficiency_or_growth"]
    out = ok(seeded, "agreement", "show", agreement)
    assert (
        "the plan still needs a benchmark of pupils on track to grade-level proficiency, "
        "proficiency or growth\n" in out
    )
