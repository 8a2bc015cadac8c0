"""Delivery: outbox rows to a real SMTP server on 127.0.0.1 (aiosmtpd), or to `.eml` files."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
import smtp_server as smtp
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from notifications import admin, bodies
from notifications.bodies import Body
from notifications.dispatch import (
    LEASE,
    DeliveryReport,
    backoff,
    claim_due,
    deliver_all_due,
    deliver_due,
)
from notifications.errors import DeliveryUnavailable, TransientDeliveryError
from notifications.mime import Outgoing, build_message
from notifications.transports import FileTransport, SmtpTransport, transport_from_settings
from states.errors import NotAllowedInState, NotFound, PalError
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.service_models import Outbox

MAIL_FROM = "Office of Partnership Districts <partnership@mde.example>"
T0 = datetime(2018, 6, 1, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'pal.db'}")
    upgrade(engine)
    return engine


def add_rows(engine: Engine, *recipients: str, **overrides: Any) -> list[int]:
    """Outbox rows, one per recipient, of one notice; `body_text` and `body_html` give the
    bodies each row stores (compressed, as pal stores them)."""
    ids = []
    with transaction(engine) as session:
        body = Body(
            overrides.pop("body_text", "Your partnership plan is due on 2018-07-01.\n"),
            overrides.pop("body_html", "<p>Your partnership plan is due on 2018-07-01.</p>\n"),
        )
        stored = bodies.store(session, [body] * len(recipients))
        for recipient, (body_ref, delta) in zip(recipients, stored, strict=True):
            key = f"1:{overrides.get('notice', 'plan_due_reminder')}:2018-06-01:{recipient}"
            values: dict[str, Any] = {
                "notice": "plan_due_reminder",
                "occurrence": "2018-06-01",
                "recipient": recipient,
                "idempotency_key": key,
                "message_id": f"<{abs(hash(key)):x}@pal.localhost>",
                "subject": "Partnership plan due in 30 days",
                "body_ref": body_ref,
                "body": delta,
                "next_attempt_at": T0,
                "created_at": T0,
            } | overrides
            row = Outbox(**values)
            session.add(row)
            session.flush()
            assert row.id is not None
            ids.append(row.id)
    return ids


def get_row(engine: Engine, row_id: int) -> Outbox:
    with transaction(engine, read_only=True) as session:
        row = session.get(Outbox, row_id)
        assert row is not None
        return row


def sendable(engine: Engine, row_id: int) -> Any:
    """The row with its stored bodies as `text` and `html`, as `build_message` takes it."""
    row = get_row(engine, row_id)
    with transaction(engine, read_only=True) as session:
        message = bodies.read(session, [row_id])[row_id]
    return SimpleNamespace(**row.model_dump(), text=message.text, html=message.html)


def smtp_to(server: smtp.SmtpServer, **kwargs: Any) -> SmtpTransport:
    return SmtpTransport(server.host, server.port, timeout=5, **kwargs)


def deliver(engine: Engine, transport: Any, now: datetime = T0, **kwargs: Any) -> DeliveryReport:
    return run(deliver_all_due(engine, transport, now, MAIL_FROM, **kwargs))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((smtp.HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# -- the message ------------------------------------------------------------------------------


def test_delivered_message_is_multipart_alternative_with_date_message_id_and_from(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    [row_id] = add_rows(engine, "superintendent@lake.example")

    report = deliver(engine, smtp_to(smtp_server))

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [received] = smtp_server.received
    assert received.mail_from == "partnership@mde.example"
    assert received.rcpt_tos == ["superintendent@lake.example"]
    message = received.message
    row = get_row(engine, row_id)
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    assert message["From"] == MAIL_FROM
    assert message["To"] == "superintendent@lake.example"
    assert message["Message-ID"] == row.message_id
    assert parsedate_to_datetime(message["Date"]) == T0
    assert message["X-PAL-Key"] == row.idempotency_key
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, T0, None)


def test_unicode_subject_and_display_names_survive_the_trip(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    subject = "Échéance du plan — Lake & Co, 30 días"
    sender = "Bureau des Districts Partenaires — MDÉ <partnership@mde.example>"
    add_rows(
        engine,
        "zoe@lake.example",
        subject=subject,
        body_text="Liaison: Zoë Ångström\n",
        body_html="<p>Liaison: Zoë Ångström</p>",
    )

    run(deliver_all_due(engine, smtp_to(smtp_server), T0, sender))

    message = smtp_server.received[0].message
    assert message["Subject"] == subject
    assert str(message["From"]) == sender
    plain, html = message.iter_parts()
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    assert plain.get_content().replace("\r\n", "\n") == "Liaison: Zoë Ångström\n"
    assert "Zoë Ångström" in html.get_content()


def test_html_body_is_passed_through_exactly_as_rendered(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    html = "<p>District: &lt;b&gt;Lake &amp; Co&lt;/b&gt; and <b>Lake & Co</b></p>\n"
    add_rows(engine, "liaison@mde.example", body_html=html)

    deliver(engine, smtp_to(smtp_server))

    part = smtp_server.received[0].message.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    assert part.get_content().replace("\r\n", "\n") == html


def test_message_id_and_date_are_the_same_on_every_build(engine: Engine) -> None:
    [row_id] = add_rows(engine, "a@lake.example")
    row = sendable(engine, row_id)

    first, second = build_message(row, MAIL_FROM), build_message(row, MAIL_FROM)

    assert first.data == second.data
    assert BytesParser(policy=policy.default).parsebytes(first.data)["Message-ID"] == row.message_id


# -- once, and only once ----------------------------------------------------------------------


def test_two_passes_at_the_same_now_send_once(engine: Engine, smtp_server: smtp.SmtpServer) -> None:
    add_rows(engine, "a@lake.example", "b@lake.example")

    first = deliver(engine, smtp_to(smtp_server))
    second = deliver(engine, smtp_to(smtp_server))

    assert (first.sent, second.sent, second.claimed) == (2, 0, 0)
    assert sorted(smtp_server.handler.recipients()) == ["a@lake.example", "b@lake.example"]


def test_one_connection_carries_every_message_of_a_pass_across_batches(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    add_rows(engine, *(f"p{i}@lake.example" for i in range(5)))
    transport = smtp_to(smtp_server)

    report = deliver(engine, transport, batch=2)

    assert report.sent == 5
    assert transport.connections == 1
    assert len({item.peer for item in smtp_server.received}) == 1


def test_rows_not_yet_due_wait_and_go_out_in_due_order(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    add_rows(engine, "later@lake.example", next_attempt_at=T0 + timedelta(hours=2))
    add_rows(engine, "second@lake.example", next_attempt_at=T0 - timedelta(minutes=1))
    add_rows(engine, "first@lake.example", next_attempt_at=T0 - timedelta(minutes=5))

    deliver(engine, smtp_to(smtp_server))
    assert smtp_server.handler.recipients() == ["first@lake.example", "second@lake.example"]

    deliver(engine, smtp_to(smtp_server), now=T0 + timedelta(hours=2))
    assert smtp_server.handler.recipients()[-1] == "later@lake.example"


def test_a_claimed_row_is_left_alone_until_its_lease_runs_out(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    add_rows(engine, "a@lake.example")
    [claimed] = claim_due(engine, T0, 10)  # a dispatcher that then dies without sending

    during = deliver(engine, smtp_to(smtp_server), now=T0 + LEASE - timedelta(seconds=1))
    after = deliver(engine, smtp_to(smtp_server), now=T0 + LEASE)

    assert (during.claimed, after.sent) == (0, 1)
    assert smtp_server.handler.recipients() == [claimed.recipient]


def test_a_stop_request_finishes_the_message_in_flight_and_releases_the_rest(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    ids = add_rows(engine, "a@lake.example", "b@lake.example", "c@lake.example")

    class StopAfterFirst(SmtpTransport):
        async def send(self, message: Outgoing) -> None:
            await super().send(message)
            stop.set()

    async def scenario() -> DeliveryReport:
        return await deliver_due(engine, transport, T0, MAIL_FROM, stop=stop)

    stop = asyncio.Event()
    transport = StopAfterFirst(smtp_server.host, smtp_server.port, timeout=5)
    report = run(scenario())

    assert report.sent == 1
    statuses = [(get_row(engine, i).status, get_row(engine, i).next_attempt_at) for i in ids]
    assert statuses == [("sent", T0 + LEASE), ("pending", T0), ("pending", T0)]


# -- transient failures: retried with backoff, delivered once -------------------------------


def test_backoff_doubles_from_a_minute_up_to_an_hour() -> None:
    assert [backoff(n) for n in (1, 2, 3, 6)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=32),
    ]
    assert backoff(7) == backoff(500) == timedelta(hours=1)


def test_server_down_leaves_rows_retrying_and_a_pass_after_the_backoff_delivers_once(
    engine: Engine, smtp_server_factory: Callable[..., smtp.SmtpServer]
) -> None:
    port = free_port()  # nothing listens here yet
    ids = add_rows(engine, "a@lake.example", "b@lake.example")
    transport = SmtpTransport(smtp.HOST, port, timeout=5)

    down = deliver(engine, transport)

    assert (down.sent, down.retrying, down.unavailable) == (0, 2, True)
    for row in (get_row(engine, i) for i in ids):
        assert (row.status, row.attempts) == ("retrying", 1)
        assert row.next_attempt_at == T0 + timedelta(seconds=60)
        assert row.last_error is not None
        assert "cannot connect" in row.last_error

    server = smtp_server_factory(port=port)
    too_soon = deliver(engine, transport, now=T0 + timedelta(seconds=59))
    later = deliver(engine, transport, now=T0 + timedelta(seconds=60))
    again = deliver(engine, transport, now=T0 + timedelta(hours=5))

    assert (too_soon.claimed, later.sent, again.claimed) == (0, 2, 0)
    assert sorted(server.handler.recipients()) == ["a@lake.example", "b@lake.example"]
    assert [get_row(engine, i).status for i in ids] == ["sent", "sent"]
    assert get_row(engine, ids[0]).attempts == 2


def test_a_451_on_the_first_attempt_is_delivered_later_exactly_once(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    [row_id] = add_rows(engine, "a@lake.example")
    smtp_server.handler.defer_data = 1

    first = deliver(engine, smtp_to(smtp_server))
    row = get_row(engine, row_id)
    assert (first.retrying, row.status, row.last_error) == (1, "retrying", "451 4.3.0 try later")
    assert first.errors == [
        f"outbox {row_id} (plan_due_reminder) to a@lake.example: 451 4.3.0 try later"
    ]

    second = deliver(engine, smtp_to(smtp_server), now=row.next_attempt_at)
    third = deliver(engine, smtp_to(smtp_server), now=row.next_attempt_at + timedelta(days=1))

    assert (second.sent, third.claimed) == (1, 0)
    assert smtp_server.handler.recipients() == ["a@lake.example"]
    assert get_row(engine, row_id).attempts == 2


def test_repeated_transient_failures_back_off_exponentially_and_never_give_up(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    [row_id] = add_rows(engine, "a@lake.example")
    smtp_server.handler.defer_data = 8
    now = T0
    waits = []
    for _ in range(8):
        deliver(engine, smtp_to(smtp_server), now=now)
        row = get_row(engine, row_id)
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at

    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    assert (row.status, row.attempts) == ("retrying", 8)
    assert deliver(engine, smtp_to(smtp_server), now=now).sent == 1


def test_a_server_that_never_answers_times_out_as_transient(engine: Engine) -> None:
    [row_id] = add_rows(engine, "a@lake.example")
    with socket.socket() as silent:  # accepts TCP connections (backlog), never says a word
        silent.bind((smtp.HOST, 0))
        silent.listen(8)
        transport = SmtpTransport(smtp.HOST, silent.getsockname()[1], timeout=0.3)
        report = deliver(engine, transport)

    assert report.retrying == 1
    assert get_row(engine, row_id).status == "retrying"


def test_a_dropped_connection_is_reopened_for_the_next_message(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    add_rows(engine, "a@lake.example")
    add_rows(engine, "b@lake.example", next_attempt_at=T0 + timedelta(minutes=1))
    transport = smtp_to(smtp_server)

    async def scenario() -> tuple[DeliveryReport, DeliveryReport]:
        async with transport:
            first = await deliver_due(engine, transport, T0, MAIL_FROM)
            smtp_server.stop()  # drops the open connection
            smtp_server.start()
            second = await deliver_due(engine, transport, T0 + timedelta(minutes=1), MAIL_FROM)
            return first, second

    first, second = run(scenario())

    assert (first.sent, second.sent, transport.connections) == (1, 1, 2)
    assert smtp_server.handler.recipients() == ["a@lake.example", "b@lake.example"]


# -- permanent failures ------------------------------------------------------------------------


def test_a_550_recipient_fails_alone_while_the_others_are_sent(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    smtp_server.handler.refuse["ghost@lake.example"] = "550 5.1.1 no such user"
    ids = add_rows(engine, "a@lake.example", "ghost@lake.example", "c@lake.example")

    report = deliver(engine, smtp_to(smtp_server))
    later = deliver(engine, smtp_to(smtp_server), now=T0 + timedelta(days=1))

    assert (report.sent, report.failed, report.retrying, later.claimed) == (2, 1, 0, 0)
    ghost = get_row(engine, ids[1])
    assert (ghost.status, ghost.attempts, ghost.last_error) == (
        "failed",
        1,
        "550 5.1.1 no such user",
    )
    assert sorted(smtp_server.handler.recipients()) == ["a@lake.example", "c@lake.example"]
    assert [get_row(engine, i).status for i in ids] == ["sent", "failed", "sent"]


def test_a_4xx_recipient_refusal_is_retried(engine: Engine, smtp_server: smtp.SmtpServer) -> None:
    smtp_server.handler.refuse["busy@lake.example"] = "450 4.2.1 mailbox busy"
    [row_id] = add_rows(engine, "busy@lake.example")

    deliver(engine, smtp_to(smtp_server))

    row = get_row(engine, row_id)
    assert (row.status, row.last_error) == ("retrying", "450 4.2.1 mailbox busy")


def test_a_refused_sender_keeps_every_message_queued_instead_of_failing_them(
    engine: Engine,
    smtp_server_factory: Callable[..., smtp.SmtpServer],
    server_tls_context: ssl.SSLContext,
    client_tls_context: ssl.SSLContext,
) -> None:
    server = smtp_server_factory(
        tls_context=server_tls_context, auth_required=True, authenticator=smtp.authenticator
    )
    ids = add_rows(engine, "a@lake.example", "b@lake.example")
    transport = SmtpTransport(
        server.host, server.port, "starttls", timeout=5, tls_context=client_tls_context
    )  # no credentials: the server answers MAIL FROM with 530

    report = deliver(engine, transport)

    assert (report.sent, report.failed, report.retrying, report.unavailable) == (0, 0, 2, True)
    for row in (get_row(engine, i) for i in ids):
        assert row.status == "retrying"
        assert row.last_error is not None
        assert row.last_error.startswith("sender partnership@mde.example refused: 530")


def test_an_unusable_mail_from_claims_nothing_and_fails_no_message(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    """A configuration problem is not any message's fault: every row stays pending as it was."""
    ids = add_rows(engine, "a@lake.example", "b@lake.example")

    report = run(deliver_all_due(engine, smtp_to(smtp_server), T0, "Office, MDE <x@mde.example>"))

    assert (report.sent, report.failed, report.claimed, report.unavailable) == (0, 0, 0, True)
    assert [get_row(engine, i).status for i in ids] == ["pending", "pending"]
    assert smtp_server.handler.recipients() == []


