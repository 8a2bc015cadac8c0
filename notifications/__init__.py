"""Notices: templates, the outbox, and delivery (SMTP or the file backend)."""
