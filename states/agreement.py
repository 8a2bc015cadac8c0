"""The partnership-agreement process: its states, and each of its events described once.

Guards and effects are pure functions of an `AgreementCase` (the agreement as the engine loaded
it), the event's data and the agreement's rules; they raise to refuse, and return what to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from states.errors import BadInput, NotAllowedInState
from states.labels import PARTY_LABELS
from states.process import Changes, Child, EventSpec, Field, Process, Successor
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
    "review_36_due": "the 36-month review",
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
    # (for events whose spec `reads_history`; empty otherwise).
    since_entered: tuple[tuple[str, Mapping[str, Any]], ...] = ()


# --- identify -----------------------------------------------------------------------------------


def _no_running_agreement(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    if case.running_agreement is not None:
        raise NotAllowedInState(
            f"district {case.district_code} already has active agreement {case.running_agreement}"
        )
    missing = [c for c in rules.traditional_required if c not in values["consequences"]]
    if not case.psa and missing:
        raise BadInput(f"a traditional district's consequences must include {', '.join(missing)}")


def _identified(case: AgreementCase, values: Mapping[str, Any], day: date) -> Changes:
    return Changes(
        {
            "district_code": case.district_code,
            "cohort": values.get("cohort"),
            "consequences": ",".join(values["consequences"]),
            "identified_on": day,
        }
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


def _signature(case: AgreementCase, values: Mapping[str, Any], day: date) -> Changes:
    return Changes(children=(Child("signature", {"party": values["party"], "signed_on": day}),))


def _last_signature(values: Mapping[str, Any], by: str) -> str:
    return f"all required signatures recorded (last: {values['party']}, recorded by {by})"


def _all_signed(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    missing = [p for p in rules.required_parties(case.psa) if p not in case.signatures]
    if missing:
        raise NotAllowedInState(f"the plan still needs signatures from {', '.join(missing)}")


def _signed(case: AgreementCase, values: Mapping[str, Any], day: date) -> Changes:
    return Changes({"signed_on": day})


# --- the rest -----------------------------------------------------------------------------------


def _liaison_named(case: AgreementCase, values: Mapping[str, Any], day: date) -> Changes:
    return Changes({"liaison_email": values["liaison"]})


def _escalated(case: AgreementCase, values: Mapping[str, Any], day: date) -> Changes:
    return Changes({"escalation_option": values["option"]})


def _agreed_consequences(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return case.consequences


def _all_options(case: AgreementCase, rules: RuleSet) -> tuple[str, ...]:
    return rules.accountability_options


AGREEMENT = Process(
    name="agreement",
    label="a partnership agreement",
    states=STATES,
    terminal=TERMINAL,
    state_labels=STATE_LABELS,
    deadline_labels=DEADLINE_LABELS,
    commands={"identify": "identify", "sign": "record_signature"},
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
            ),
            guard=_no_running_agreement,
            effect=_identified,
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
            "record_signature",
            "record a signature of the plan",
            ("needs_assessment",),
            fields=(
                Field("party", kind="choice", choices=_parties, choices_are="the parties"),
            ),
            guard=_may_sign,
            effect=_signature,
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
        ),
        EventSpec(
            "open_rga", "open the 18-month Review of Goal Attainment", ("signed",), "rga"
        ),
        EventSpec(
            "determine",
            "record the status determination of the Review of Goal Attainment",
            ("rga",),
            "implementing",
        ),
        EventSpec(
            "open_review_24", "open the 24-month review", ("implementing",), "review_24"
        ),
        EventSpec(
            "complete_review_24",
            "complete the 24-month review",
            ("review_24",),
            "implementing",
        ),
        EventSpec(
            "open_review_36", "open the 36-month review", ("implementing",), "review_36"
        ),
        EventSpec("exit", "exit the partnership", ("review_36",), "exited"),
        EventSpec(
            "renew",
            "renew the partnership agreement",
            ("review_36",),
            "renewed",
            successor=Successor(
                state="needs_assessment",
                carry=("district_code", "cohort", "consequences", "liaison_email"),
                link_back="renewed_from",
                link_on="renewed_as",
            ),
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
                    choices=_agreed_consequences,
                    choices_are="this agreement's consequences",
                ),
            ),
            effect=_escalated,
        ),
    ),
)
PARTIES = tuple(PARTY_LABELS)
