"""Delivery errors: the dispatcher retries a transient one later and gives up on a permanent one."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from states.errors import PalError

if TYPE_CHECKING:
    from config.settings import Settings


class DeliveryError(PalError):
    """A message could not be handed to the mail system; the text is safe to store and show."""


class TransientDeliveryError(DeliveryError):
    """Try again later: a 4xx reply, a refused or dropped connection, a timeout."""


class DeliveryUnavailable(TransientDeliveryError):
    """The mail system itself is out of reach (connect, TLS or AUTH failed), not this message.

    The dispatcher stops trying further messages in the same pass: they would fail the same way.
    """


class PermanentDeliveryError(DeliveryError):
    """The server refused this message for good: a 5xx reply, an unknown recipient."""


class Redactor:
    """Replaces secrets, and the encoded forms a server or a library may echo, with `***`.

    For an SMTP password: the password itself (and as `repr` and URL-quoting would show it), its
    base64 (AUTH LOGIN sends it alone) and the base64 AUTH PLAIN string `\\0user\\0password` (also
    with the user as authorisation identity); base64 is matched without its `=` padding, so a
    reply that cut or re-padded it is caught too. Secrets shorter than 4 characters are too likely
    to match ordinary text and are redacted only as themselves.
    """

    MASK = "***"

    def __init__(self, forms: Iterable[str] = ()) -> None:
        self._forms = sorted({f for f in forms if f}, key=len, reverse=True)

    @classmethod
    def for_login(cls, username: str | None, password: str | None) -> Redactor:
        if not password:
            return cls()
        return cls(_forms_of(password, username or ""))

    def __add__(self, other: Redactor) -> Redactor:
        return Redactor([*self._forms, *other._forms])

    def __bool__(self) -> bool:
        return bool(self._forms)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, self.MASK)
        return text


def _forms_of(password: str, username: str = "") -> list[str]:
    from base64 import b64encode
    from urllib.parse import quote, quote_plus

    def b64(value: str) -> str:
        return b64encode(value.encode()).decode().rstrip("=")

    forms = [password, repr(password)[1:-1], quote(password, safe=""), quote_plus(password)]
    if len(password) >= 4:
        forms += [b64(password), b64(f"\0{username}\0{password}")]
        if username:
            forms += [b64(f"{username}\0{username}\0{password}"), b64(f"{username}\0{password}")]
    return forms


def database_url_password(url: str) -> str | None:
    """The password in a database URL (`postgresql+psycopg://user:PASSWORD@host/db`), if any."""
    from urllib.parse import unquote

    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        # libpq and psycopg also take it as a query parameter (`?password=...`).
        password = parsed.password or parsed.query.get("password")
    except Exception:  # an unparsable URL: look for `://user:password@` by hand
        rest = url.split("://", 1)[-1]
        userinfo = rest.rsplit("@", 1)[0] if "@" in rest else ""
        password = unquote(userinfo.split(":", 1)[1]) if ":" in userinfo else None
    return str(password) if password else None


def redactor_for(settings: Settings) -> Redactor:
    """Every secret in `settings`: the SMTP password (with its AUTH forms), the database's."""
    smtp = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    redact = Redactor.for_login(settings.smtp_username, smtp)
    database = database_url_password(settings.database_url)
    return redact + Redactor(_forms_of(database)) if database else redact


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message and traceback with every secret replaced."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


@contextmanager
def redacted_logs(redact: Redactor) -> Iterator[None]:
    """While inside: every handler of the root logger redacts `redact`'s secrets."""
    if not redact:
        yield
        return
    redacting = RedactingFilter(redact)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(redacting)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(redacting)
