"""Every human-readable line the CLI prints; JSON output is the views unchanged (`common.emit`).

One function per command (or per kind of row), each returning the text to print, without the
final newline. Kept free of heavy imports: the CLI imports this module at start-up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from sqlalchemy.engine import URL

    from workflow.backup import Restored
    from workflow.service import TickReport


# --- errors (PalGroup) ---------------------------------------------------------------------------


def error_line(message: str) -> str:
    return f"error: {message}"


def internal_error(exc: BaseException) -> str:
    return f"internal error: {type(exc).__name__}: {exc} (PAL_DEBUG=1 shows more)"


# --- pal init, pal serve -------------------------------------------------------------------------


def database_ready(url: URL) -> str:
    from storage.errors import redact

    return f"database ready: {redact(url.render_as_string(hide_password=True))}"


def serve_stopped() -> str:
    return "pal serve stopped"


# --- reference data ------------------------------------------------------------------------------


def district_added(code: str) -> str:
    return f"district {code} added"


def agreements_imported(added: Sequence[int]) -> str:
    if not added:
        return "imported no agreements"
    shown = ", ".join(str(i) for i in added[:20]) + (", ..." if len(added) > 20 else "")
    return f"imported {len(added)} agreements under way ({shown})"


def districts_imported(added: Sequence[Any]) -> str:
    return f"imported {len(added)} districts"


def district_rows(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['code']:<10} {r['name']}" + (f"  (PSA, {r['authorizer']})" if r["psa"] else "")
        for r in rows
    )


def school_added(code: str) -> str:
    return f"school {code} added"


def contact_added(email: str, role: str) -> str:
    return f"contact {email} added as {role}"


def contact_ended(email: str, role: str, district_code: str | None, on: date) -> str:
    where = f" in {district_code}" if district_code else ""
    return f"contact {email} holds the role of {_role(role)}{where} no more from {on}"


def contact_edited(email: str) -> str:
    return f"contact {email} updated"


def contact_rows(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['email']:<32} {_role(r['role']):<36} {r['district_code'] or '-':<10} {r['name']}"
        + (f", {r['phone']}" if r["phone"] else "")
        + _held(r["started_on"], r["ended_on"])
        for r in rows
    )


def _role(role: str) -> str:
    from states.labels import ROLE_LABELS

    return ROLE_LABELS.get(role, role).removeprefix("the ")


def _held(started: str | None, ended: str | None) -> str:
    if started and ended:
        return f"  (from {started}, ended {ended})"
    if ended:
        return f"  (ended {ended})"
    return f"  (from {started})" if started else ""


def district_edited(code: str) -> str:
    return f"district {code} updated"


def school_edited(code: str) -> str:
    return f"school {code} updated"


def school_rows(rows: list[dict[str, Any]]) -> str:
    def marks(r: dict[str, Any]) -> str:
        found = [m for m, on in (("CSI", r["csi"]), ("high school", r["high_school"]),
                                 ("alternative", r["alternative"])) if on]  # fmt: skip
        return f"  ({', '.join(found)})" if found else ""

    return "\n".join(
        f"{r['code']:<12} {r['district_code']:<10} {r['name']}{marks(r)}" for r in rows
    )


# --- agreements ----------------------------------------------------------------------------------


def agreement_created(agreement_id: int | None) -> str:
    return str(agreement_id)


# Engine names in words (states.labels and the process definition): the human output names
# no engine state, event, deadline, party or option; `--json` keeps the names (a contract).


def _stage(state: str) -> str:
    from states.registry import process

    return process("agreement").state_labels.get(state, state)


def _event(event: str) -> str:
    from states.registry import process

    found = next((e for e in process("agreement").events if e.name == event), None)
    return found.label if found is not None else event


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _deadline(kind: str, of_process: str | None = None) -> str:
    from states.registry import process

    labels = process(of_process or "agreement").deadline_labels
    return labels.get(kind, kind).removeprefix("the ")


def _party(party: str) -> str:
    from states.labels import party_label

    return party_label(party)


def event_fired(
    agreement_id: int | None, event: str, state: str, successor: int | None = None
) -> str:
    line = f"agreement {agreement_id}: {_event(event)}; stage: {_stage(state)}"
    return f"{line}; continued as agreement {successor}" if successor is not None else line


def signature_recorded(agreement_id: int | None, party: str, state: str) -> str:
    return f"agreement {agreement_id}: {_party(party)} signed; stage: {_stage(state)}"


def agreement_text(view: dict[str, Any]) -> str:
    lines = [
        f"Agreement {view['id']}: {view['district']} {view['district_name'] or ''}".rstrip(),
        f"  stage          {_stage(view['state'])}",
        f"  cohort         {view['cohort'] or '-'}",
        f"  identified on  {view['identified_on']}   (rules {view['rules_version']})",
        f"  signed on      {view['signed_on'] or '-'}",
        f"  liaison        {view['liaison'] or '-'}",
        f"  consequences   {_options(view['consequences'])}",
        *([f"  renewed from   agreement {view['renewed_from']}"] if view["renewed_from"] else []),
        *([f"  renewed as     agreement {view['renewed_as']}"] if view["renewed_as"] else []),
    ]
    if view["escalation_option"]:
        lines.append(f"  escalated to   {_options(view['escalation_option'].split(','))}")
    upcoming = [d for d in view["deadlines"] if d["status"] == "open"]
    lines.append(
        f"  next deadline  {_deadline(upcoming[0]['kind'])}, due {upcoming[0]['due']}"
        if upcoming
        else "  next deadline  -"
    )
    signed = view["signatures"]
    lines.append(
        "  signatures     "
        + (", ".join(f"{_party(party)} {day}" for party, day in signed.items()) if signed else "-")
    )
    lines += _plan_lines(view)
    lines += amendments_line(view)
    lines += meeting_lines(view)
    if view["deadlines"]:
        lines.append("  deadlines")
        lines.extend(
            f"    {_deadline(d['kind']):<38} due {d['due']}  {d['status']}"
            + (f" ({d['closed_on']})" if d.get("closed_on") else "")
            for d in view["deadlines"]
        )
    if "history" in view:
        lines.append("  history")
        for h in view["history"]:
            moved = f" (now {_stage(h['to'])})" if h["from"] != h["to"] else ""
            extra = ", ".join(
                f"{k}={_audited(v, key=k)}" for k, v in (h["data"] or {}).items() if v is not None
            )
            line = f"    {h['on']}  {_event(h['event'])}{moved}, by {h['by']}"
            if extra and h["from"] is not None:  # a creation's data is shown above
                line += f"  [{extra}]"
            if h["note"]:
                line += f"  ({h['note']})"
            lines.append(line)
    return "\n".join(lines)


def meeting_lines(view: dict[str, Any]) -> list[str]:
    """The district's next meeting and the open action items (issue 16), when it has either."""
    if not (view.get("next_meeting") or view.get("open_action_items")):
        return []
    from workflow.cli.present_meetings import action_line, meeting_line

    found = view["next_meeting"]
    lines = [f"  next meeting   {meeting_line(found).strip() if found else '-'}"]
    items = view["open_action_items"]
    lines.append("  open action items" + ("" if items else "  -"))
    lines += [f"    {action_line(item).strip()}" for item in items]
    return lines


