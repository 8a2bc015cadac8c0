"""One outbox row as a MIME message, identical on every attempt (same Date, same Message-ID)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from storage.service_models import Outbox

KEY_HEADER = "X-PAL-Key"


def build_message(row: Outbox, mail_from: str) -> EmailMessage:
    """`multipart/alternative` (text/plain, then text/html, UTF-8) addressed to `row.recipient`.

    The bodies go out exactly as rendered: escaping is the templates' job, not this one's.
    """
    if row.created_at.tzinfo is None:
        raise ValueError(f"outbox {row.id}: created_at {row.created_at!r} is naive")
    message = EmailMessage(policy=policy.default)
    message["From"] = mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    message[KEY_HEADER] = row.idempotency_key
    # RFC 3834: an automated notice; asks vacation responders not to answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text, subtype="plain", charset="utf-8")
    message.add_alternative(row.body_html, subtype="html", charset="utf-8")
    return message
