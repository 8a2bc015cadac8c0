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
