"""SQLModel tables. The migrations in `storage/migrations` are the schema's source of truth."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig  # type: ignore[attr-defined]

from storage.types import UTCDateTime

# Table models are never validated (SQLModel skips validation for tables), so their pydantic
# schema is built only if ever needed: defining the tables stays cheap for every command.
DEFER = SQLModelConfig(defer_build=True)


def utc_column(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class District(SQLModel, table=True):
    model_config = DEFER
    code: str = Field(primary_key=True)
    name: str
    isd: str | None = None
    psa: bool = False
    authorizer: str | None = None


class School(SQLModel, table=True):
    model_config = DEFER
    code: str = Field(primary_key=True)
    name: str
    district_code: str = Field(foreign_key="district.code", index=True)
    csi: bool = False
    alternative: bool = False
    high_school: bool = False  # a high school has a graduation-rate benchmark


class Person(SQLModel, table=True):
    """Someone on file, known by email. What they do is in their role assignments."""

    model_config = DEFER
    email: str = Field(primary_key=True)
    name: str
    phone: str | None = None


class Assignment(SQLModel, table=True):
    """A person holding a role (in a district, for a district role) over a span of days.

    Held from `started_on` (None: since before any date was recorded) up to the day before
    `ended_on` (None: still held). Notices go to whoever holds the role on the day they are made.
    """

    model_config = DEFER
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(foreign_key="person.email", index=True)
    role: str = Field(index=True)
    district_code: str | None = Field(default=None, foreign_key="district.code", index=True)
    started_on: date | None = None
    ended_on: date | None = None


class Agreement(SQLModel, table=True):
    model_config = DEFER
    id: int | None = Field(default=None, primary_key=True)
    district_code: str = Field(foreign_key="district.code", index=True)
    cohort: str | None = None
    state: str = Field(index=True)
    rules_version: str
    consequences: str  # comma list, in the order given
    liaison_email: str | None = Field(default=None, foreign_key="person.email")
    identified_on: date
    signed_on: date | None = None
    escalation_option: str | None = None
    last_event_on: date
    # A renewal ends this agreement and starts the next: each names the other.
    renewed_from: int | None = None
    renewed_as: int | None = None
    # Optimistic lock: every change bumps it with `WHERE version = <read version>`.
    version: int = 1
    updated_at: datetime = utc_column()

    @property
    def consequence_list(self) -> list[str]:
        return [c for c in self.consequences.split(",") if c]


class Signature(SQLModel, table=True):
    model_config = DEFER
    # The unique constraint's index serves lookups by agreement too.
    __table_args__ = (UniqueConstraint("agreement_id", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id")
    party: str
    signed_on: date
    recorded_by: str
    recorded_at: datetime = utc_column()


class Deadline(SQLModel, table=True):
    model_config = DEFER
    __table_args__ = (Index("ix_deadline_status_due_at", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The agreement the deadline is of, or that its case belongs to (migration 0017).
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    process: str | None = None  # the case's process; None for the agreement itself
    case_id: int | None = None
    kind: str
    due_on: date
    # When the deadline passes: the local midnight ending `due_on`, in UTC.
    due_at: datetime = utc_column()
    # open | met | met_late | cancelled | waived (no longer needed); after a correction:
    # corrected | migrated (reopened from the right date or rules) | reopened (its record withdrawn)
    status: str = "open"
    opened_on: date
    closed_on: date | None = None


class Audit(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE."""

    model_config = DEFER

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int | None = Field(default=None, foreign_key="agreement.id", index=True)
    subject: str
    event: str
    from_state: str | None = None
    to_state: str | None = None
    actor: str
    effective_on: date
    recorded_at: datetime = utc_column()
    note: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The hash chain (workflow.audit): the row's place in its subject's chain, the hash of the
    # row before it there (None for the first), and the hash of its content and prev_hash.
    seq: int
    prev_hash: str | None = None
    hash: str


class AgreementSchool(SQLModel, table=True):
    """A school an agreement covers by name (`identify --schools`), benchmarks or not."""

    model_config = DEFER
    __tablename__ = "agreement_school"

    agreement_id: int = Field(foreign_key="agreement.id", primary_key=True)
    school_code: str = Field(foreign_key="school.code", primary_key=True)


class Benchmark(SQLModel, table=True):
    """One measurable benchmark of one school in a plan, with its 18- and 36-month targets."""

    model_config = DEFER

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    school_code: str = Field(foreign_key="school.code")
    kind: str
    label: str | None = None
    baseline: float
    target_18: float
    target_36: float
    lower_is_better: bool = False
    recorded_by: str
    recorded_at: datetime = utc_column()
    # The version of the terms the row belongs to (0: the plan as signed; N: amendment N), and
    # the id of the benchmark's first row, shared by its rows in every version (measurements
    # name it).
    amendment: int = 0
    lineage: int | None = None


class Measurement(SQLModel, table=True):
    """A benchmark's value on one date: one per date (a correction is a later issue's)."""

    model_config = DEFER
    __table_args__ = (UniqueConstraint("benchmark_id", "measured_on"),)

    id: int | None = Field(default=None, primary_key=True)
    benchmark_id: int = Field(foreign_key="benchmark.id", index=True)
    value: float
    measured_on: date
    evidence: str | None = None
    recorded_by: str
    recorded_at: datetime = utc_column()


class Review(SQLModel, table=True):
    """One review of an agreement (the RGA, the 24- or the 36-month review)."""

    model_config = DEFER
    # The unique constraint's index serves lookups by agreement too.
    __table_args__ = (UniqueConstraint("agreement_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id")
    kind: str
    opened_on: date
    determined_on: date | None = None
    determined_by: str | None = None
    # The rule version the statuses were computed under.
    rules_version: str | None = None


class ReviewStep(SQLModel, table=True):
    model_config = DEFER
    __tablename__ = "review_step"
    __table_args__ = (UniqueConstraint("review_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    step: str
    done_on: date
    recorded_by: str
    evidence: str | None = None
    recorded_at: datetime = utc_column()


class Determination(SQLModel, table=True):
    """One school's status at one review: computed by the rules, agreed at the conference."""

    model_config = DEFER
    __table_args__ = (UniqueConstraint("review_id", "school_code"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    school_code: str = Field(foreign_key="school.code")
    computed: str
    agreed: str
    reason: str | None = None
    # Every input: each benchmark's baseline, target, direction, value used, met and progress.
    inputs: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class AuditChain(SQLModel, table=True):
    """The head of one subject's audit chain: how many rows it holds and the newest one's hash,
    kept with each insert, so newest rows deleted behind pal's back are found too."""

    model_config = DEFER
    __tablename__ = "audit_chain"

    subject: str = Field(primary_key=True)
    length: int
    head: str
