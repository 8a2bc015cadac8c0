"""Where messages go: an SMTP server (aiosmtplib) or, by default, `.eml` files in a folder.

A transport is an async context manager with one method, `send(message)`, that returns when the
message (a built `Outgoing`, for one recipient) is accepted and otherwise raises
`TransientDeliveryError` (try again later) or `PermanentDeliveryError` (this message will never
go through). Error texts never carry the SMTP password, nor its base64 AUTH forms (a server may
echo the AUTH PLAIN string in its 535 reply): see `errors.Redactor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import ssl
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, Self

import aiosmtplib

from notifications.errors import (
    DeliveryError,
    DeliveryUnavailable,
    PermanentDeliveryError,
    Redactor,
    TransientDeliveryError,
)
from notifications.mime import Outgoing
from states.errors import BadInput
from storage.files import flush_to_disk

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}


class Transport(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def send(self, message: Outgoing) -> None:
        """Hand `message` over for its recipient, or raise a `DeliveryError`."""
        ...


class _ConnectionLost(TransientDeliveryError):
    """The server went away mid-conversation (or said 421); a fresh connection may work."""


class SmtpTransport:
    """One SMTP connection, opened on the first `send` and reused for every message after it.

    A connection that drops is reopened once, and the message that found it dead sent again.
    Entering the transport more than once (nested `async with`) is fine: the connection closes
    with the outermost exit.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        security: Security = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        *,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in DEFAULT_PORTS:
            raise BadInput(f"unknown SMTP security {security!r} (none, starttls or tls)")
        self.host = host
        self.port = port if port is not None else DEFAULT_PORTS[security]
        self.security: Security = security
        self.username = username
        self._password = password
        self._redact = Redactor.for_login(username, password)
        self.timeout = timeout
        self._tls_context = tls_context
        self._local_hostname = local_hostname
        self._smtp: aiosmtplib.SMTP | None = None
        self._depth = 0
        self._lock = asyncio.Lock()
        self.connections = 0  # opened so far: for tests and benchmarks

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username else ""
        return f"SmtpTransport({self.host}:{self.port}, security={self.security}{user})"

    async def __aenter__(self) -> Self:
        self._depth += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0:
            await self.close()

    async def close(self) -> None:
        """Say QUIT if the connection is still up, then close it."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        if smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()
        smtp.close()

    async def send(self, message: Outgoing) -> None:
        async with self._lock:
            try:
                reused = await self._ensure_connected()
                try:
                    await self._transmit(message)
                except _ConnectionLost:
                    if not reused:
                        raise
                    log.info("SMTP connection to %s:%s dropped; reconnecting", self.host, self.port)
                    await self._ensure_connected()
                    await self._transmit(message)
            except asyncio.CancelledError:
                self._discard()  # the conversation state is unknown
                raise

    async def _ensure_connected(self) -> bool:
        """True when an open connection is reused, False when a new one was just made."""
        if self._smtp is not None and self._smtp.is_connected:
            return True
        self._discard()
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password if self.username else None,
            timeout=self.timeout,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            tls_context=self._tls_context,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            smtp.close()
            detail = self._safe(f"SMTP AUTH refused: {exc.code} {exc.message}")
            raise DeliveryUnavailable(detail) from None
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            smtp.close()
            where = f"{self.host}:{self.port} ({self.security})"
            detail = self._safe(f"cannot connect to {where}: {_text(exc)}")
            raise DeliveryUnavailable(detail) from None
        self._smtp = smtp
        self.connections += 1
        return False

    async def _transmit(self, message: Outgoing) -> None:
        assert self._smtp is not None
        recipient = message.recipient
        try:
            refused, _ = await self._smtp.sendmail(message.sender, [recipient], message.data)
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            error = self._translate(exc)
            if isinstance(error, DeliveryUnavailable | _ConnectionLost):
                self._discard()  # the conversation is in an unknown state
            raise error from None
        if recipient in refused:
            reply = refused[recipient]
            raise self._reply_error(reply.code, reply.message)

    def _translate(self, exc: Exception) -> DeliveryError:
        """An aiosmtplib failure while sending, as the dispatcher's kind of error."""
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            first = exc.recipients[0]
            return self._reply_error(first.code, first.message)
        if isinstance(exc, aiosmtplib.SMTPSenderRefused):
            # Every message has this sender: a configuration problem, not this message's.
            detail = f"sender {exc.sender} refused: {exc.code} {exc.message}"
            return DeliveryUnavailable(self._safe(detail))
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            if exc.code == 421:  # "service not available, closing transmission channel"
                return _ConnectionLost(self._safe(f"421 {exc.message}"))
            return self._reply_error(exc.code, exc.message)
        if isinstance(exc, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
            return DeliveryUnavailable(self._safe(f"no answer from {self.host}: {_text(exc)}"))
        if isinstance(exc, ConnectionError):  # SMTPServerDisconnected, resets
            return _ConnectionLost(self._safe(f"connection lost: {_text(exc)}"))
        if isinstance(exc, aiosmtplib.SMTPNotSupported | ValueError):
            return PermanentDeliveryError(self._safe(f"cannot send: {_text(exc)}"))
        return DeliveryUnavailable(self._safe(_text(exc)))

    def _reply_error(self, code: int, text: str) -> TransientDeliveryError | PermanentDeliveryError:
        """A 5xx reply is final; anything else (4xx, odd codes) is worth another try."""
        detail = self._safe(f"{code} {text}".strip())
        if 500 <= code < 600:
            return PermanentDeliveryError(detail)
        return TransientDeliveryError(detail)

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _safe(self, text: str) -> str:
        return self._redact(text)


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class FileTransport:
    """Each message becomes `<mail_dir>/<hash of Message-ID and recipient>.eml`, written atomically.

    Sending the same message to the same recipient again replaces the file: one file per message.
    """

    def __init__(self, mail_dir: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.mail_dir = Path(mail_dir)
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"FileTransport({str(self.mail_dir)!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def path_for(self, message: Outgoing) -> Path:
        if not message.message_id:
            raise PermanentDeliveryError("message has no Message-ID")
        digest = hashlib.sha256(f"{message.message_id}\n{message.recipient}".encode()).hexdigest()
        return self.mail_dir / f"{digest[:32]}.eml"

    async def send(self, message: Outgoing) -> None:
        target = self.path_for(message)
        try:
            await asyncio.to_thread(self._write, target, message.data)
        except OSError as exc:
            raise DeliveryUnavailable(f"cannot write to {self.mail_dir}: {exc}") from exc

    def _write(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        if self.fsync and os.name == "posix":
            flush_to_disk(target.parent)


def transport_from_settings(settings: Settings) -> SmtpTransport | FileTransport:
    """SMTP when `PAL_SMTP_HOST` is set, else the file backend in `PAL_MAIL_DIR`."""
    if settings.smtp_host is None:
        return FileTransport(settings.mail_dir)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    if settings.smtp_username and password is None:
        raise BadInput("PAL_SMTP_USERNAME is set but PAL_SMTP_PASSWORD is not")
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        settings.smtp_username,
        password,
        settings.smtp_timeout,
    )
