"""Rule data: every shipped version loads; `extends` states only what differs; a misspelt name
anywhere in a rule file is refused when the file is loaded, naming the file and the key."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from config.rules import SHIPPED, load_rules, use_rules_dir, versions
from config.settings import DEFAULT_RULES_VERSION
from states.agreement import AGREEMENT
from states.errors import BadInput, BadRules, PermissionDenied


@pytest.fixture
def rules_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "rules"
    folder.mkdir()
    use_rules_dir(folder)
    yield folder
    use_rules_dir(None)


# An entry an extending version adds comes after the parent's: its index is the parent's count.
_PARENT = tomllib.loads((SHIPPED / "2017-10.toml").read_text())
NEW_TIMER = len(_PARENT["timers"])
NEW_NOTICE = len(_PARENT["transition_notices"])


def write(folder: Path, version: str, body: str) -> None:
    (folder / f"{version}.toml").write_text(f'extends = "2017-10"\nversion = "{version}"\n{body}')


@pytest.mark.parametrize("version", versions())
def test_every_shipped_version_loads(version: str) -> None:
    """Each file in config/rules/ passes the full check and declares its own version."""
    assert load_rules(version).version == version


def test_the_default_version_is_shipped() -> None:
    """The one default rule version names a shipped file."""
    assert (SHIPPED / f"{DEFAULT_RULES_VERSION}.toml").is_file()


def test_2017_04_differs_from_2017_10_only_in_its_plan_window() -> None:
    """2017-04 extends 2017-10: 60 days for the plan, everything else inherited."""
    old, new = load_rules("2017-04"), load_rules("2017-10")
    assert old.deadline("plan_due").days == 60
    assert new.deadline("plan_due").days == 90
    assert old.timers == new.timers
    assert old.permissions == new.permissions
    assert old.transition_notices == new.transition_notices
    assert [d.kind for d in old.deadlines] == [d.kind for d in new.deadlines]


def test_a_version_may_change_one_permission(rules_dir: Path) -> None:
    """A permission stated in an extending version replaces the parent's; the rest is kept."""
    write(rules_dir, "2099-01", '[permissions]\nopen_rga = ["director"]\n')
    rules = load_rules("2099-01")
    assert rules.permissions["open_rga"] == {"director"}
    assert rules.permissions["escalate"] == {"state_superintendent"}


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ('[[timers]]\ndeadline = "plan_due"\noffsets_days = [-3]\nnotice = "plan_remindr"\n'
         'to = ["liaison"]\n', f"timers[{NEW_TIMER}].notice", "plan_remindr"),
        ('[[timers]]\ndeadline = "plan_due"\noffsets_days = [-3]\nnotice = "plan_reminder"\n'
         'to = ["superintendant"]\n', "timers[0].to", "superintendant"),
        ('[permissions]\nopen_rga = ["directer"]\n', "permissions.open_rga", "directer"),
        ('[permissions]\nopen_rag = ["director"]\n', "permissions.open_rag", "unknown key"),
        ('[[deadlines]]\nkind = "plan_due"\nmet_by = ["sing"]\n', "deadlines[0].met_by", "sing"),
        ('[[transition_notices]]\nevent = "sing"\nnotice = "signed"\nto = ["liaison"]\n',
         f"transition_notices[{NEW_NOTICE}].event", "sing"),
        ('[[timers]]\ndeadline = "rga_due"\nladder = "rga_due"\noffsets_days = [0]\n'
         'action = "open_rag"\n', f"timers[{NEW_TIMER}].action", "open_rag"),
        ('[[deadlines]]\nkind = "plan_due"\ndayz = 30\n', "deadlines[0].dayz", "unknown key"),
        ('timmers = []\n', "timmers", "unknown key"),
        ('accountability_options = ["closure", "takeover"]\n', "accountability_options",
         "takeover"),
        ('[signatures]\nrequired = ["board", "mayor"]\n', "signatures.required", "mayor"),
    ],
    ids=["notice", "role", "permission role", "permission event", "deadline event",
         "notice event", "timer action", "deadline key", "top-level key", "consequence", "party"],
)  # fmt: skip
def test_a_misspelt_name_is_refused_at_load_naming_file_and_key(
    rules_dir: Path, body: str, key: str, problem: str
) -> None:
    """One typo, anywhere, and the version does not load: the error says where and what."""
    write(rules_dir, "2099-02", body)
    with pytest.raises(BadRules) as refused:
        load_rules("2099-02")
    message = str(refused.value)
    assert f"2099-02.toml: {key}:" in message
    assert problem in message