def _options(names: Sequence[str]) -> str:
    """Accountability options (consequences) in words, joined by ", "."""
    from states.labels import CONSEQUENCE_LABELS

    return ", ".join(CONSEQUENCE_LABELS.get(name, name) for name in names if name)


# The audited lists whose items are engine names, by field: how to say them.
_LISTED_OPTIONS = frozenset({"option", "consequences"})


def _audited(value: Any, nested: bool = False, key: str = "") -> str:
    """An audited value in a history line; a mapping (a determination's statuses, overrides and
    reasons) as `(KEY=VALUE, ...)`, a school's status in it in words; a list (escalation options,
    schools) as its items joined by ", ", an option in words."""
    from states.labels import STATUS_LABELS

    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_audited(v, True)}" for k, v in value.items()) + ")"
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
        return _options(items) if key in _LISTED_OPTIONS else ", ".join(items)
    if nested and isinstance(value, str):
        return STATUS_LABELS.get(value, value)
    return str(value)


def agreement_row(view: dict[str, Any]) -> str:
    upcoming = [d for d in view["deadlines"] if d["status"] == "open"]
    nxt = f"{_deadline(upcoming[0]['kind'])} {upcoming[0]['due']}" if upcoming else "-"
    name = f"  {view['district_name']}" if view.get("district_name") else ""
    return f"{view['id']:>5}  {view['district']:<10} {_stage(view['state']):<36} {nxt}{name}"


