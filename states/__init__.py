"""Process definitions: pure data and pure functions (no database, no SMTP, no clock)."""