def test_a_version_that_extends_itself_is_refused(rules_dir: Path) -> None:
    """A loop of `extends` is refused, not followed forever."""
    (rules_dir / "2099-03.toml").write_text('extends = "2099-04"\nversion = "2099-03"\n')
    (rules_dir / "2099-04.toml").write_text('extends = "2099-03"\nversion = "2099-04"\n')
    with pytest.raises(BadRules, match="extends itself"):
        load_rules("2099-03")


def test_an_event_a_version_does_not_mention_may_be_fired_by_nobody(rules_dir: Path) -> None:
    """Leaving an event out of `[permissions]` denies it (a later release may add events)."""
    (rules_dir / "2099-05.toml").write_text(
        (SHIPPED / "2017-10.toml")
        .read_text()
        .replace('version = "2017-10"', 'version = "2099-05"')
        .replace('determine = ["director"]\n', "")
    )
    rules = load_rules("2099-05")
    with pytest.raises(PermissionDenied, match="nobody"):
        rules.check_may("determine", "director")


def test_the_agreement_process_names_every_event_once() -> None:
    """The process definition is consistent: one create event, known states, known follow-ups."""
    assert AGREEMENT.create.name == "identify"
    assert len(set(AGREEMENT.event_names)) == len(AGREEMENT.event_names)
    for spec in AGREEMENT.events:
        assert spec.label and "_" not in spec.label


def test_a_timer_override_without_a_ladder_replaces_the_parents_step(rules_dir: Path) -> None:
    """A timer's ladder defaults to its deadline, for matching too: moving the 36-month
    reminder replaces it rather than adding a second step to the same ladder."""
    write(rules_dir, "2099-10", '[[timers]]\ndeadline = "review_36_due"\noffsets_days = [-90]\n'
          'notice = "review_36_reminder"\nto = ["superintendent", "liaison"]\n')
    steps = [t.offset_days for t in load_rules("2099-10").timers_for("review_36_due")]
    assert sorted(steps) == [-90, 0]


def test_a_deadline_length_override_replaces_the_whole_length(rules_dir: Path) -> None:
    """`days = 540` for a deadline the parent measures in months replaces the 18 months."""
    write(rules_dir, "2099-11", '[[deadlines]]\nkind = "rga_due"\ndays = 540\n')
    rule = load_rules("2099-11").deadline("rga_due")
    assert (rule.days, rule.months) == (540, 0)


def test_a_timed_action_that_needs_data_is_refused(rules_dir: Path) -> None:
    """A timer cannot give an event its data: `action = "escalate"` is refused at load."""
    write(rules_dir, "2099-12", '[[timers]]\ndeadline = "plan_due"\nladder = "x"\n'
          'offsets_days = [40]\naction = "escalate"\n')
    with pytest.raises(BadRules, match=rf"timers\[{NEW_TIMER}\]\.action: escalate needs data"):
        load_rules("2099-12")


@pytest.mark.parametrize("name", ["../../../../tmp/evil", "../rules/2017-10", "/etc/passwd", ""])
def test_a_rules_version_is_a_name_never_a_path(name: str) -> None:
    """Rule versions come only from the rules folders, by name."""
    with pytest.raises(BadInput, match="unknown rules version"):
        load_rules(name)


def test_a_later_years_appropriation_is_data(rules_dir: Path) -> None:
    """A version that adds 2026-27 keeps 2025-26 from the version it extends."""
    body = '[funds.appropriations]\n"2026-27" = "7000000"\n'
    (rules_dir / "2099-03.toml").write_text(f'extends = "2017-10"\nversion = "2099-03"\n{body}')
    rules = load_rules("2099-03")
    assert rules.appropriation("2026-27") == Decimal("7000000.00")
    assert rules.appropriation("2025-26") == Decimal("6137400.00")


@pytest.mark.parametrize("entry", ['"2026-28" = "1.00"', '"2026-27" = 6137400.5',
                                   '"2026-27" = "1.005"', '"2026-27" = "-1"'])  # fmt: skip
def test_a_bad_appropriation_is_refused_at_load(rules_dir: Path, entry: str) -> None:
    """A year not written like 2025-26, or an amount not in dollars and cents: the version does
    not load, and the error names the key."""
    (rules_dir / "2099-04.toml").write_text('extends = "2017-10"\nversion = "2099-04"\n'
                                            f'[funds.appropriations]\n{entry}\n')  # fmt: skip
    with pytest.raises(BadRules, match=r"2099-04.toml: funds\.appropriations\.2026-2"):
        load_rules("2099-04")
