"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd in a thread), with a recording handler.

Import the fixtures into a test module (or name this module in `pytest_plugins`):
`smtp_server_factory`, `smtp_server`, `tls_ca`, `server_tls_context`, `client_tls_context`.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
USERNAME = "pal-mailer"
PASSWORD = "correct-Horse-9!battery"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: Any
    tls: bool
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.content)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """aiosmtpd handler: refuses configured recipients, defers DATA on request, keeps the rest."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> full reply line
    defer_data: int = 0  # answer the next N DATA commands with 451
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.defer_data > 0:
                self.defer_data -= 1
                return "451 4.3.0 try later"
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    content=bytes(envelope.content),
                    peer=session.peer,
                    tls=session.ssl is not None or _over_tls(server),
                    authenticated=bool(session.authenticated),
                )
            )
        return "250 2.0.0 accepted"

    def recipients(self) -> list[str]:
        return [rcpt for item in self.received for rcpt in item.rcpt_tos]


def _over_tls(server: Any) -> bool:
    transport = getattr(server, "transport", None)
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


class LoopbackController(Controller):  # type: ignore[misc]
    """A Controller that may bind port 0 and then knows which port it got."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class SmtpServer:
    """One test server; `stop()` then `start()` brings it back on the same port."""

    def __init__(self, handler: Recorder, port: int, kwargs: dict[str, Any]) -> None:
        self.handler = handler
        self.host = HOST
        self.port = port
        self._kwargs = kwargs
        self._controller: LoopbackController | None = None

    def start(self) -> SmtpServer:
        assert self._controller is None, "already running"
        controller = LoopbackController(
            self.handler, hostname=self.host, port=self.port, **self._kwargs
        )
        controller.start()
        self.port = controller.port
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpServer]]:
    """`start(port=0, handler=None, start=True, **aiosmtpd_kwargs)` -> a running SmtpServer."""
    servers: list[SmtpServer] = []

    def start(
        port: int = 0, handler: Recorder | None = None, *, start: bool = True, **kwargs: Any
    ) -> SmtpServer:
        server = SmtpServer(handler or Recorder(), port, kwargs)
        servers.append(server)
        return server.start() if start else server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    return smtp_server_factory()


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert(HOST).configure_cert(context)
    return context


@pytest.fixture
def client_tls_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_ca.configure_trust(context)
    return context