def test_a_pass_slower_than_the_lease_keeps_its_rows_from_a_second_dispatcher(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    """Each message takes longer than the lease (a slow relay): the pass extends the lease, so a
    second dispatcher claiming meanwhile finds nothing, and each message goes once."""
    add_rows(engine, "a@lake.example", "b@lake.example", "c@lake.example")
    ticks = iter(range(1000))
    latest = [T0]

    def clock() -> datetime:  # six minutes pass at every look at the clock
        latest[0] = T0 + timedelta(minutes=6 * next(ticks))
        return latest[0]

    taken: list[Any] = []

    class SlowRelay(SmtpTransport):
        async def send(self, message: Outgoing) -> None:
            await super().send(message)
            taken.extend(await asyncio.to_thread(claim_due, engine, latest[0], 10))

    transport = SlowRelay(smtp_server.host, smtp_server.port, timeout=5)
    report = run(deliver_all_due(engine, transport, T0, MAIL_FROM, clock=clock))

    assert (report.sent, taken) == (3, [])
    assert sorted(smtp_server.handler.recipients()) == [
        "a@lake.example", "b@lake.example", "c@lake.example"
    ]  # fmt: skip


# -- TLS and AUTH ------------------------------------------------------------------------------


def test_starttls_with_auth_delivers(
    engine: Engine,
    smtp_server_factory: Callable[..., smtp.SmtpServer],
    server_tls_context: ssl.SSLContext,
    client_tls_context: ssl.SSLContext,
) -> None:
    server = smtp_server_factory(
        tls_context=server_tls_context,
        require_starttls=True,
        auth_required=True,
        authenticator=smtp.authenticator,
    )
    add_rows(engine, "a@lake.example", "b@lake.example")
    transport = SmtpTransport(
        server.host,
        server.port,
        "starttls",
        smtp.USERNAME,
        smtp.PASSWORD,
        5,
        tls_context=client_tls_context,
    )

    report = deliver(engine, transport)

    assert report.sent == 2
    assert all(item.tls and item.authenticated for item in server.received)


def test_implicit_tls_delivers(
    engine: Engine,
    smtp_server_factory: Callable[..., smtp.SmtpServer],
    server_tls_context: ssl.SSLContext,
    client_tls_context: ssl.SSLContext,
) -> None:
    server = smtp_server_factory(ssl_context=server_tls_context)
    add_rows(engine, "a@lake.example")
    transport = SmtpTransport(
        server.host, server.port, "tls", timeout=5, tls_context=client_tls_context
    )

    report = deliver(engine, transport)

    assert report.sent == 1
    assert server.received[0].tls


def test_an_untrusted_certificate_is_refused_and_the_mail_kept(
    engine: Engine,
    smtp_server_factory: Callable[..., smtp.SmtpServer],
    server_tls_context: ssl.SSLContext,
) -> None:
    server = smtp_server_factory(ssl_context=server_tls_context)
    [row_id] = add_rows(engine, "a@lake.example")

    report = deliver(engine, SmtpTransport(server.host, server.port, "tls", timeout=5))

    assert (report.sent, report.retrying) == (0, 1)
    assert get_row(engine, row_id).status == "retrying"
    assert server.received == []


def test_the_password_never_appears_in_error_text_or_logs(
    engine: Engine,
    smtp_server_factory: Callable[..., smtp.SmtpServer],
    server_tls_context: ssl.SSLContext,
    client_tls_context: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = smtp_server_factory(
        tls_context=server_tls_context, auth_required=True, authenticator=smtp.authenticator
    )
    wrong = "Sup3r-Secret-Wrong-Pa55"
    [row_id] = add_rows(engine, "a@lake.example")
    transport = SmtpTransport(
        server.host,
        server.port,
        "starttls",
        smtp.USERNAME,
        wrong,
        5,
        tls_context=client_tls_context,
    )
    caplog.set_level(logging.DEBUG)

    report = deliver(engine, transport)

    row = get_row(engine, row_id)
    assert (report.retrying, row.status) == (1, "retrying")
    assert row.last_error is not None
    assert "AUTH" in row.last_error
    for text in (row.last_error, *report.errors, caplog.text, repr(transport)):
        assert wrong not in text

    async def direct() -> TransientDeliveryError:
        message = build_message(sendable(engine, row_id), MAIL_FROM)
        with pytest.raises(DeliveryUnavailable) as caught:
            await transport.send(message)
        await transport.close()
        return caught.value

    error = run(direct())
    assert wrong not in str(error)
    assert wrong not in repr(error)


# -- the file backend --------------------------------------------------------------------------


def test_file_transport_writes_one_eml_per_message_and_a_repeat_leaves_one_file(
    engine: Engine, tmp_path: Path
) -> None:
    ids = add_rows(engine, "a@lake.example", "b@lake.example")
    mail_dir = tmp_path / "mail"

    report = deliver(engine, FileTransport(mail_dir))
    files = sorted(mail_dir.iterdir())
    rows = [get_row(engine, i) for i in ids]

    assert report.sent == 2
    assert [path.suffix for path in files] == [".eml", ".eml"]
    parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]
    assert sorted(m["Message-ID"] for m in parsed) == sorted(r.message_id for r in rows)
    assert all(m.get_content_type() == "multipart/alternative" for m in parsed)

    async def again() -> None:  # a crash after writing but before recording means a rewrite
        async with FileTransport(mail_dir) as transport:
            for row_id in ids:
                await transport.send(build_message(sendable(engine, row_id), MAIL_FROM))

    run(again())
    assert sorted(mail_dir.iterdir()) == files


# -- settings ----------------------------------------------------------------------------------


def test_without_an_smtp_host_mail_goes_to_the_mail_folder(tmp_path: Path) -> None:
    transport = transport_from_settings(Settings(mail_dir=tmp_path / "mail"))
    assert isinstance(transport, FileTransport)
    assert transport.mail_dir == tmp_path / "mail"


@pytest.mark.parametrize(("security", "port"), [("none", 25), ("starttls", 587), ("tls", 465)])
def test_smtp_settings_choose_the_standard_port_for_the_security(security: str, port: int) -> None:
    settings = Settings(
        smtp_host="mail.example",
        smtp_security=security,  # type: ignore[arg-type]
        smtp_username="pal",
        smtp_password=SecretStr("hunter2-x"),
    )
    transport = transport_from_settings(settings)
    assert isinstance(transport, SmtpTransport)
    assert (transport.host, transport.port, transport.security) == ("mail.example", port, security)
    assert "hunter2-x" not in repr(transport)


def test_a_username_without_a_password_is_refused() -> None:
    with pytest.raises(PalError):
        transport_from_settings(Settings(smtp_host="mail.example", smtp_username="pal"))


# -- the admin view ----------------------------------------------------------------------------


def test_list_and_counts_show_each_message_and_its_status(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    smtp_server.handler.refuse["ghost@lake.example"] = "550 5.1.1 no such user"
    add_rows(engine, "a@lake.example", "ghost@lake.example")
    add_rows(engine, "later@lake.example", next_attempt_at=T0 + timedelta(days=1))
    deliver(engine, smtp_to(smtp_server))

    with Session(engine) as session:
        everything = admin.list_outbox(session)
        failed = admin.list_outbox(session, status="failed")
        counts = admin.counts_by_status(session)

    assert [item["to"] for item in everything] == [
        "a@lake.example",
        "ghost@lake.example",
        "later@lake.example",
    ]
    assert [(item["to"], item["last_error"]) for item in failed] == [
        ("ghost@lake.example", "550 5.1.1 no such user")
    ]
    assert {
        "id",
        "to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "notice",
        "next_attempt_at",
        "sent_at",
    } <= set(everything[0])
    assert counts == {"pending": 1, "retrying": 0, "sent": 1, "failed": 1, "unaddressed": 0}


def test_retry_puts_a_failed_message_back_and_the_next_pass_sends_it(
    engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    smtp_server.handler.refuse["ghost@lake.example"] = "550 5.1.1 no such user"
    [row_id] = add_rows(engine, "ghost@lake.example")
    deliver(engine, smtp_to(smtp_server))
    del smtp_server.handler.refuse["ghost@lake.example"]  # the mailbox was created
    later = T0 + timedelta(hours=3)

    with transaction(engine) as session:
        retried = admin.retry(session, row_id, later)

    assert (retried["status"], retried["next_attempt_at"]) == ("pending", later.isoformat())
    assert deliver(engine, smtp_to(smtp_server), now=later).sent == 1
    assert smtp_server.handler.recipients() == ["ghost@lake.example"]


def test_retry_makes_a_retrying_message_due_now(engine: Engine) -> None:
    [row_id] = add_rows(
        engine, "a@lake.example", status="retrying", next_attempt_at=T0 + timedelta(hours=1)
    )

    with transaction(engine) as session:
        admin.retry(session, row_id, T0)

    row = get_row(engine, row_id)
    assert (row.status, row.next_attempt_at) == ("pending", T0)


def test_retry_refuses_a_sent_message_an_unaddressed_one_and_an_unknown_id(
    engine: Engine,
) -> None:
    [sent] = add_rows(engine, "a@lake.example", status="sent", sent_at=T0)
    [nobody] = add_rows(engine, "nobody@lake.example", status="unaddressed")

    with transaction(engine) as session:
        with pytest.raises(NotAllowedInState):
            admin.retry(session, sent, T0)
        with pytest.raises(NotAllowedInState):
            admin.retry(session, nobody, T0)
        with pytest.raises(NotFound):
            admin.retry(session, 9999, T0)

    assert get_row(engine, sent).status == "sent"


# -- PostgreSQL (with PAL_TEST_POSTGRES_URL; `postgres_url` comes from conftest.py) -----------


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_on_postgresql_a_second_dispatcher_skips_rows_another_has_locked(
    pg_engine: Engine,
) -> None:
    ids = add_rows(pg_engine, "a@lake.example", "b@lake.example")

    with transaction(pg_engine) as holder:  # another dispatcher, mid-claim, holds row a
        holder.exec(select(Outbox).where(col(Outbox.id) == ids[0]).with_for_update()).one()
        claimed = claim_due(pg_engine, T0, 10)

    assert [row.id for row in claimed] == [ids[1]]


@pytest.mark.postgres
def test_on_postgresql_a_pass_sends_once_and_fails_a_550_alone(
    pg_engine: Engine, smtp_server: smtp.SmtpServer
) -> None:
    smtp_server.handler.refuse["ghost@lake.example"] = "550 5.1.1 no such user"
    ids = add_rows(pg_engine, "a@lake.example", "ghost@lake.example")

    first = deliver(pg_engine, smtp_to(smtp_server))
    second = deliver(pg_engine, smtp_to(smtp_server))

    assert (first.sent, first.failed, second.claimed) == (1, 1, 0)
    assert [get_row(pg_engine, i).status for i in ids] == ["sent", "failed"]
    assert smtp_server.handler.recipients() == ["a@lake.example"]
