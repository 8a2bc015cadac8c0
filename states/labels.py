"""The program's own words for the engine's names (see docs/domain.md, "Words people read").

Notices and the CLI's human output use these; an engine name never reaches a district.
"""

from __future__ import annotations

from collections.abc import Iterable

ROLE_LABELS = {
    "system": "pal, automatically",
    "liaison": "the partnership liaison",
    "director": "the Director of Partnership Districts",
    "state_superintendent": "the State Superintendent",
    "superintendent": "the district superintendent",
    "board_president": "the president of the Board of Education",
    "authorizer": "the authorizer",
    "isd_superintendent": "the ISD superintendent",
    "partner": "the community partners",
    # Derived recipients of notices.
    "signatories": "the parties who signed the plan",
    "district_all": "everyone on file for the district",
    "former_liaison": "the partnership liaison replaced",
}
PARTY_LABELS = {
    "board": "Board of Education",
    "superintendent": "Superintendent",
    "authorizer": "Authorizer",
    "mde": "Michigan Department of Education",
}
CONSEQUENCE_LABELS = {
    "closure": "School closure",
    "reconstitution": "Reconstitution",
    "isd_intervention": "Intervention by the ISD",
    "increased_supports": "Increased supports from MDE",
}

# The steps of a review (seed 001), the statuses a school is determined to have, and the kinds
# of benchmark a plan sets for each school (MCL 388.1622p).
STEP_LABELS = {
    "evidence": "evidence submission and benchmark assessment",
    "self_assessment": "district self-assessment",
    "partner_assessment": "partner assessment",
    "mde_assessment": "MDE assessment",
    "conference": "structured conference",
}
STATUS_LABELS = {
    "on_track": "On-Track",
    "off_track_progress": "Off-Track with Progress",
    "off_track_limited": "Off-Track with Limited Progress",
}
BENCHMARK_KIND_LABELS = {
    "on_track": "pupils on track to grade-level proficiency",
    "proficiency_or_growth": "proficiency or growth",
    "graduation_rate": "graduation rate",
    "attendance_rate": "attendance rate",
    "local": "local measure",
}
DIRECTION_LABELS = {"higher": "higher is better", "lower": "lower is better"}


def joined(items: Iterable[str], conjunction: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`."""
    words = list(items)
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"

# Each notice as staff call it (`pal notice list`, `pal notice preview`).
NOTICE_LABELS = {
    "identified": "Identified for partnership",
    "liaison_named": "Partnership liaison named",
    "liaison_reassigned": "Partnership liaison changed",
    "plan_reminder": "Partnership plan due soon",
    "plan_overdue": "Partnership plan overdue",
    "plan_overdue_accountability": "Partnership plan overdue: next level of accountability",
    "signed": "Partnership plan signed",
    "date_corrected": "Date corrected",
    "amendment_opened": "Amendment opened",
    "amendment_effective": "Amendment in force",
    "rga_reminder": "18-month Review of Goal Attainment coming",
    "review_24_reminder": "24-month review coming",
    "review_36_reminder": "36-month review coming",
    "review_opened": "Review opened",
    "review_step_reminder": "Review step due soon",
    "review_step_overdue": "Review step overdue",
    "review_step_recorded": "Review step recorded",
    "review_determined": "Review statuses determined",
    "action_not_possible": "Automatic step not possible",
    "exited": "Exited partnership",
    "renewed": "Partnership agreement renewed",
    "escalated": "Next level of accountability",
}