def agreement_rows(views: list[dict[str, Any]]) -> str:
    return "\n".join(agreement_row(v) for v in views)


def deadline_row(row: dict[str, Any]) -> str:
    left = row["days_left"]
    when = f"in {left} days" if left >= 0 else f"{-left} days overdue"
    line = (
        f"{row['due']}  {_deadline(row['kind'], row.get('process')):<38} agreement "
        f"{row['agreement']:<5} {row['district']:<10} {when}"
    )
    return line + (f"  ({_case(row['process'], row['case'])})" if row.get("process") else "")


def _case(name: str, case_id: int) -> str:
    """A case of another process in words: `Section 21(h) fund request 4`."""
    from states.registry import process

    return process(name).case_words(case_id)


def deadline_rows(rows: list[dict[str, Any]]) -> str:
    return "\n".join(deadline_row(r) for r in rows) or "no open deadlines"


# --- the service and its mail --------------------------------------------------------------------


def tick_report(report: TickReport) -> tuple[str, str]:
    """What one `pal tick` did (for stdout) and its delivery warnings (for stderr, maybe empty)."""
    s, d = report.sweep, report.delivery
    lines = [f"swept: {s.fired} timers fired, {s.skipped} superseded, {s.emails} notices queued"]
    lines += [f"  {action}" for action in s.actions]
    lines += [f"  not possible: {blocked} (the people the rules name are told once)"
              for blocked in s.blocked]  # fmt: skip
    lines += [f"  FAILED: {failed} (see pal status)" for failed in s.failed]
    lines.append(f"delivered: {d.sent} sent, {d.retrying} to retry, {d.failed} failed")
    warnings = [
        f"warning: {error}" + (f" ({times} messages)" if times > 1 else "")
        for error, times in Counter(d.errors).items()
    ]
    return "\n".join(lines), "\n".join(warnings)


def _instances_heading(instances: list[dict[str, Any]]) -> str:
    """`service instances: 2 live, 1 silent (presumed dead)`: how many are in each state."""
    counts = Counter(i["state"] for i in instances)
    said = [f"{counts[state]} {state}" for state in ("live", "stopped", "silent") if counts[state]]
    if counts["silent"]:
        said[-1] += " (presumed dead)"
    return "service instances: " + ", ".join(said) if said else "service instances:"


