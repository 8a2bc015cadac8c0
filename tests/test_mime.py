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
        "text": "Dear Jo,\n\nThe plan is due.\n",
        "html": "<p>Dear Jo,</p>\n",
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
    built = build_message(row(subject=subject, text=text, html=html), MAIL_FROM)
    message = parse(built.data)

    assert message["Subject"] == subject
    expected = (text.replace("\r\n", "\n"), html.replace("\r\n", "\n"))
    assert (content(message, "plain"), content(message, "html")) == expected
    assert message.defects == [] and all(p.defects == [] for p in message.iter_parts())


@settings(max_examples=100, deadline=None)
@given(subject=subjects, text=bodies)
def test_every_line_ends_in_crlf_and_no_line_is_longer_than_998(subject: str, text: str) -> None:
    data = build_message(row(subject=subject, text=text), MAIL_FROM).data

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
    data = build_message(row(text=text, html=html), MAIL_FROM).data

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


# --- headers: folded to fit, never broken by what a name holds (issue 9, items 5, 6 and 12) ------

# Words of any length, up to far more than a line holds; some look like encoded words.
long_words = st.builds(lambda char, n: char * n, st.sampled_from(["x", "é", "ab", "日"]),
                       st.integers(60, 2000))  # fmt: skip
header_words = words | long_words | st.sampled_from(["=?utf-8?q?x?=", "=?", "?="])
header_texts = st.lists(header_words, min_size=1, max_size=8).map(" ".join)


def header_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@settings(max_examples=200, deadline=None)
@given(subject=header_texts)
@example(subject="Plan for " + "x" * 5000 + " due")  # the district of item 5
@example(subject="x" * 5000)
@example(subject="Lakeview " + "é" * 3000)
def test_a_subject_of_any_length_folds_into_lines_of_78_and_reads_back(subject: str) -> None:
    """No header line over 78 characters (998 is the hard limit: a longer line is refused by
    SMTP servers, "500 Line too long"); a word too long for a line is carried in encoded words;
    parsed back, the subject is the same text, without defects."""
    data = build_message(row(subject=subject), MAIL_FROM).data

    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert max(len(line) for line in header_lines(data)) <= 78
    message = parse(data)
    assert message["Subject"] == subject
    assert message["Subject"].defects == () and message.defects == []


control_texts = st.text(st.characters(codec="utf-8", exclude_characters="\r\n",
                                      exclude_categories=["Cs"]), max_size=200)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(subject=control_texts)
@example(subject="Lakeview\x00 Public\x07 Schools\x1b[2J")  # item 12: NUL, BEL, ESC
def test_control_characters_never_reach_a_header(subject: str) -> None:
    """Second line of defence behind workflow.text: a control character in a header's text is
    written as U+FFFD (a tab as a blank), never raw, and never as an encoded control."""
    data = build_message(row(subject=subject), MAIL_FROM).data

    headers = b"\r\n".join(header_lines(data))
    assert not re.search(rb"[\x00-\x1f\x7f]", headers.replace(b"\r\n", b""))
    decoded = str(parse(data)["Subject"])
    assert not re.search("[\x00-\x1f\x7f-\x9f]", decoded)
    expected = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", subject).replace("\t", " ")
    # Blanks around a header's value are not part of it (and rendering never leaves them).
    assert decoded.strip(" ") == expected.strip(" ")


def test_a_long_unicode_sender_name_is_folded_into_encoded_words() -> None:
    built = build_message(row(), "Bureau " + "é" * 400 + " <ecoles@mde.example>")

    assert max(len(line) for line in header_lines(built.data)) <= 78
    sender = parse(built.data)["From"].addresses[0]
    assert sender.addr_spec == built.sender == "ecoles@mde.example"
    # RFC 2047 6.2: the blanks between adjacent encoded words are not text; the stdlib's address
    # parser keeps them in a display name all the same.
    assert sender.display_name.replace(" ", "") == "Bureau" + "é" * 400


@settings(max_examples=200, deadline=None)
@given(address=st.emails())
@example(address="=?utf-8?q?x?=@b.example")  # refused: a reader would decode it
@example(address="o'brien+{pal}|x@" + "b" * 63 + ".example")
@example(address="x" * 64 + "@" + ".".join(["d" * 60] * 3) + ".example")
def test_every_address_normalize_email_accepts_is_carried_by_the_headers(address: str) -> None:
    """Item 6: what `contact add` stores can be written in To (never encoded) and in the key,
    and parses back as the same address without defects."""
    from hypothesis import assume

    from states.errors import BadInput
    from workflow.actors import normalize_email

    try:
        accepted = normalize_email(address)
    except BadInput:
        assume(False)
        return
    key = f"a1:plan_reminder:t1:{accepted}"
    data = build_message(row(recipient=accepted, idempotency_key=key), MAIL_FROM).data

    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    message = parse(data)
    assert message["To"] == accepted and message["To"].defects == ()
    assert message["To"].addresses[0].addr_spec == accepted
    assert "".join(str(message["X-PAL-Key"]).split()) == key


@pytest.mark.parametrize(
    "address", ["dañ@b.example", "x" * 3000 + "@b.example", "a\x00b@c.example"]
)
def test_an_address_smtp_cannot_carry_is_refused_by_the_writer(address: str) -> None:
    """Rows written before `contact add` checked addresses fail alone, with a reason."""
    with pytest.raises(ValueError, match="not an ASCII email address"):
        build_message(row(recipient=address), MAIL_FROM)


def test_an_identifier_is_never_cut_and_one_too_long_for_any_line_is_refused() -> None:
    """A key or Message-ID has no blank to fold at and must not change: it stays on one line of
    up to 998 characters; longer, the message is refused rather than refused by the server."""
    longest = "k" * (998 - len("X-PAL-Key: "))
    data = build_message(row(idempotency_key=longest), MAIL_FROM).data

    assert f"X-PAL-Key: {longest}".encode() in data.split(b"\r\n")
    assert parse(data)["X-PAL-Key"] == longest
    with pytest.raises(ValueError, match="lines hold 998"):
        build_message(row(idempotency_key=longest + "k"), MAIL_FROM)
