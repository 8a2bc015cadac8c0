"""`pal audit verify`: check the audit log's hash chains."""

from __future__ import annotations

import click

from workflow.cli import present
from workflow.cli.common import app_for, emit, json_option, pass_ctx


@click.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@json_option
@pass_ctx
def verify(ctx: click.Context, as_json: bool) -> None:
    """Check every audit row against its hash chain; exit 6 naming the first that does not match."""
    from states.errors import AuditBroken
    from workflow.audit_verify import verify as verify_log

    with app_for(ctx) as app:
        found = verify_log(app.engine)
    if as_json or found.ok:
        emit(found.view(), as_json, present.audit_verified)
    if not found.ok:
        raise AuditBroken(present.audit_problem(found.problems[0].view()))
