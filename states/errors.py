"""The project's exception hierarchy; each class carries the CLI exit code it maps to."""

from __future__ import annotations


class PalError(Exception):
    """Root of every error pal raises on purpose."""

    exit_code = 1


class BadInput(PalError):
    """The request itself is malformed or names something that does not exist."""

    exit_code = 2


class NotFound(BadInput):
    """A district, school, person or agreement that is not on file."""


class NotAllowedInState(PalError):
    """The request is well formed but the agreement's state does not allow it."""

    exit_code = 3


class OverAppropriation(NotAllowedInState):
    """An approval would commit more than what remains of its fiscal year's appropriation."""


class PermissionDenied(PalError):
    """The actor's role may not do this."""

    exit_code = 4


class ConcurrentModification(PalError):
    """Someone else changed the record between our read and our write."""

    exit_code = 5


class StoreNotReady(BadInput):
    """The database has no schema yet, or an older one."""


class BadRules(BadInput):
    """A rule version's data names something that does not exist, or is malformed."""


# --- the store itself: each failure of the database classified once (storage.errors.classify) ---


class StoreBusy(ConcurrentModification):
    """Another writer held the database's write lock for the whole busy timeout: try again."""


class StoreMissing(StoreNotReady):
    """No database where the URL points (no file, no folder, no such PostgreSQL database)."""


class StoreCorrupt(StoreNotReady):
    """The file is not a database, or a damaged one."""


class StoreTooNew(StoreNotReady):
    """The database's schema is newer than this pal knows: a newer pal wrote it."""


class StoreUnavailable(PalError):
    """The database exists but cannot be used now (see the subclasses); nothing was changed."""

    exit_code = 6


class StoreReadOnly(StoreUnavailable):
    """The database file, its folder or its server accepts no writes."""


class StoreFull(StoreUnavailable):
    """The disk holding the database is full."""


class StoreUnreachable(StoreUnavailable):
    """The database server cannot be reached, or refused the connection."""


class StoreGone(StoreUnavailable):
    """The database file was deleted or replaced under a running pal: stop, do not write on."""


class AuditBroken(PalError):
    """`pal audit verify` found a row of the audit log that does not match its hash chain."""

    exit_code = 6


class ServiceRunning(PalError):
    """`pal restore` while a service instance is running on the database: stop it first."""

    exit_code = 3
