"""Threads: every email about one deadline answers one synthetic message, so a mail program shows
the notice that set the date, its reminders, its overdue notices and a correction as one thread.

The thread's root is never sent: its Message-ID is derived from what the outbox row stores (its
agreement, the deadline's series key, and the domain of its own Message-ID), so nothing is looked
up to thread a message and a retry carries the same headers. The root is the same for every
recipient: only the recipient's own messages reach a mailbox, and a shared mailbox then shows
one thread.
"""

from __future__ import annotations


def root_id(agreement_id: int | None, thread: str, message_id: str) -> str:
    """The thread root's Message-ID: `<deadline-3-plan_due.1@domain>`, in the domain of the
    message's own `message_id` (`<...@domain>`)."""
    domain = message_id.rpartition("@")[2].rstrip(">")
    return f"<deadline-{agreement_id}-{thread}@{domain}>"
