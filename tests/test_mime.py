"""The MIME writer: whatever a notice holds, the stdlib parser reads back exactly that."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notifications.mime import build_message

MAIL_FROM = "Office of Partnership Districts <partnership@mde.example>"
# What rendering gives a subject: words joined by single spaces (see notifications.render).
printable = st.characters(codec="utf-8", categories=["L", "N", "P", "S"])
words = st.text(printable, min_size=1, max_size=30)
subjects = st.lists(words, min_size=1, max_size=15).map(" ".join)
pieces = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=90)
specials = st.sampled_from(["\n", "\r", "\r\n", "\t", " ", ".", "=", "From ", "x" * 200])
# Lines around the 76-character limit of quoted-printable, ending in what must be escaped there.
edges = st.builds(
    lambda length, last, end: "x" * length + last + end,
    st.integers(70, 80),
    st.sampled_from(["", " ", "\t", "=", "é", "\r", "  ", " x"]),
    st.sampled_from(["", "\n", "\r\n", "\r"]),
)
bodies = st.lists(pieces | specials | edges, max_size=12).map("".join)


def row(**overrides: Any) -> Any:
    values = {
        "id": 7,
        "created_at": datetime(2020, 3, 2, 13, 0, tzinfo=UTC),
        "recipient": "superintendent@lake.example",
        "subject": "Reminder: partnership plan for Lake District due Monday, March 2, 2020",
        "message_id": "<0123abcd@pal.localhost>",
        "idempotency_key": "a12:plan_reminder:timer123:superintendent@lake.example",
        "body_text": "Dear Jo,\n\nThe plan is due.\n",
        "body_html": "<p>Dear Jo,</p>\n",
    }
    return SimpleNamespace(**{**values, **overrides})


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def content(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


@settings(max_examples=300, deadline=None)
@given(subject=subjects, text=bodies, html=bodies)
def test_any_subject_and_bodies_parse_back_unchanged_and_without_defects(
    subject: str, text: str, html: str
) -> None:
    """Unicode, long lines, leading dots, `=` and trailing blanks all survive the round trip."""
    built = build_message(row(subject=subject, body_text=text, body_html=html), MAIL_FROM)
    message = parse(built.data)

    assert message["Subject"] == subject
    expected = (text.replace("\r\n", "\n"), html.replace("\r\n", "\n"))
    assert (content(message, "plain"), content(message, "html")) == expected
    assert message.defects == [] and all(p.defects == [] for p in message.iter_parts())


@settings(max_examples=100, deadline=None)
@given(subject=subjects, text=bodies)
def test_every_line_ends_in_crlf_and_no_line_is_longer_than_998(subject: str, text: str) -> None:
    data = build_message(row(subject=subject, body_text=text), MAIL_FROM).data

    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    headers = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert all(line.strip() for line in headers), "a blank header line would end the headers"


def quoted_printable_parts(data: bytes) -> list[list[bytes]]:
    """The encoded lines of each part of a built message."""
    boundary = parse(data).get_boundary()
    assert boundary is not None
    body = data.split(b"\r\n\r\n", 1)[1]
    chunks = body.split(b"--" + boundary.encode())[1:-1]  # before the first, after the last
    parts = []
    for chunk in chunks:
        headers, encoded = chunk.split(b"\r\n\r\n", 1)
        assert b"Content-Transfer-Encoding: quoted-printable" in headers
        # The CRLF before the next delimiter belongs to the delimiter.
        assert encoded.endswith(b"\r\n")
        parts.append(encoded[:-2].split(b"\r\n"))
    return parts


QP_LINE = re.compile(rb"(?:[!-<>-~]|[ \t](?!$)|=[0-9A-F]{2})*=?")


@settings(max_examples=300, deadline=None)
@given(text=bodies, html=bodies)
@example(text="x" * 74 + " \n", html="x" * 74 + " \n")  # b2a_qp made this 77 characters
@example(text="x" * 73 + " \n", html="x" * 73 + "\t\n")
@example(text="x" * 75 + " \n", html="x" * 75 + "\t\n")
@example(text="x" * 76 + " \n", html="x" * 76 + "\t")
@example(text="x" * 74 + "=x\n", html="x" * 75 + "=")  # '=' at column 75 and 76
@example(text="x" * 73 + "é\n", html="x" * 74 + " \r\n" + "y" * 74 + " ")
@example(text="x" * 75 + "\r\n", html="x" * 74 + " \r" + "x" * 74 + " \rx")
def test_quoted_printable_lines_fit_in_76_and_decode_to_the_body(text: str, html: str) -> None:
    """RFC 2045: encoded lines of at most 76 characters, `=` only before two hex digits or as a
    soft break at the end, no blank at the end of a line; decoded, the body as given (CRLF and
    LF both read back as LF)."""
    data = build_message(row(body_text=text, body_html=html), MAIL_FROM).data

    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    for lines in quoted_printable_parts(data):
        assert max(len(line) for line in lines) <= 76
        assert all(QP_LINE.fullmatch(line) for line in lines), lines
    message = parse(data)
    expected = (text.replace("\r\n", "\n"), html.replace("\r\n", "\n"))
    assert (content(message, "plain"), content(message, "html")) == expected
    assert message.defects == [] and all(p.defects == [] for p in message.iter_parts())


def test_the_headers_a_mail_system_needs_are_there() -> None:
    built = build_message(row(), MAIL_FROM)
    message = parse(built.data)

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == MAIL_FROM
    assert message["To"] == "superintendent@lake.example"
    assert message["Date"] == "Mon, 02 Mar 2020 13:00:00 +0000"
    assert message["Message-ID"] == "<0123abcd@pal.localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert (built.sender, built.recipient) == ("partnership@mde.example", message["To"])


def test_an_ascii_subject_that_looks_like_an_encoded_word_reads_back_as_written() -> None:
    subject = "Plan for =?utf-8?q?Evil?= district"

    assert parse(build_message(row(subject=subject), MAIL_FROM).data)["Subject"] == subject


def test_a_unicode_sender_name_is_encoded_and_the_envelope_keeps_the_bare_address() -> None:
    built = build_message(row(), "Bureau des Écoles <ecoles@mde.example>")

    assert str(parse(built.data)["From"]) == "Bureau des Écoles <ecoles@mde.example>"
    assert built.sender == "ecoles@mde.example"
    assert built.data.isascii()


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("recipient", "jöhn@lake.example", "not an ASCII email address"),
        ("recipient", "not an address", "not an ASCII email address"),
        ("subject", "Injected\r\nBcc: everyone@example.com", "line break"),
        ("created_at", datetime(2020, 3, 2, 13, 0), "naive"),
    ],
)
def test_what_cannot_be_a_valid_message_is_refused_rather_than_sent_malformed(
    field: str, value: Any, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        build_message(row(**{field: value}), MAIL_FROM)
