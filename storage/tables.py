"""The Core tables behind the SQLModel classes, declared once.

Set-based paths and read models build their statements from these (once, at import): building
a statement, or loading ORM objects, costs more than running the statement on SQLite.
"""

from __future__ import annotations

from sqlalchemy import Table

from storage.models import (
    Agreement,
    AgreementSchool,
    Assignment,
    Audit,
    AuditChain,
    Benchmark,
    Deadline,
    Determination,
    District,
    Measurement,
    Person,
    Review,
    ReviewStep,
    School,
    Signature,
)
from storage.service_models import Heartbeat, MailBody, Outbox, ServiceInstance, Timer

AGREEMENT: Table = Agreement.__table__  # type: ignore[attr-defined]
ASSIGNMENT: Table = Assignment.__table__  # type: ignore[attr-defined]
AGREEMENT_SCHOOL: Table = AgreementSchool.__table__  # type: ignore[attr-defined]
AUDIT: Table = Audit.__table__  # type: ignore[attr-defined]
BENCHMARK: Table = Benchmark.__table__  # type: ignore[attr-defined]
DEADLINE: Table = Deadline.__table__  # type: ignore[attr-defined]
DETERMINATION: Table = Determination.__table__  # type: ignore[attr-defined]
DISTRICT: Table = District.__table__  # type: ignore[attr-defined]
HEARTBEAT: Table = Heartbeat.__table__  # type: ignore[attr-defined]
MAIL_BODY: Table = MailBody.__table__  # type: ignore[attr-defined]
MEASUREMENT: Table = Measurement.__table__  # type: ignore[attr-defined]
OUTBOX: Table = Outbox.__table__  # type: ignore[attr-defined]
SERVICE_INSTANCE: Table = ServiceInstance.__table__  # type: ignore[attr-defined]
PERSON: Table = Person.__table__  # type: ignore[attr-defined]
REVIEW: Table = Review.__table__  # type: ignore[attr-defined]
REVIEW_STEP: Table = ReviewStep.__table__  # type: ignore[attr-defined]
SCHOOL: Table = School.__table__  # type: ignore[attr-defined]
SIGNATURE: Table = Signature.__table__  # type: ignore[attr-defined]
TIMER: Table = Timer.__table__  # type: ignore[attr-defined]

# Amendments (migration 0010): Core tables only (every command imports this module, and a
# SQLModel class costs far more to define; the amendment records are read and written with
# Core statements).
from sqlalchemy import (  # noqa: E402
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import SQLModel  # noqa: E402

from storage.types import UTCDateTime  # noqa: E402

AMENDMENT: Table = Table(
    "amendment",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("agreement_id", Integer, ForeignKey("agreement.id"), nullable=False),
    # 0: the plan as signed (written when the first amendment opens); N: amendment N.
    Column("number", Integer, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("opened_by", String, nullable=True),
    Column("note", String, nullable=True),
    Column("consequences", String, nullable=False),  # comma list, as the agreement's
    Column("in_force_on", Date, nullable=True),  # empty while a draft
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("agreement_id", "number"),
)
AMENDMENT_SIGNATURE: Table = Table(
    "amendment_signature",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("amendment_id", Integer, ForeignKey("amendment.id"), nullable=False),
    Column("party", String, nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("recorded_by", String, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("amendment_id", "party"),
)
AUDIT_CHAIN: Table = AuditChain.__table__  # type: ignore[attr-defined]

# Section 21(h) fund requests (migration 0015): Core tables, written and read with Core
# statements like the amendments. Amounts are whole numbers of cents (exact; never floats).
from sqlalchemy import BigInteger  # noqa: E402

FUNDS_REQUEST: Table = Table(
    "funds_request",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("agreement_id", Integer, ForeignKey("agreement.id"), nullable=False, index=True),
    Column("year", String, nullable=False, index=True),  # state fiscal year: 2025-26
    Column("state", String, nullable=False, index=True),
    Column("rationale", String, nullable=False),
    Column("serves", String, nullable=False),  # the benchmarks it serves: a comma list of ids
    Column("priorities", String, nullable=False),  # a comma list
    Column("funded_on", Date, nullable=True),
    Column("effectiveness", String, nullable=True),
    Column("reported_on", Date, nullable=True),
    Column("rules_version", String, nullable=False),
    Column("last_event_on", Date, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),  # the optimistic lock (workflow.engine.claim)
)
FUNDS_ACTIVITY: Table = Table(
    "funds_activity",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("funds_request.id"), nullable=False, index=True),
    Column("category", String, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("metrics", String, nullable=False),
    Column("recorded_by", String, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
# One row per fiscal year with a request approved: what is committed and paid of its
# appropriation. An approval adds to `approved_cents` with one conditional UPDATE, which is what
# keeps two approvals racing for the last dollars from both succeeding.
FUNDS_BUDGET: Table = Table(
    "funds_budget",
    SQLModel.metadata,
    Column("year", String, primary_key=True),
    Column("approved_cents", BigInteger, nullable=False),
    Column("funded_cents", BigInteger, nullable=False),
)

# Meetings, series, high-need marks and action items live in a module of their own; they are
# named here so that the models' metadata (and so every schema check) is complete wherever
# `storage.tables` is imported.
from storage.meeting_tables import (  # noqa: E402, F401
    ACTION_ITEM,
    HIGH_NEED,
    MEETING,
    MEETING_SERIES,
)
