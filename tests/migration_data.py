"""Representative data for a database at any revision, written with plain SQL valid there.

`FILLS` maps a revision to what a database at that revision held that earlier ones could not
(the districts, people and agreements of 0001; the timers and outbox of 0002; ...). A database
"at R holding data" is made by walking the revisions up to R and running each fill at its own
revision, so the rows of earlier fills are carried to R by the migrations themselves, as a real
database's were. A revision without a fill (one that adds nothing a row could hold, or one added
later) gets that default: what the revisions before it held, carried through it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from migration_support import put, revisions

from storage.db import make_engine
from storage.migrate import upgrade
from workflow.audit import row_hash

T0 = datetime(2018, 3, 1, 14, 0, tzinfo=UTC)
T1 = datetime(2018, 5, 1, 15, 30, 0, 123456, tzinfo=UTC)
IDENTIFIED, SIGNED = date(2018, 3, 1), date(2018, 5, 1)
LIAISON = "liaison@mde.example"
# Agreement 1 (PSA1) identified, 2 (TRAD) signed, 3 (EXIT) exited; 4 renewed as 5 (0004 on).
SHOWN = 2
# Outbox rows queued at 0002: sent, queued (pending, then retrying) and failed.
QUEUED_KEYS = (
    "a1:identified:identify.v1:board@psa1.example",
    "a1:identified:identify.v1:x@psa1.example",
)
SENT_KEY = "a1:identified:identify.v1:supt@psa1.example"
FAILED_KEY = "a1:identified:identify.v1:auth@psa1.example"
# Bodies as the 0002 outbox held them in full (0006 converts them; read back with bodies.read).
BODIES = {
    SENT_KEY: ("Dear Sam,\nPSA1 has been identified.\n", "<p>Dear Sam</p>"),
    QUEUED_KEYS[0]: ("Dear Bo,\nPSA1 has been identified.\n", "<p>Dear Bo</p>"),
    QUEUED_KEYS[1]: ("Zoë Ångström ✓ \r\n" * 20, ""),
    FAILED_KEY: ("", "<p>only html</p>"),
}
# A moment when agreement 1's 14-day plan reminder (timer 2) is due and nothing else is.
TICK_AT = "2018-05-17T09:00:00-04:00"


def _registry_and_agreements(connection: sa.Connection) -> None:
    put(connection, "district",
        {"code": "TRAD", "name": "TRAD Public Schools", "isd": "Wayne RESA", "psa": False,
         "authorizer": None},
        {"code": "PSA1", "name": "PSA1 Academy", "isd": "Wayne RESA", "psa": True,
         "authorizer": "Central Michigan University"},
        {"code": "EXIT", "name": "Exited Schools", "isd": None, "psa": False, "authorizer": None})
    put(connection, "school",
        *({"code": c, "name": f"{c} School", "district_code": d, "csi": True, "alternative": False}
          for c, d in (("T1", "TRAD"), ("P1", "PSA1"))))
    put(connection, "contact",
        *({"email": e, "name": n, "role": r, "district_code": d} for e, n, r, d in (
            ("director@mde.example", "Dana Director", "director", None),
            (LIAISON, "Lee Liaison", "liaison", None),
            ("supt@trad.example", "Sam Ångström", "superintendent", "TRAD"),
            ("board@trad.example", "Bo Board", "board_president", "TRAD"),
            ("supt@psa1.example", "Pat Super", "superintendent", "PSA1"),
            ("auth@psa1.example", "Ash Authorizer", "authorizer", "PSA1"))))
    consequences = "closure,reconstitution,isd_intervention,increased_supports"
    put(connection, "agreement", *(
        {"id": i, "district_code": d, "cohort": c, "state": s, "rules_version": "2017-10",
         "consequences": consequences, "liaison_email": liaison, "identified_on": IDENTIFIED,
         "signed_on": signed, "escalation_option": None, "last_event_on": last, "version": v,
         "updated_at": T1}
        for i, d, c, s, liaison, signed, last, v in (
            (1, "PSA1", "2018", "identified", None, None, IDENTIFIED, 1),
            (2, "TRAD", "2018", "signed", LIAISON, SIGNED, SIGNED, 6),
            (3, "EXIT", None, "exited", None, None, date(2018, 2, 1), 9))))
    put(connection, "signature", *(
        {"agreement_id": 2, "party": p, "signed_on": SIGNED, "recorded_by": LIAISON,
         "recorded_at": T1} for p in ("board", "superintendent", "mde")))
    put(connection, "deadline", *(
        {"id": i, "agreement_id": a, "kind": k, "due_on": due, "due_at": datetime.combine(
            due, datetime.min.time(), UTC).replace(hour=4), "status": s, "opened_on": o,
         "closed_on": closed}
        for i, a, k, due, s, o, closed in (
            (1, 1, "plan_due", date(2018, 5, 31), "open", IDENTIFIED, None),
            (2, 2, "plan_due", date(2018, 5, 31), "met", IDENTIFIED, SIGNED),
            (3, 2, "rga_due", date(2019, 11, 2), "open", SIGNED, None),
            (4, 2, "review_36_due", date(2021, 5, 2), "open", SIGNED, None))))
    _audit_0001(connection)


def _audit_0001(connection: sa.Connection) -> None:
    """Audit rows before the hash chain (0009 chains them)."""
    rows = [
        (None, "district:TRAD", "district_add", None, None, {"code": "TRAD", "psa": False}),
        (1, "agreement:1", "identify", None, "identified", {"cohort": "2018"}),
        (2, "agreement:2", "identify", None, "identified", {"cohort": "2018", "n": [1, 2.5]}),
        (2, "agreement:2", "sign", "plan_development", "signed", {"party": "mde"}),
        (None, "contact:supt@trad.example", "contact_add", None, None, {"name": "Sam Ångström"}),
    ]
    put(connection, "audit", *(
        {"agreement_id": a, "subject": s, "event": e, "from_state": f, "to_state": t,
         "actor": "local:root", "effective_on": IDENTIFIED, "recorded_at": T0, "note": "é ✓",
         "data": data} for a, s, e, f, t, data in rows))


def _service(connection: sa.Connection) -> None:
    """Agreement 1's plan ladder (one step done, two pending) and its outbox rows in each
    status; a heartbeat."""
    put(connection, "timer", *(
        {"agreement_id": 1, "deadline_id": 1, "ladder": "plan_due", "offset_days": off,
         "notice": "plan_reminder", "action": None, "fire_at": at, "status": s, "done_at": done,
         "outcome": outcome}
        for off, at, s, done, outcome in (
            (-30, datetime(2018, 5, 1, 12, tzinfo=UTC), "done", T1, "sent"),
            (-14, datetime(2018, 5, 17, 12, tzinfo=UTC), "pending", None, None),
            (-7, datetime(2018, 5, 24, 12, tzinfo=UTC), "pending", None, None))))
    statuses = {SENT_KEY: ("sent", 1, None, T1), QUEUED_KEYS[0]: ("pending", 0, None, None),
                QUEUED_KEYS[1]: ("retrying", 2, "421 try later", None),
                FAILED_KEY: ("failed", 8, "550 no such user", None)}  # fmt: skip
    put(connection, "outbox", *(
        {"agreement_id": 1, "notice": "identified", "occurrence": "identify.v1",
         "recipient": key.rsplit(":", 1)[1], "idempotency_key": key,
         "message_id": f"<m{n}@mde.example>", "subject": "PSA1 Academy has been identified",
         "body_text": text, "body_html": html, "status": statuses[key][0],
         "attempts": statuses[key][1], "next_attempt_at": T0, "last_error": statuses[key][2],
         "created_at": T0, "sent_at": statuses[key][3]}
        for n, (key, (text, html)) in enumerate(BODIES.items())))
    put(connection, "heartbeat", {"name": "serve", "beat_at": T1, "detail": "pid=1"})


def _renewal(connection: sa.Connection) -> None:
    put(connection, "agreement", *(
        {"id": i, "district_code": "EXIT", "state": s, "rules_version": "2017-10",
         "consequences": "closure", "identified_on": IDENTIFIED, "last_event_on": SIGNED,
         "version": 3, "updated_at": T1, "renewed_from": f, "renewed_as": a}
        for i, s, f, a in ((4, "renewed", None, 5), (5, "identified", 4, None))))


def _reviews(connection: sa.Connection) -> None:
    connection.execute(sa.text("UPDATE school SET high_school = :yes WHERE code = 'T1'"),
                       {"yes": True})
    put(connection, "agreement_school", {"agreement_id": 2, "school_code": "T1"})
    put(connection, "benchmark", *(
        {"id": i, "agreement_id": 2, "school_code": "T1", "kind": k, "label": label,
         "baseline": 62.0, "target_18": 66.0, "target_36": 72.5, "lower_is_better": lower,
         "recorded_by": LIAISON, "recorded_at": T1}
        for i, k, label, lower in ((1, "graduation_rate", None, False),
                                   (2, "local", "chronic absence", True))))
    put(connection, "measurement", {"benchmark_id": 1, "value": 67.25,
                                    "measured_on": date(2019, 9, 15), "evidence": "MI School Data",
                                    "recorded_by": LIAISON, "recorded_at": T1})  # fmt: skip
    put(connection, "review", {"id": 1, "agreement_id": 2, "kind": "rga",
                               "opened_on": date(2019, 9, 1), "determined_on": None,
                               "determined_by": None, "rules_version": None})  # fmt: skip
    put(connection, "review_step", {"review_id": 1, "step": "evidence",
                                    "done_on": date(2019, 9, 20), "recorded_by": LIAISON,
                                    "evidence": None, "recorded_at": T1})  # fmt: skip
    put(connection, "determination", {"review_id": 1, "school_code": "T1", "computed": "on_track",
                                      "agreed": "on_track", "reason": None,
                                      "inputs": {"met": [1], "missed": []}})  # fmt: skip


def _people(connection: sa.Connection) -> None:
    """A phone, and a person who held a role and holds another since."""
    connection.execute(sa.text("UPDATE person SET phone = '+1 517 555 0100' WHERE email = :e"),
                       {"e": LIAISON})
    put(connection, "person", {"email": "isd@trad.example", "name": "Ida ISD", "phone": None})
    put(connection, "assignment", *(
        {"email": "isd@trad.example", "role": r, "district_code": "TRAD", "started_on": s,
         "ended_on": e} for r, s, e in (
            ("isd_superintendent", date(2018, 1, 1), None),
            ("board_president", date(2016, 1, 1), date(2017, 12, 31)))))


def _chained_audit(connection: sa.Connection) -> None:
    """One more audit row, chained as pal chains them (0009's hash, version 1)."""
    subject = "district:TRAD"
    length, head = connection.execute(
        sa.text("SELECT length, head FROM audit_chain WHERE subject = :s"), {"s": subject}
    ).one()
    row = {"agreement_id": None, "subject": subject, "event": "district_update",
           "from_state": None, "to_state": None, "actor": "local:root", "effective_on": SIGNED,
           "recorded_at": T1, "note": None, "data": {"isd": "Wayne RESA"}, "seq": length + 1,
           "prev_hash": head}  # fmt: skip
    row["hash"] = row_hash(row)
    put(connection, "audit", row)
    connection.execute(sa.text("UPDATE audit_chain SET length = :n, head = :h WHERE subject = :s"),
                       {"n": length + 1, "h": row["hash"], "s": subject})


def _amendment(connection: sa.Connection) -> None:
    """The plan as signed (version 0) of agreement 2, in force."""
    put(connection, "amendment", {"id": 1, "agreement_id": 2, "number": 0, "opened_on": SIGNED,
                                  "opened_by": None, "note": None,
                                  "consequences": "closure,reconstitution", "in_force_on": SIGNED,
                                  "recorded_at": T1})  # fmt: skip
    put(connection, "amendment_signature", {"amendment_id": 1, "party": "mde",
                                            "signed_on": SIGNED, "recorded_by": LIAISON,
                                            "recorded_at": T1})  # fmt: skip


def _notice_headers(connection: sa.Connection) -> None:
    """A queued row with every header, sharing a converted row's body."""
    connection.execute(sa.text(
        "INSERT INTO outbox (agreement_id, notice, occurrence, recipient, idempotency_key, "
        "message_id, subject, status, attempts, next_attempt_at, created_at, body_ref, body, "
        "to_name, reply_to, reply_to_name, thread) SELECT agreement_id, notice, occurrence, "
        "'liaison@mde.example', 'a1:identified:identify.v1:liaison@mde.example', "
        "'<h@mde.example>', "
        "subject, 'sent', 1, next_attempt_at, created_at, body_ref, body, 'Lee Liaison', "
        "'director@mde.example', 'Dana Director', '<t1@mde.example>' FROM outbox "
        "WHERE idempotency_key = :key"), {"key": SENT_KEY})  # fmt: skip


def _instances(connection: sa.Connection) -> None:
    put(connection, "service_instance", {
        "name": "host1:41", "kind": "serve", "host": "host1", "pid": 41, "version": "0.1",
        "sweep_seconds": 60.0, "started_at": T0, "beat_at": T1, "last_sweep_at": T1,
        "last_delivery_at": None, "sweeps": 12, "sent": 3, "stopped_at": T1})


FILLS: dict[str, Callable[[sa.Connection], None]] = {
    "0001": _registry_and_agreements,
    "0002": _service,
    "0004": _renewal,
    "0005": _reviews,
    "0008": _people,
    "0009": _chained_audit,
    "0010": _amendment,
    "0012": _notice_headers,
    "0013": _instances,
}


def database_at(url: str, revision: str) -> sa.Engine:
    """An engine on a database at `revision` holding every fill up to it (each fill run at its
    own revision)."""
    engine = make_engine(url)
    order = revisions()
    for step in order[: order.index(revision) + 1]:
        if step in FILLS:
            upgrade(engine, step)
            with engine.begin() as connection:
                FILLS[step](connection)
    upgrade(engine, revision)
    return engine
