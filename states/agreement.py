"""The partnership-agreement process: its states, and each of its events described once.

Guards and effects are pure functions of an `AgreementCase` (the agreement as the engine loaded
it), the event's data and the agreement's rules; they raise to refuse, and return what to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from states import amendment
from states.amendment import AMENDABLE, AmendmentTerms
from states.corrections import CORRECT_DATE, TrailEntry, date_corrected
from states.errors import BadInput, NotAllowedInState
from states.labels import (
    BENCHMARK_KIND_LABELS,
    DIRECTION_LABELS,
    PARTY_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
)
from states.process import Changes, Child, EventSpec, Field, Process, Successor
from states.review import (
    OFF_TRACK,
    SINGLE_KINDS,
    STATUSES,
    OpenReview,
    PlannedBenchmark,
    benchmark_record,
    determine,
    next_step,
)
from states.rules import RuleSet

STATE_LABELS = {
    "identified": "Identified for partnership",
    "needs_assessment": "Needs assessment and plan",
    "signed": "Plan signed",
    "rga": "18-month Review of Goal Attainment",
    "implementing": "Implementing the plan",
    "review_24": "24-month review",
    "review_36": "36-month review",
    "exited": "Exited partnership",
    "renewed": "Renewed",
    "next_level_accountability": "Next level of accountability",
}
STATES: tuple[str, ...] = tuple(STATE_LABELS)
TERMINAL: frozenset[str] = frozenset({"exited", "renewed", "next_level_accountability"})
ACTIVE: tuple[str, ...] = tuple(s for s in STATES if s not in TERMINAL)

# The deadline kinds rule data may name, in the words a notice uses.
DEADLINE_LABELS = {
    "plan_due": "the signed partnership plan",
    "rga_due": "the 18-month Review of Goal Attainment",
    "review_24_due": "the 24-month review",
    "review_36_due": "the 36-month review",
    "evidence_due": "the evidence submission and benchmark assessment of the review",
    "conference_due": "the structured conference of the review",
    "determination_due": "the status determination of the review",
}
# The states in which a review runs; each is also the review's kind in the rule data.
REVIEW_STATES = ("rga", "review_24", "review_36")
# Each review step and the event that records it.
STEP_EVENTS = {
    "evidence": "record_evidence",
    "self_assessment": "record_self_assessment",
    "partner_assessment": "record_partner_assessment",
    "mde_assessment": "record_mde_assessment",
    "conference": "hold_conference",
}


@dataclass(frozen=True)
class AgreementCase:
    """What guards and effects may look at: one agreement (or, for `identify`, its district)."""

    district_code: str
    psa: bool
    id: int | None = None
    state: str | None = None
    consequences: tuple[str, ...] = ()
    signatures: Mapping[str, date] = field(default_factory=dict)
    liaison_email: str | None = None
    # For `identify`: the district's agreement still running, if any.
    running_agreement: int | None = None
    # The events recorded since the agreement entered its state, oldest first, with their data
    # (for events that read `history`; empty otherwise).
    since_entered: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    # The district's schools, each code with whether it is a high school (`identify`, `plan`).
    district_schools: Mapping[str, bool] = field(default_factory=dict)
    # The plan (events that read `plan` or `measurements`): the schools the agreement covers,
    # in order, and their benchmarks (with measurements only for `measurements`).
    schools: tuple[str, ...] = ()
    benchmarks: tuple[PlannedBenchmark, ...] = ()
    # The latest review, the kinds of review held so far, and the statuses agreed at the
    # latest determination (`review`).
    review: OpenReview | None = None
    reviews_held: tuple[str, ...] = ()
    statuses: Mapping[str, str] = field(default_factory=dict)
    # Every audit row of the agreement, oldest first (`trail`: what a date correction reads).
    trail: tuple[TrailEntry, ...] = ()
    # Every version of the terms (`amendments`): 0, the plan as signed, once amended, then each
    # amendment with its signatures; and the benchmarks of the one open (a draft), if any.
    amendments: tuple[AmendmentTerms, ...] = ()
    draft_benchmarks: tuple[PlannedBenchmark, ...] = ()


# --- identify -----------------------------------------------------------------------------------


def _no_running_agreement(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    if case.running_agreement is not None:
        raise NotAllowedInState(
            f"district {case.district_code} already has active agreement {case.running_agreement}"
        )
    missing = [c for c in rules.traditional_required if c not in values["consequences"]]
    if not case.psa and missing:
        raise BadInput(f"a traditional district's consequences must include {', '.join(missing)}")


def _identified(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    covered = values.get("schools") or ()
    return Changes(
        {
            "district_code": case.district_code,
            "cohort": values.get("cohort"),
            "consequences": ",".join(values["consequences"]),
            "identified_on": day,
        },
        tuple(Child("covered_school", {"school_code": code}) for code in covered),
    )


# --- signatures ---------------------------------------------------------------------------------


def _parties(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return (*rules.signatories, *rules.psa_signatories)


def _may_sign(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    party = values["party"]
    if party not in rules.required_parties(case.psa):
        raise BadInput(f"{party} does not sign for {case.district_code}: it is not a PSA")
    if party in case.signatures:
        raise NotAllowedInState(f"{party} already signed on {case.signatures[party]}")


def _signature(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    return Changes(children=(Child("signature", {"party": values["party"], "signed_on": day}),))


def _last_signature(values: Mapping[str, Any], by: str) -> str:
    party = PARTY_LABELS.get(values["party"], values["party"])
    return f"all required signatures recorded (last: {party}, recorded by {by})"


def _all_signed(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    missing = [p for p in rules.required_parties(case.psa) if p not in case.signatures]
    if missing:
        raise NotAllowedInState(f"the plan still needs signatures from {', '.join(missing)}")


def _signed(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    return Changes({"signed_on": day})


# --- the rest -----------------------------------------------------------------------------------


def _liaison_named(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    return Changes({"liaison_email": values["liaison"]})


def _escalated(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    return Changes({"escalation_option": ",".join(values["option"])})


def _agreed_consequences(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return case.consequences


def _all_options(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return rules.accountability_options


def _not_the_liaison(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    if values["liaison"] == case.liaison_email:
        raise NotAllowedInState(f"{values['liaison']} is already the liaison")


def _liaison_reassigned(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    former = case.liaison_email
    return Changes(
        {"liaison_email": values["liaison"]},
        audited={"former_liaison": former},
        named={"former_liaison": former} if former else {},
    )


# --- the plan: schools, benchmarks, measurements ------------------------------------------------


def _district_schools(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return tuple(case.district_schools)


def _benchmark_kinds(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return tuple(BENCHMARK_KIND_LABELS)


def _directions(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return ("higher", "lower")


def _higher(case: AgreementCase, rules: RuleSet) -> str:
    return "higher"


def _may_add_benchmark(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    school, kind, label = values["school"], values["kind"], values.get("label")
    if kind == "graduation_rate" and not case.district_schools.get(school):
        raise BadInput(f"school {school} is not a high school: it has no graduation rate benchmark")
    if kind == "local" and not label:
        raise BadInput("a local benchmark needs --label, the district's name for its measure")
    baseline, direction = values["baseline"], values["direction"]
    for name in ("target_18", "target_36"):
        behind = values[name] < baseline if direction == "higher" else values[name] > baseline
        if behind:
            raise BadInput(
                f"the {name.removeprefix('target_')}-month target {values[name]:g} is behind "
                f"the baseline "
                f"{baseline:g} for a benchmark where {DIRECTION_LABELS[direction]}"
            )
    short = values["target_36"] < values["target_18"]
    if short if direction == "higher" else values["target_36"] > values["target_18"]:
        raise BadInput(
            f"the 36-month target {values['target_36']:g} is behind the 18-month target "
            f"{values['target_18']:g} for a benchmark where {DIRECTION_LABELS[direction]}"
        )
    for planned in case.benchmarks:
        if planned.school != school or planned.kind != kind:
            continue
        if kind in SINGLE_KINDS:
            raise NotAllowedInState(
                f"school {school} already has a benchmark of {BENCHMARK_KIND_LABELS[kind]}"
            )
        if (planned.label or "").casefold() == (label or "").casefold():
            raise NotAllowedInState(f"school {school} already has a local benchmark {label!r}")


def _benchmark(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    return Changes(children=(Child("benchmark", benchmark_record(values)),))


def _benchmark_id(values: Mapping[str, Any]) -> int:
    text = values["benchmark"]
    if not (text.isascii() and text.isdigit()):
        raise BadInput(f"a benchmark is named by its number, not {text!r}")
    return int(text)


def _plan_benchmark(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    wanted = _benchmark_id(values)
    if not any(planned.id == wanted for planned in case.benchmarks):
        raise BadInput(f"agreement {case.id} has no benchmark {wanted}")


def _measurement(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    if values["on"] > day:
        raise BadInput(f"a measurement dated {values['on']} is in the future (today is {day})")
    record = {
        "benchmark_id": _benchmark_id(values),
        "value": values["value"],
        "measured_on": values["on"],
        "evidence": values.get("evidence"),
    }
    return Changes(children=(Child("measurement", record),))


# --- the reviews ---------------------------------------------------------------------------------


def _opens_review(kind: str) -> Any:
    def effect(
        case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
    ) -> Changes:
        return Changes(children=(Child("review", {"kind": kind, "opened_on": day}),))

    return effect


def _not_held(kind: str) -> Any:
    def guard(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
        if kind in case.reviews_held:
            raise NotAllowedInState(f"the {STATE_LABELS[kind]} has already been held")

    return guard


def _running_review(case: AgreementCase, rules: RuleSet) -> OpenReview:
    review = case.review
    if review is None or review.kind != case.state:
        raise NotAllowedInState("no review is open")
    return review


def _is_next(step: str) -> Any:
    def guard(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
        review = _running_review(case, rules)
        label = STEP_LABELS[step]
        if step in review.done:
            raise NotAllowedInState(f"the {label} of this review is already recorded")
        steps = rules.review(review.kind).steps
        if step not in steps:
            raise NotAllowedInState(f"this review has no {label}")
        waiting = next_step(review, rules.review(review.kind))
        if waiting != step:
            raise NotAllowedInState(
                f"the {label} comes after the {STEP_LABELS[waiting or step]}, not yet recorded"
            )

    return guard


def _step_done(step: str) -> Any:
    def effect(
        case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
    ) -> Changes:
        record = {"step": step, "done_on": day, "evidence": values.get("evidence")}
        return Changes(children=(Child("review_step", record),))

    return effect


def _statuses(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return STATUSES


def _may_determine(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    review = _running_review(case, rules)
    if review.determined_on is not None:
        raise NotAllowedInState(f"this review was determined on {review.determined_on}")
    waiting = next_step(review, rules.review(review.kind))
    if waiting is not None:
        raise NotAllowedInState(f"the {STEP_LABELS[waiting]} of this review is not yet recorded")
    overrides, reasons = values.get("override") or {}, values.get("reason") or {}
    for school in (*overrides, *reasons):
        if school not in case.schools:
            raise BadInput(f"school {school} is not covered by agreement {case.id}")
    for school, status in overrides.items():
        if status not in STATUSES:
            raise BadInput(f"{status!r} is not a status ({', '.join(STATUSES)})")
        if not reasons.get(school):
            raise BadInput(f"the status agreed for {school} needs a written reason (--reason)")
    unexplained = [school for school in reasons if school not in overrides]
    if unexplained:
        raise BadInput(
            f"a reason is given for {', '.join(unexplained)}, whose status is not overridden"
        )


def _determined(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    review = _running_review(case, rules)
    rule = rules.review(review.kind)
    results = determine(
        case.schools, case.benchmarks, day, rule.targets, rules.determination,
        values.get("override") or {}, values.get("reason") or {},
    )  # fmt: skip
    for result in results:
        if result.school in (values.get("override") or {}) and result.agreed == result.computed:
            raise BadInput(
                f"the rules already give {result.school} the status "
                f"{STATUS_LABELS[result.computed]}: there is nothing to override"
            )
    record = {"kind": review.kind, "determined_on": day, "rules_version": rules.version,
              "results": results}  # fmt: skip
    waive: tuple[str, ...] = ()
    later = [r for r in rules.reviews.values() if r.needed_when == "any_off_track"]
    # An RGA that judged no school at all shows nothing on track: the later reviews stay.
    all_on_track = bool(results) and not any(r.agreed in OFF_TRACK for r in results)
    if review.kind == "rga" and later and all_on_track:
        waive = tuple(f"{r.kind}_due" for r in later if f"{r.kind}_due" in DEADLINE_LABELS)
    statuses = {r.school: {"computed": r.computed, "agreed": r.agreed} for r in results}
    return Changes(
        children=(Child("determination", record),),
        audited={"statuses": statuses, "rules": rules.version},
        waive=waive,
        waived_because="not needed: every school was On-Track at the Review of Goal Attainment",
    )


def _review_36_determined(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    review = case.review
    if review is None or review.kind != "review_36" or review.determined_on is None:
        raise NotAllowedInState("the 36-month review has no status determination yet")


def _note_unless_all_on_track(case: AgreementCase, rules: RuleSet) -> str | None:
    if not case.statuses:
        return "the 36-month review judged no school"
    off = sorted(school for school, status in case.statuses.items() if status != "on_track")
    if not off:
        return None
    listed = ", ".join(f"{school} ({STATUS_LABELS[case.statuses[school]]})" for school in off)
    return f"not every school is On-Track ({listed})"


def _always_note(case: AgreementCase, rules: RuleSet) -> str | None:
    return "the reason must be recorded, and the district is told it"

# --- corrections and rule versions (see states/corrections.py) ----------------------------------


def _reason_needed(case: AgreementCase | None, rules: RuleSet) -> str | None:
    return "a correction records why it was made"


def _signature_withdrawn(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    party = values["party"]
    if party not in case.signatures:
        raise NotAllowedInState(f"the {PARTY_LABELS[party]} has no signature on file to withdraw")
    return Changes(removes=(Child("signature", {"party": party}),))


def _measured_benchmark(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    """A benchmark of the terms in force; once amended, also one an amendment removed (its
    measurements stay on file): the withdrawal itself refuses a measurement not there."""
    if case.amendments:
        _benchmark_id(values)
        return
    _plan_benchmark(case, values, rules)


def _measurement_withdrawn(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    record = {"benchmark_id": _benchmark_id(values), "measured_on": values["on"]}
    return Changes(removes=(Child("measurement", record),))


def _step_names(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return tuple(STEP_EVENTS)


def _may_withdraw_step(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    review = _running_review(case, rules)
    step = values["step"]
    if review.determined_on is not None:
        raise NotAllowedInState(f"this review was determined on {review.determined_on}")
    if step not in review.done:
        raise NotAllowedInState(f"the {STEP_LABELS[step]} of this review is not recorded")
    latest = review.steps[-1].step
    if latest != step:
        raise NotAllowedInState(
            f"the {STEP_LABELS[latest]} was recorded after it: withdraw that first"
        )


def _step_withdrawn(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    event = STEP_EVENTS[values["step"]]
    met = tuple(rule.kind for rule in rules.deadlines if event in rule.met_by)
    return Changes(removes=(Child("review_step", {"step": values["step"]}),), reopen=met)


def _corrected(
    case: AgreementCase, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    from states.registry import process

    return date_corrected(case.trail, values["on"], day, rules, process("agreement"))


def _migrated(
    case: AgreementCase | None, values: Mapping[str, Any], rules: RuleSet, day: date
) -> Changes:
    wanted = values["rules"]
    if wanted == rules.version:
        raise NotAllowedInState(f"the agreement already follows rules {wanted}")
    return Changes(
        {"rules_version": wanted},
        rules_version=wanted,
        audited={"from": rules.version, "to": wanted},
    )


CORRECTIONS = (
    EventSpec(
        "withdraw_signature",
        "withdraw a signature recorded in error",
        ("needs_assessment",),
        fields=(Field("party", kind="choice", choices=_parties, choices_are="the parties"),),
        effect=_signature_withdrawn,
        note_required=_reason_needed,
        corrective=True,
    ),
    EventSpec(
        "withdraw_measurement",
        "withdraw a measurement recorded in error",
        ACTIVE,
        fields=(Field("benchmark"), Field("on", kind="date")),
        guard=_measured_benchmark,
        effect=_measurement_withdrawn,
        reads=frozenset({"plan", "amendments"}),
        note_required=_reason_needed,
        corrective=True,
    ),
    EventSpec(
        "withdraw_step",
        "withdraw a review step recorded in error",
        REVIEW_STATES,
        fields=(
            Field("step", kind="choice", choices=_step_names, choices_are="the review steps"),
        ),
        guard=_may_withdraw_step,
        effect=_step_withdrawn,
        reads=frozenset({"review"}),
        note_required=_reason_needed,
        corrective=True,
    ),
    EventSpec(
        CORRECT_DATE,
        "correct the date of the latest step",
        ACTIVE,
        fields=(Field("on", kind="date"),),
        effect=_corrected,
        reads=frozenset({"trail"}),
        note_required=_reason_needed,
        corrective=True,
    ),
    EventSpec(
        "migrate_rules",
        "move the agreement to another version of the rules",
        ACTIVE,
        fields=(Field("rules"),),
        effect=_migrated,
        note_required=_reason_needed,
        corrective=True,
    ),
)


# What a benchmark is given, in the plan and in an amendment's draft alike.
BENCHMARK_FIELDS = (
    Field(
        "school",
        kind="choice",
        choices=_district_schools,
        choices_are="the district's schools",
    ),
    Field(
        "kind",
        kind="choice",
        choices=_benchmark_kinds,
        choices_are="the kinds of benchmark",
    ),
    Field("label", required=False),
    Field("baseline", kind="number"),
    Field("target_18", kind="number"),
    Field("target_36", kind="number"),
    Field(
        "direction",
        kind="choice",
        required=False,
        choices=_directions,
        default=_higher,
        choices_are="the directions",
    ),
)


def _amendment_step(
    name: str, label: str, *, reads: frozenset[str] = frozenset({"amendments"}), **more: Any
) -> EventSpec:
    """An event on an amendment of the terms (states/amendment.py): it may be taken while the
    agreement is amendable, reads the amendments, and is not correctable, since its dates are
    the amendment's own records."""
    return EventSpec(name, label, AMENDABLE, reads=reads, correctable=False, **more)


