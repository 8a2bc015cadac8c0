"""Amendments of an agreement's terms: guards and effects of the amendment events, pure.

The terms are the plan's benchmarks (baselines, 18- and 36-month targets) and the agreement's
consequences. Version 0 is the plan as signed; `amend` opens amendment N, a draft that starts as
a copy of the terms in force; the draft events change it while no party has signed it; each
required party signs it (`record_amendment_signature`), and the last signature puts it in force
(`amendment_in_force`, fired by `system` as the signature's follow-up) from that day. Until then
the agreement runs on the terms in force. Nothing here moves a deadline: the statutory clocks
stay measured from the original signing.

The events themselves are described in `states/agreement.py`; this module holds what they do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from states.errors import BadInput, NotAllowedInState
from states.labels import BENCHMARK_KIND_LABELS, DIRECTION_LABELS, PARTY_LABELS, joined
from states.process import Changes, Child
from states.review import PlannedBenchmark, benchmark_record

if TYPE_CHECKING:
    from states.agreement import AgreementCase
    from states.rules import RuleSet

# The states in which the terms may be amended: once the plan is signed, while it runs.
AMENDABLE = ("signed", "rga", "implementing", "review_24", "review_36")


@dataclass(frozen=True)
class AmendmentTerms:
    """One version of the terms as the amendment events see it (not its benchmarks)."""

    number: int
    opened_on: date
    consequences: tuple[str, ...]
    in_force_on: date | None = None
    signatures: Mapping[str, date] = field(default_factory=dict)

    @property
    def drafting(self) -> bool:
        return self.in_force_on is None


def open_draft(case: AgreementCase) -> AmendmentTerms | None:
    return next((a for a in case.amendments if a.drafting), None)


def _number(values: Mapping[str, Any]) -> int:
    text = str(values["amendment"]).strip()
    if not (text.isascii() and text.isdigit()):
        raise BadInput(f"an amendment is named by its number, not {text!r}")
    return int(text)


def _the_draft(case: AgreementCase, values: Mapping[str, Any]) -> AmendmentTerms:
    """The open amendment `values` names; refused when it is unknown or not open."""
    number = _number(values)
    found = next((a for a in case.amendments if a.number == number), None)
    if number == 0:
        raise NotAllowedInState(
            "amendment 0 is the plan as signed; it cannot change (open an amendment with "
            "`pal agreement amend`)"
        )
    if found is None:
        raise BadInput(f"agreement {case.id} has no amendment {number}")
    if not found.drafting:
        raise NotAllowedInState(f"amendment {number} is in force since {found.in_force_on}")
    return found


def _unsigned_draft(case: AgreementCase, values: Mapping[str, Any]) -> AmendmentTerms:
    draft = _the_draft(case, values)
    if draft.signatures:
        signed = joined(PARTY_LABELS.get(p, p) for p in draft.signatures)
        raise NotAllowedInState(
            f"amendment {draft.number} has been signed ({signed}): its terms can no longer change"
        )
    return draft


# --- amend ---------------------------------------------------------------------------------------


def may_amend(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    draft = open_draft(case)
    if draft is not None:
        raise NotAllowedInState(
            f"amendment {draft.number} is still open (opened {draft.opened_on}): it must be "
            "signed by every party before another is opened"
        )


def amendment_opened(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    number = max((a.number for a in case.amendments), default=0) + 1
    children = []
    if not case.amendments:  # the plan as signed becomes version 0
        children.append(Child("amendment", {"number": 0, "consequences": case.consequences}))
    children.append(
        Child(
            "amendment",
            {
                "number": number,
                "opened_on": day,
                "note": values["note"],
                "consequences": case.consequences,
                "benchmarks": case.benchmarks,  # the draft starts as the terms in force
            },
        )
    )
    return Changes(children=tuple(children), audited={"amendment": number})


# --- the draft ------------------------------------------------------------------------------------


def _checked_targets(values: Mapping[str, Any]) -> None:
    baseline, direction = values["baseline"], values["direction"]
    lower = direction == "lower"
    for name in ("target_18", "target_36"):
        if values[name] > baseline if lower else values[name] < baseline:
            raise BadInput(
                f"the {name.removeprefix('target_')}-month target {values[name]:g} is behind the "
                f"baseline {baseline:g} for a benchmark where {DIRECTION_LABELS[direction]}"
            )
    if values["target_36"] > values["target_18"] if lower else (
        values["target_36"] < values["target_18"]
    ):
        raise BadInput(
            f"the 36-month target {values['target_36']:g} is behind the 18-month target "
            f"{values['target_18']:g} for a benchmark where {DIRECTION_LABELS[direction]}"
        )


def may_add_to_draft(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    from states.agreement import AGREEMENT

    _unsigned_draft(case, values)
    # The plan's own rules for a new benchmark, against the draft's benchmarks.
    guard = AGREEMENT.event(AGREEMENT.commands["benchmark add"]).guard
    assert guard is not None
    guard(replace(case, benchmarks=case.draft_benchmarks), values, rules)


def added_to_draft(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    draft = _unsigned_draft(case, values)
    record = {"amendment": draft.number, **benchmark_record(values)}
    return Changes(children=(Child("draft_benchmark", record),))


def _draft_benchmark(case: AgreementCase, values: Mapping[str, Any]) -> PlannedBenchmark:
    draft = _unsigned_draft(case, values)
    text = str(values["benchmark"]).strip()
    if not (text.isascii() and text.isdigit()):
        raise BadInput(f"a benchmark is named by its number, not {text!r}")
    found = next((b for b in case.draft_benchmarks if b.id == int(text)), None)
    if found is None:
        raise BadInput(f"amendment {draft.number} of agreement {case.id} has no benchmark {text}")
    return found


_EDITABLE = ("baseline", "target_18", "target_36", "label")


def _edited(planned: PlannedBenchmark, values: Mapping[str, Any]) -> dict[str, Any]:
    given = {name: values[name] for name in _EDITABLE if values.get(name) is not None}
    if not given:
        raise BadInput("nothing to change: give --baseline, --target-18, --target-36 or --label")
    if "label" in given and planned.kind != "local":
        raise BadInput(f"only a local benchmark has a label, not one of {planned.kind}")
    return given


def may_edit_draft(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    planned = _draft_benchmark(case, values)
    given = _edited(planned, values)
    merged = {
        "baseline": planned.baseline,
        "target_18": planned.target_18,
        "target_36": planned.target_36,
        "direction": "lower" if planned.lower_is_better else "higher",
        **given,
    }
    _checked_targets(merged)
    label = given.get("label")
    if label is not None:
        for other in case.draft_benchmarks:
            same = (other.label or "").casefold() == label.casefold()
            if other.id != planned.id and other.school == planned.school and same:
                raise NotAllowedInState(
                    f"school {planned.school} already has a local benchmark {label!r}"
                )


def draft_edited(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    planned = _draft_benchmark(case, values)
    given = _edited(planned, values)
    before = {name: getattr(planned, name) for name in given}
    record = {"amendment": _number(values), "lineage": planned.id, "changes": given}
    return Changes(children=(Child("draft_benchmark_change", record),),
                   audited={"before": before})  # fmt: skip


def may_remove_from_draft(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    _draft_benchmark(case, values)


def removed_from_draft(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    planned = _draft_benchmark(case, values)
    record = {"amendment": _number(values), "lineage": planned.id}
    return Changes(
        children=(Child("draft_benchmark_removal", record),),
        audited={"school": planned.school, "kind": planned.kind, "label": planned.label},
    )


def may_set_consequences(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    _unsigned_draft(case, values)
    missing = [c for c in rules.traditional_required if c not in values["consequences"]]
    if not case.psa and missing:
        raise BadInput(f"a traditional district's consequences must include {', '.join(missing)}")


def consequences_set(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    record = {"amendment": _number(values), "consequences": values["consequences"]}
    return Changes(children=(Child("draft_terms_consequences", record),))


def all_options(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return rules.accountability_options


# --- signatures and coming into force -----------------------------------------------------------


def parties(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return (*rules.signatories, *rules.psa_signatories)


def may_sign(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    draft = _the_draft(case, values)
    party = values["party"]
    if party not in rules.required_parties(case.psa):
        raise BadInput(f"{party} does not sign for {case.district_code}: it is not a PSA")
    if party in draft.signatures:
        raise NotAllowedInState(
            f"{party} already signed amendment {draft.number} on {draft.signatures[party]}"
        )


def signature(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    record = {"amendment": _number(values), "party": values["party"], "signed_on": day}
    return Changes(children=(Child("amendment_signature", record),))


def last_signature(values: Mapping[str, Any], by: str) -> str:
    return (
        f"all required signatures of amendment {values['amendment']} recorded "
        f"(last: {PARTY_LABELS.get(values['party'], values['party'])}, recorded by {by})"
    )


def fully_signed(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    draft = open_draft(case)
    if draft is None:
        raise NotAllowedInState("no amendment is open")
    missing = [p for p in rules.required_parties(case.psa) if p not in draft.signatures]
    if missing:
        raise NotAllowedInState(
            f"amendment {draft.number} still needs signatures from {', '.join(missing)}"
        )


def in_force(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    draft = open_draft(case)
    assert draft is not None
    return Changes(
        # The agreement's consequences are the terms in force.
        {"consequences": ",".join(draft.consequences)},
        (Child("amendment_effective", {"number": draft.number, "in_force_on": day}),),
        audited={"amendment": draft.number},
    )


# --- what a version changes, in words ------------------------------------------------------------


def _named(b: Any) -> str:
    kind = BENCHMARK_KIND_LABELS.get(b.kind, b.kind)
    return f"{b.school} {kind}{f' ({b.label})' if b.label else ''}"


def _n(value: float) -> str:
    return f"{value:g}"


_TERMS = (("baseline", "baseline"), ("target_18", "18-month target"),
          ("target_36", "36-month target"), ("label", "label"))  # fmt: skip


def changes_in_words(
    before: tuple[Any, ...],
    after: tuple[Any, ...],
    consequences_before: tuple[str, ...],
    consequences_after: tuple[str, ...],
) -> list[str]:
    """What a version changes from the one before it, one sentence each: benchmarks (each with
    `id` its lineage, `school`, `kind`, `label`, `baseline`, `target_18`, `target_36`) changed,
    added or removed, and the consequences."""
    from states.labels import CONSEQUENCE_LABELS

    old = {b.id: b for b in before}
    new = {b.id: b for b in after}
    said = []
    for lineage, b in new.items():
        was = old.get(lineage)
        if was is None:
            said.append(
                f"adds benchmark {lineage}, {_named(b)}: {_n(b.baseline)} to {_n(b.target_18)} "
                f"at 18 months and {_n(b.target_36)} at 36 months"
            )
            continue
        for name, words in _TERMS:
            if getattr(was, name) != getattr(b, name):
                then, now = getattr(was, name), getattr(b, name)
                shown = [_n(v) if isinstance(v, float) else str(v) for v in (then, now)]
                said.append(
                    f"benchmark {lineage}, {_named(was)}: {words} from {shown[0]} to {shown[1]}"
                )
    for lineage, was in old.items():
        if lineage not in new:
            said.append(f"removes benchmark {lineage}, {_named(was)}")
    if tuple(consequences_before) != tuple(consequences_after):
        words_of = [CONSEQUENCE_LABELS.get(c, c) for c in consequences_after]
        said.append(f"consequences: {joined(words_of)}")
    return said
