"""The Core tables behind the SQLModel classes, declared once.

Set-based paths and read models build their statements from these (once, at import): building
a statement, or loading ORM objects, costs more than running the statement on SQLite.
"""

from __future__ import annotations

from sqlalchemy import Table

from storage.models import (
    Agreement,
    AgreementSchool,
    Audit,
    AuditChain,
    Benchmark,
    Contact,
    Deadline,
    Determination,
    District,
    Measurement,
    Review,
    ReviewStep,
    School,
    Signature,
)
from storage.service_models import Heartbeat, MailBody, Outbox, Timer

AGREEMENT: Table = Agreement.__table__  # type: ignore[attr-defined]
AGREEMENT_SCHOOL: Table = AgreementSchool.__table__  # type: ignore[attr-defined]
AUDIT: Table = Audit.__table__  # type: ignore[attr-defined]
BENCHMARK: Table = Benchmark.__table__  # type: ignore[attr-defined]
CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
DEADLINE: Table = Deadline.__table__  # type: ignore[attr-defined]
DETERMINATION: Table = Determination.__table__  # type: ignore[attr-defined]
DISTRICT: Table = District.__table__  # type: ignore[attr-defined]
HEARTBEAT: Table = Heartbeat.__table__  # type: ignore[attr-defined]
MAIL_BODY: Table = MailBody.__table__  # type: ignore[attr-defined]
MEASUREMENT: Table = Measurement.__table__  # type: ignore[attr-defined]
OUTBOX: Table = Outbox.__table__  # type: ignore[attr-defined]
REVIEW: Table = Review.__table__  # type: ignore[attr-defined]
REVIEW_STEP: Table = ReviewStep.__table__  # type: ignore[attr-defined]
SCHOOL: Table = School.__table__  # type: ignore[attr-defined]
SIGNATURE: Table = Signature.__table__  # type: ignore[attr-defined]
TIMER: Table = Timer.__table__  # type: ignore[attr-defined]
AUDIT_CHAIN: Table = AuditChain.__table__  # type: ignore[attr-defined]