AGREEMENT = Process(
    name="agreement",
    label="a partnership agreement",
    states=STATES,
    terminal=TERMINAL,
    state_labels=STATE_LABELS,
    deadline_labels=DEADLINE_LABELS,
    commands={
        "identify": "identify",
        "sign": "record_signature",
        "benchmark add": "add_benchmark",
        "benchmark measure": "record_measurement",
        "review determine": "determine",
        "unsign": "withdraw_signature",
        "correct": CORRECT_DATE,
        "migrate": "migrate_rules",
        "amend": "amend",  # `pal agreement amend` (the CLI's name; the library's below)
        "agreement amend": "amend",
        "benchmark add --amendment": "draft_add_benchmark",
        "benchmark edit": "draft_edit_benchmark",
        "benchmark remove": "draft_remove_benchmark",
        "agreement consequences": "draft_consequences",
        "sign --amendment": "record_amendment_signature",
    },
    steps=STEP_EVENTS,
    events=(
        EventSpec(
            "identify",
            "identify the district for partnership",
            dest="identified",
            creates=True,
            fields=(
                Field("cohort", required=False),
                Field(
                    "consequences",
                    kind="choice",
                    many=True,
                    required=False,
                    choices=_all_options,
                    default=_all_options,
                    choices_are="the accountability options",
                ),
                Field(
                    "schools",
                    kind="choice",
                    many=True,
                    required=False,
                    choices=_district_schools,
                    choices_are="the district's schools",
                ),
            ),
            guard=_no_running_agreement,
            effect=_identified,
            dated=("identified_on",),
        ),
        EventSpec(
            "start_assessment",
            "start the needs assessment",
            ("identified",),
            "needs_assessment",
            fields=(Field("liaison", kind="person", roles=("liaison", "director")),),
            effect=_liaison_named,
        ),
        EventSpec(
            "assign_liaison",
            "assign another partnership liaison",
            ACTIVE,
            fields=(Field("liaison", kind="person", roles=("liaison", "director")),),
            guard=_not_the_liaison,
            effect=_liaison_reassigned,
        ),
        EventSpec(
            "record_signature",
            "record a signature of the plan",
            ("needs_assessment",),
            fields=(
                Field("party", kind="choice", choices=_parties, choices_are="the parties"),
            ),
            guard=_may_sign,
            effect=_signature,
            dated=("signature.signed_on",),
            follow_up="sign",
            follow_up_note=_last_signature,
        ),
        EventSpec(
            "sign",
            "sign the partnership plan",
            ("needs_assessment",),
            "signed",
            guard=_all_signed,
            effect=_signed,
            dated=("signed_on",),
        ),
        EventSpec(
            "add_benchmark",
            "add a benchmark to the plan",
            ("identified", "needs_assessment"),
            fields=BENCHMARK_FIELDS,
            guard=_may_add_benchmark,
            effect=_benchmark,
            reads=frozenset({"plan"}),
        ),
        EventSpec(
            "record_measurement",
            "record a measurement of a benchmark",
            ACTIVE,
            fields=(
                Field("benchmark"),
                Field("value", kind="number"),
                Field("on", kind="date"),
                Field("evidence", required=False),
            ),
            guard=_plan_benchmark,
            effect=_measurement,
            reads=frozenset({"plan"}),
        ),
        EventSpec(
            "open_rga",
            "open the 18-month Review of Goal Attainment",
            ("signed",),
            "rga",
            effect=_opens_review("rga"),
            dated=("review.opened_on",),
        ),
        *(
            EventSpec(
                event,
                f"record the {STEP_LABELS[step]} of the review",
                REVIEW_STATES,
                fields=(Field("evidence", required=False),),
                guard=_is_next(step),
                effect=_step_done(step),
                reads=frozenset({"review"}),
                dated=("review_step.done_on",),
            )
            for step, event in STEP_EVENTS.items()
        ),
        EventSpec(
            "determine",
            "record the status determination of the review",
            REVIEW_STATES,
            "implementing",
            stays_in=("review_36",),  # its outcome is an exit, a renewal or an escalation
            fields=(
                Field("override", kind="pairs", required=False),
                Field("reason", kind="pairs", required=False),
            ),
            guard=_may_determine,
            effect=_determined,
            reads=frozenset({"measurements", "review"}),
            correctable=False,  # the statuses were worked out as of its date
        ),
        EventSpec(
            "open_review_24",
            "open the 24-month review",
            ("implementing",),
            "review_24",
            # The one review an agreement can come back to open (from implementing).
            guard=_not_held("review_24"),
            effect=_opens_review("review_24"),
            reads=frozenset({"review"}),
            dated=("review.opened_on",),
        ),
        EventSpec(
            "open_review_36",
            "open the 36-month review",
            ("implementing",),
            "review_36",
            effect=_opens_review("review_36"),
            dated=("review.opened_on",),
        ),
        EventSpec(
            "exit",
            "exit the partnership",
            ("review_36",),
            "exited",
            guard=_review_36_determined,
            note_required=_note_unless_all_on_track,
            reads=frozenset({"review"}),
        ),
        EventSpec(
            "renew",
            "renew the partnership agreement",
            ("review_36",),
            "renewed",
            guard=_review_36_determined,
            note_required=_always_note,
            reads=frozenset({"review"}),
            successor=Successor(
                state="needs_assessment",
                carry=("district_code", "cohort", "consequences", "liaison_email"),
                link_back="renewed_from",
                link_on="renewed_as",
            ),
            correctable=False,  # it started the next agreement
        ),
        EventSpec(
            "escalate",
            "move the district to the next level of accountability",
            ACTIVE,
            "next_level_accountability",
            fields=(
                Field(
                    "option",
                    kind="choice",
                    many=True,
                    choices=_agreed_consequences,
                    choices_are="this agreement's consequences",
                ),
            ),
            effect=_escalated,
            note_required=_always_note,
        ),
        *CORRECTIONS,
        # --- amendments of the terms (states/amendment.py) ---------------------------------
        _amendment_step(
            "amend",
            "open an amendment of the agreement's terms",
            fields=(Field("note"),),
            guard=amendment.may_amend,
            effect=amendment.amendment_opened,
            reads=frozenset({"plan", "amendments"}),
        ),
        _amendment_step(
            "draft_add_benchmark",
            "add a benchmark to an amendment",
            fields=(Field("amendment"), *BENCHMARK_FIELDS),
            guard=amendment.may_add_to_draft,
            effect=amendment.added_to_draft,
            reads=frozenset({"plan", "amendments"}),
        ),
        _amendment_step(
            "draft_edit_benchmark",
            "change a benchmark of an amendment",
            fields=(
                Field("amendment"),
                Field("benchmark"),
                Field("baseline", kind="number", required=False),
                Field("target_18", kind="number", required=False),
                Field("target_36", kind="number", required=False),
                Field("label", required=False),
            ),
            guard=amendment.may_edit_draft,
            effect=amendment.draft_edited,
        ),
        _amendment_step(
            "draft_remove_benchmark",
            "remove a benchmark from an amendment",
            fields=(Field("amendment"), Field("benchmark")),
            guard=amendment.may_remove_from_draft,
            effect=amendment.removed_from_draft,
        ),
        _amendment_step(
            "draft_consequences",
            "set the consequences of an amendment",
            fields=(
                Field("amendment"),
                Field(
                    "consequences",
                    kind="choice",
                    many=True,
                    choices=amendment.all_options,
                    choices_are="the accountability options",
                ),
            ),
            guard=amendment.may_set_consequences,
            effect=amendment.consequences_set,
        ),
        _amendment_step(
            "record_amendment_signature",
            "record a signature of an amendment",
            fields=(
                Field("amendment"),
                Field("party", kind="choice", choices=amendment.parties,
                      choices_are="the parties"),
            ),
            guard=amendment.may_sign,
            effect=amendment.signature,
            follow_up="amendment_in_force",
            follow_up_note=amendment.last_signature,
        ),
        _amendment_step(
            "amendment_in_force",
            "put an amendment of the terms in force",
            guard=amendment.fully_signed,
            effect=amendment.in_force,
        ),
    ),
)
PARTIES = tuple(PARTY_LABELS)