def status_text(report: dict[str, Any]) -> str:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from workflow.health import UNADDRESSED_WINDOW, age_words

    zone = ZoneInfo(report["timezone"])

    def when(stamp: dict[str, Any] | None) -> str:
        if stamp is None:
            return "never"
        local = datetime.fromisoformat(stamp["at"]).astimezone(zone)
        age = timedelta(seconds=stamp["age_s"])
        ago = f"in {age_words(-age)}" if stamp["age_s"] < 0 else f"{age_words(age)} ago"
        return f"{local:%Y-%m-%d %H:%M:%S %Z} ({ago})"

    now = datetime.fromisoformat(report["now"]["at"]).astimezone(zone)
    lines = [f"pal is {report['verdict']} (exit {report['exit_code']})"]
    lines += [f"  {reason}" for reason in report["reasons"]]
    lines.append(f"as of {now:%Y-%m-%d %H:%M:%S %Z} ({report['timezone']})")
    lines.append(_instances_heading(report["instances"]))
    for i in report["instances"]:
        lines.append(
            f"  {i['name']}  {i['state']}, pal {i['version']}, sweeps every "
            f"{i['sweep_seconds']:g} s"
        )
        lines.append(f"    last sweep     {when(i['last_sweep'])}, sweeps: {i['sweeps']}")
        lines.append(f"    last delivery  {when(i['last_delivery'])}, sent: {i['sent']}")
        if i["stopped"] is not None:
            lines.append(f"    stopped        {when(i['stopped'])}")
        elif i["state"] == "silent":
            lines.append(
                f"    silent         last heard {when(i['last_beat'])}: presumed dead (killed, "
                "its host down) or stuck"
            )
    if not report["instances"]:
        lines.append("  none: the service has not run yet")
    waiting = report["oldest_waiting"]
    if waiting is not None:
        lines.append(
            f"oldest message waiting: {waiting['id']} to {waiting['to']}, {waiting['status']}, "
            f"{waiting['attempts']} attempts, since {when(waiting['waiting_since'])}"
        )
        if waiting["last_error"]:
            lines.append(f"  last error: {waiting['last_error']}")
    outbox = report["outbox"]
    lines.append("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(outbox.items())) or "empty"))
    if outbox.get("failed"):
        lines.append(f"  {outbox['failed']} failed: see `pal outbox list --status failed`")
    if outbox.get("unaddressed"):
        lines.append(
            f"  {outbox['unaddressed']} unaddressed ({report['unaddressed_recent']} in the last "
            f"{UNADDRESSED_WINDOW.days} days): see `pal outbox list --status unaddressed`"
        )
    upcoming = report["next_timer_at"]
    lines.append(
        f"timers pending: {report['timers_pending']}"
        + (f" (next {datetime.fromisoformat(upcoming).astimezone(zone):%Y-%m-%d %H:%M %Z})"
           if upcoming else "")
    )  # fmt: skip
    failed = report["timers_failed"]
    if failed:
        lines.append(f"timers failed: {len(failed)}")
        lines += [
            f"  timer {t['id']} of agreement {t['agreement']} ({t['step']}): {t['error']}"
            for t in failed
        ]
    waiting_timers = report["timers_waiting"]
    if waiting_timers:
        lines.append(f"timed actions waiting for a change of stage: {len(waiting_timers)}")
        # The stored outcome is the engine's refusal; a person reads which step waits.
        lines += [
            f"  agreement {t['agreement']}: {_capital(_event(t['action']))} "
            "(cannot be taken at the agreement's current stage)"
            for t in waiting_timers
        ]
    lines.append(f"overdue deadlines: {report['overdue_count']}")
    lines += [
        f"  {d['due']}  {_deadline(d['kind'], d.get('process')):<38} agreement {d['agreement']} "
        f"({d['district']}), {-d['days_left']} days overdue"
        for d in report["overdue_deadlines"]
    ]
    if report["overdue_count"] > len(report["overdue_deadlines"]):
        lines.append("  ... (pal deadlines lists them all)")
    lines.append("next deadlines:")
    lines += [
        f"  {d['due']}  {_deadline(d['kind'], d.get('process')):<38} agreement {d['agreement']} "
        f"({d['district']})"
        for d in report["next_deadlines"]
        if d["status"] != "overdue"
    ] or ["  none"]
    return "\n".join(lines)


def backup_written(path: Path, size: int, revision: str) -> str:
    return f"backup written: {path} ({size:,} bytes, schema {revision})"


def restored(result: Restored) -> str:
    lines = [f"restored {result.database} from the backup (schema {result.revision})"]
    if result.set_aside is not None:
        lines.append(f"  the database it replaced is kept as {result.set_aside}")
    if result.needs_upgrade:
        lines.append("  its schema is older than this pal's: run `pal init` to bring it up to date")
    return "\n".join(lines)


def outbox_rows(rows: list[dict[str, Any]]) -> str:
    return (
        "\n".join(
            f"{r['id']:>6} {r['status']:<11} {r['attempts']:>2}  {r['to']:<32} {r['subject']}"
            + (f"\n         last error: {r['last_error']}" if r["last_error"] else "")
            for r in rows
        )
        or "outbox is empty"
    )


def outbox_message(view: dict[str, Any]) -> str:
    """A message's line as `outbox list` prints it, its other fields, then each body in full."""
    queued = view["status"] in ("pending", "retrying")
    fields = [
        ("notice", f"{view['notice']} ({view['occurrence']})"),
        ("agreement", view["agreement_id"]),
        ("message id", view["message_id"]),
        ("created at", view["created_at"]),
        ("next attempt", view["next_attempt_at"] if queued else None),
        ("sent at", view["sent_at"]),
    ]
    lines = [outbox_rows([view])]
    lines += [f"  {label:<13} {value}" for label, value in fields if value is not None]
    lines += ["--- text ---", view["text"], "--- html ---", view["html"]]
    return "\n".join(lines)


def retry_queued(outbox_id: int) -> str:
    return f"outbox {outbox_id} queued for delivery"


# --- the plan: benchmarks and measurements -------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:g}"


def _benchmark_name(kind: str, label: str | None) -> str:
    from states.labels import BENCHMARK_KIND_LABELS

    name = BENCHMARK_KIND_LABELS.get(kind, kind)
    return f"{name}: {label}" if label else name


def benchmark_added(benchmark_id: int) -> str:
    return str(benchmark_id)


def benchmarks_imported(ids: Sequence[int]) -> str:
    listed = f" ({', '.join(str(i) for i in ids)})" if ids else ""
    return f"imported {len(ids)} benchmarks{listed}"


def measurement_recorded(benchmark_id: int, value: str, on: Any) -> str:
    return f"benchmark {benchmark_id}: {value} measured on {on}"


def measurements_imported(count: int) -> str:
    return f"imported {count} measurements"


def benchmark_row(row: dict[str, Any], *, school: bool = True) -> str:
    from states.labels import DIRECTION_LABELS

    latest = row["measurements"][-1] if row["measurements"] else None
    measured = f"{_number(latest['value'])} on {latest['on']}" if latest else "no measurement"
    where = f"{row['school']:<10} " if school else ""
    return (
        f"{row['id']:>5}  {where}{_benchmark_name(row['kind'], row['label']):<44} "
        f"{_number(row['baseline'])} -> {_number(row['target_18'])} (18 mo), "
        f"{_number(row['target_36'])} (36 mo), {DIRECTION_LABELS[row['direction']]}; {measured}"
    )


def benchmark_rows(rows: list[dict[str, Any]]) -> str:
    return "\n".join(benchmark_row(r) for r in rows) or "no benchmarks"


# --- the reviews ---------------------------------------------------------------------------------


def _status(status: str | None) -> str:
    from states.labels import STATUS_LABELS

    return STATUS_LABELS.get(status, status) if status else "-"


def _step(step: str) -> str:
    """A review step in words ("determination" is the status determination that ends it)."""
    from states.labels import STEP_LABELS

    return STEP_LABELS.get(step, "status determination" if step == "determination" else step)


def _waiting_for(review: dict[str, Any]) -> str:
    """What the review waits for, in words, and its soonest deadline."""
    if review["determined_on"]:
        return f"determined on {review['determined_on']} by {review['determined_by']}"
    waiting = review["next_step"] or "determination"
    line = f"next: the {_step(waiting)}"
    if review["due"] and review["due_for"] == waiting:
        line += f", due {review['due']}"
    elif review["due"]:
        line += f"; the {_step(review['due_for'])} is due {review['due']}"
    return line


def _review_title(review: dict[str, Any]) -> str:
    from states.agreement import STATE_LABELS

    return f"{STATE_LABELS.get(review['kind'], review['kind'])}, opened {review['opened_on']}"


def review_history_text(reviews: list[dict[str, Any]]) -> str:
    """`review list`: a line per review, then each school's agreed status at it."""
    if not reviews:
        return "no review yet"
    lines = []
    for review in reviews:
        determined = review["determined_on"] or "not yet"
        lines.append(f"{_review_title(review)}; determined {determined}")
        lines += [
            f"  {s['school']:<10} {s['name']}: {_status(s['agreed'])}" for s in review["schools"]
        ]
    return "\n".join(lines)


def step_recorded(agreement_id: int, step: str, review: dict[str, Any]) -> str:
    return f"agreement {agreement_id}: {_step(step)} recorded; {_waiting_for(review)}"


def determination_recorded(agreement_id: int, state: str, review: dict[str, Any]) -> str:
    from states.agreement import STATE_LABELS

    lines = [f"agreement {agreement_id}: status determined; now {STATE_LABELS[state]}"]
    for school in review["schools"]:
        lines += _school_status(school)
    return "\n".join(lines)


def _school_status(school: dict[str, Any]) -> list[str]:
    """A school's status (computed, or agreed: with the computed one when it differs and the
    reason whenever one is recorded), and a line if the plan set it no benchmarks."""
    if school["agreed"] is None:
        line = f"  {school['school']:<10} computed {_status(school['computed'])} (not yet agreed)"
    else:
        line = f"  {school['school']:<10} {_status(school['agreed'])}"
        notes = []
        if school["agreed"] != school["computed"]:
            notes.append(f"computed {_status(school['computed'])}")
        if school["reason"] is not None:
            notes.append(f"agreed because: {school['reason']}")
        if notes:
            line += f" ({'; '.join(notes)})"
    if school.get("no_benchmarks"):
        return [line, "      NO BENCHMARKS in the plan for this school (nothing shows it on track)"]
    return [line]


def _benchmark_judged(b: dict[str, Any]) -> str:
    from states.labels import DIRECTION_LABELS

    if b["value"] is None:
        result = "NO MEASUREMENT (counts as not met)"
    else:
        verdict = "met" if b["met"] else ("not met, progress" if b["progress"] else "not met")
        result = f"{_number(b['value'])} on {b['measured_on']}: {verdict}"
    return (
        f"      {_benchmark_name(b['kind'], b['label']):<44} {_number(b['baseline'])} -> "
        f"{_number(b['target'])} ({DIRECTION_LABELS[b['direction']]}): {result}"
    )


def review_text(review: dict[str, Any]) -> str:
    lines = [f"Agreement {review['agreement']}: {_review_title(review)}"]
    lines += [f"  {_step(s['step']):<46} {s['on']}  by {s['by']}" for s in review["steps"]]
    lines.append(f"  {_waiting_for(review)}")
    for school in review["schools"]:
        lines += _school_status(school)
        lines += [_benchmark_judged(b) for b in school["benchmarks"]]
    return "\n".join(lines)


def _plan_lines(view: dict[str, Any]) -> list[str]:
    """`agreement show`'s schools (each with its benchmarks and latest status) and review."""
    lines = []
    if view["schools"]:
        lines.append("  schools")
    for school in view["schools"]:
        lines.append(f"    {school['code']:<10} {school['name']}: {_status(school['status'])}")
        lines += [f"    {benchmark_row(b, school=False)}" for b in school["benchmarks"]] or [
            "           no benchmarks in the plan"
        ]
        if school["missing_benchmarks"]:
            from states.labels import BENCHMARK_KIND_LABELS

            missing = ", ".join(BENCHMARK_KIND_LABELS[k] for k in school["missing_benchmarks"])
            lines.append(f"           the plan still needs a benchmark of {missing}")
    review = view["review"]
    if review is not None:
        lines.append(f"  review         {_review_title(review)}")
        lines.append(f"                 {_waiting_for(review)}")
    return lines


# --- corrections and rule versions ----------------------------------------------------------------


def signature_withdrawn(agreement_id: int | None, party: str) -> str:
    return f"agreement {agreement_id}: signature of {_party(party)} withdrawn; it may sign again"


def date_corrected(agreement_id: int | None, on: date) -> str:
    return (
        f"agreement {agreement_id}: its latest step now dated {on}; deadlines recomputed "
        f"(pal agreement show {agreement_id})"
    )


def rules_migrated(agreement_id: int | None, version: str) -> str:
    return f"agreement {agreement_id}: now follows rules {version}; open deadlines recomputed"


def rule_versions(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no rule versions"
    lines = []
    for row in rows:
        extends = f"extends {row['extends']}" if row["extends"] else "base version"
        used = row["agreements"]
        lines.append(
            f"{row['version']}  {extends}; {used} agreement{'s' if used != 1 else ''}\n"
            f"  {row['description']}"
        )
    return "\n".join(lines)


def rule_version(view: dict[str, Any]) -> str:
    if view["extends"] is None:
        lines = [f"Rules {view['version']} (a base version): {view['description']}"]
        lines += [f"  {item['key']} = {_rule_value(item['value'])}" for item in view["values"]]
        return "\n".join(lines)
    lines = [
        f"Rules {view['version']}: {view['description']}",
        f"  extends {view['extends']}; what differs:",
    ]
    for item in view["differences"]:
        lines.append(
            f"  {item['key']}: {_rule_value(item['extended'])} in {view['extends']}, "
            f"{_rule_value(item['value'])} here"
        )
    if not view["differences"]:
        lines.append("  nothing")
    return "\n".join(lines)


def _rule_value(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return "[" + ", ".join(_rule_value(item) for item in value) + "]"
    return str(value)


# --- amendments of the terms ---------------------------------------------------------------------


def amendment_opened(number: int) -> str:
    return str(number)


def draft_changed(agreement_id: int, amendment: int, what: str) -> str:
    return f"agreement {agreement_id}, amendment {amendment}: {what}"


def amendment_signed(agreement_id: int, amendment: int, party: str, in_force: str | None) -> str:
    line = f"agreement {agreement_id}: {_party(party)} signed amendment {amendment}"
    return f"{line}; in force from {in_force}" if in_force else f"{line}; not yet in force"


_VERSION_STATUS = {
    "drafting": "a draft, not yet in force",
    "in_force": "in force",
    "superseded": "superseded",
    "not_signed": "not yet signed",
}


def _amendment_line(a: dict[str, Any]) -> str:
    if a["in_force_on"]:
        when = f"in force from {a['in_force_on']}"
        if a["status"] == "superseded":
            when += " (superseded)"
    else:
        signed = ", ".join(a["signatures"]) or "nobody"
        when = f"a draft opened {a['opened_on']}, signed by {signed}"
    return f"{a['number']} {when}: {a['note']}"


def amendments_line(view: dict[str, Any]) -> list[str]:
    """`agreement show`'s line listing the amendments, when there are any."""
    listed = view.get("amendments") or []
    if not listed:
        return []
    return [
        "  amendments     " + _amendment_line(listed[0]),
        *(f"                 {_amendment_line(a)}" for a in listed[1:]),
    ]


def amendment_text(view: dict[str, Any]) -> str:
    """`agreement show ID --amendment N`: one version of the terms."""
    number = view["amendment"]
    title = "the plan as signed" if number == 0 else f"amendment {number}"
    status = _VERSION_STATUS.get(view["status"], view["status"])
    lines = [
        f"Agreement {view['agreement']}: {view['district']} {view['district_name'] or ''}".rstrip()
        + f", {title}",
        f"  status         {status}",
    ]
    if number > 0:
        lines.append(f"  opened on      {view['opened_on']} by {view['opened_by']}")
        lines.append(f"  note           {view['note']}")
    lines.append(f"  in force from  {view['in_force_on'] or '-'}")
    if view["superseded_on"]:
        lines.append(f"  superseded on  {view['superseded_on']}")
    signed = view["signatures"]
    lines.append(
        "  signatures     "
        + (", ".join(f"{party} {day}" for party, day in signed.items()) if signed else "-")
    )
    if view["status"] in ("drafting", "not_signed") and view["missing_signatures"]:
        lines.append(f"  to sign        {', '.join(view['missing_signatures'])}")
    lines.append(f"  consequences   {', '.join(view['consequences'])}")
    if view["schools"]:
        lines.append("  schools")
    for school in view["schools"]:
        lines.append(f"    {school['code']:<10} {school['name']}")
        lines += [f"    {_terms_row(b)}" for b in school["benchmarks"]] or [
            "           no benchmarks"
        ]
    if number > 0:
        lines.append("  changes")
        lines += [f"    {change}" for change in view["changes"]] or ["    none"]
    return "\n".join(lines)


def _terms_row(row: dict[str, Any]) -> str:
    from states.labels import DIRECTION_LABELS

    return (
        f"{row['id']:>5}  {_benchmark_name(row['kind'], row['label']):<44} "
        f"{_number(row['baseline'])} -> {_number(row['target_18'])} (18 mo), "
        f"{_number(row['target_36'])} (36 mo), {DIRECTION_LABELS[row['direction']]}"
    )


def audit_verified(view: dict[str, Any]) -> str:
    rows, chains = view["rows"], view["chains"]
    return (
        f"audit log verified: {rows} row{'s' if rows != 1 else ''} in {chains} "
        f"chain{'s' if chains != 1 else ''}"
    )


def audit_problem(problem: dict[str, Any]) -> str:
    subject = problem["subject"]
    where = subject if problem["id"] is None else f"row {problem['id']} of {subject}"
    return f"the audit log does not verify: {where}: {problem['problem']}"


# --- pal forecast --------------------------------------------------------------------------------


def forecast_text(found: dict[str, Any]) -> str:
    """The notices and timed steps to come, day by day, grouped by message; in words."""
    from states.agreement import STATE_LABELS
    from states.labels import ROLE_LABELS

    lines = [f"Forecast to the end of {found['until']}, if nothing changes:"]
    items: list[tuple[date, int, str]] = []
    grouped: dict[tuple[Any, ...], list[str]] = {}
    for notice in found["notices"]:
        step = notice["step"]
        about = f"about {step}" if notice["about"] == "deadline" else f"after the step “{step}”"
        key = (notice["day"], notice["agreement"], notice["district"], notice["subject"], about)
        to = notice["to"]
        if to.startswith("("):  # nobody on file holds the role
            role = to.strip("()")
            to = f"nobody on file as {ROLE_LABELS.get(role, role)}"
        grouped.setdefault(key, []).append(to)
    for (day, agreement, district, subject, about), recipients in grouped.items():
        text = (f"{day}  agreement {agreement} ({district})  mail “{subject}” {about}\n"
                f"{'':12}to {', '.join(recipients)}")  # fmt: skip
        items.append((day, len(items), text))
    for action in found["actions"]:
        moved = ""
        if action["to_state"] and action["to_state"] != action["from_state"]:
            moved = f" (then at “{STATE_LABELS.get(action['to_state'], action['to_state'])}”)"
        text = (f"{action['day']}  agreement {action['agreement']} ({action['district']})  "
                f"pal will {action['label']}{moved}")  # fmt: skip
        items.append((action["day"], len(items), text))
    if not items:
        lines.append("nothing will be sent and no step taken")
    lines.extend(text for _, _, text in sorted(items))
    lines.extend(f"would fail: {failure}" for failure in found["failures"])
    messages, steps = len(found["notices"]), len(found["actions"])
    summary = (f"{messages} message{'s' * (messages != 1)}, "
               f"{steps} timed step{'s' * (steps != 1)}")  # fmt: skip
    return "\n".join([*lines, summary])


def notice_list(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        lines.append(row["label"])
        for occasion in row["occasions"]:
            lines.append(f"  {occasion['when']}")
            lines.append(f"    to {', '.join(occasion['to'])}")
        # The notice's name is what `preview` takes: shown as the command to type.
        lines.append(f"  preview: pal notice preview {row['notice']}")
    return "\n".join(lines)


def notice_preview(shown: Any) -> str:
    source = "sample data" if shown.sample else "the agreement as it stands"
    return (
        f"{shown.label}, with {source}\n"
        f"Subject: {shown.subject}\n"
        f"To: {shown.to}\n\n"
        f"{shown.text}"
    )


# --- pal export ----------------------------------------------------------------------------------


def exported(rows: int, table: str, out: object) -> str:
    return f"exported {rows} rows of {table} to {out}"


def dashboard_written(out: Path, pages: int) -> str:
    return f"Dashboard written to {out}: {pages} pages. Open {out / 'index.html'}."


def dashboard_serving(url: str) -> str:
    # The space before the semicolon keeps it out of the address a terminal makes a link of.
    return f"Serving the dashboard at {url} ; rebuilt after each sweep. Ctrl-C to stop."
