"""The program's own words for the engine's names (see docs/domain.md, "Words people read").

Notices and the CLI's human output use these; an engine name never reaches a district.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
    "owner": "the owner of the action item",
    "attendees": "the people invited to the meeting",
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
# The roles of the Office of Partnership Districts: a notice to one of them may end with one
# "For PAL staff:" line naming the command to run; nothing a district reads names a command.
STAFF_ROLES = frozenset({"liaison", "director", "state_superintendent"})


def party_label(party: str) -> str:
    """`Board of Education` for `board`; an unknown party with its underscores as spaces."""
    return PARTY_LABELS.get(party) or party.replace("_", " ")


def consequence_label(option: str) -> str:
    return CONSEQUENCE_LABELS.get(option) or option.replace("_", " ")


def days(count: int) -> str:
    """`1 day`, `7 days`."""
    return f"{count} day" if count == 1 else f"{count} days"


def countdown(days_left: int) -> str:
    """How far off a due date is, from the day a notice is made: `due in 7 days`, `due
    tomorrow`, `due today`; `3 days overdue` once it has passed."""
    if days_left > 1:
        return f"due in {days(days_left)}"
    if days_left == 1:
        return "due tomorrow"
    if days_left == 0:
        return "due today"
    return f"{days(-days_left)} overdue"


def when(days_left: int) -> str:
    """A due date in words from the day a notice is made: `in 7 days`, `tomorrow`, `today`,
    `yesterday`, `3 days ago`."""
    if days_left > 1:
        return f"in {days(days_left)}"
    if days_left in (1, 0, -1):
        return ("yesterday", "today", "tomorrow")[days_left + 1]
    return f"{days(-days_left)} ago"


def urgency(days_left: int) -> str:
    """The word a reminder's subject starts with, changing as the due date nears: `Plan ahead`
    (three weeks or more), `Reminder` (one to three weeks), `Due soon` (within a week), `Final
    reminder` (the day before), `Due today`."""
    if days_left >= 21:
        return "Plan ahead"
    if days_left >= 8:
        return "Reminder"
    if days_left >= 2:
        return "Due soon"
    if days_left == 1:
        return "Final reminder"
    return "Due today" if days_left == 0 else "Overdue"


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
    "deadline_reminder": "Deadline coming",
    "deadline_overdue": "Deadline overdue",
    "funds_decision_reminder": "Decision on a fund request due soon",
    "funds_returned": "Fund request returned with comments",
    "funds_approved": "Fund request approved",
    "funds_denied": "Fund request denied",
    "funds_funded": "Funds paid",
}

# A time zone as a district reads it in a meeting's time ("10:00 a.m. Eastern Time"); a zone not
# named here is told by its abbreviation on the day ("EDT").
ZONE_WORDS: Mapping[str, str] = {
    "America/Detroit": "Eastern Time",
    "America/New_York": "Eastern Time",
    "America/Chicago": "Central Time",
    "America/Menominee": "Central Time",
}


def reached_note(labels: Mapping[str, str], kind: str, due: object) -> str:
    """The audit note of the step a deadline's timer takes, in the deadline's own words:
    `18-month Review of Goal Attainment due (due 2019-06-30)`."""
    label = labels.get(kind, kind.replace("_", " ")).removeprefix("the ")
    return f"{label[:1].upper()}{label[1:]} due (due {due})"
