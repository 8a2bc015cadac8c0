"""The MIME writer: whatever a notice holds, the stdlib parser reads back exactly that."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
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


# --- names, Reply-To, threads and the calendar attachment (issue 12) -----------------------------

# Display names as people are registered: words of any letters, digits, punctuation and symbols
# (quotes, commas, backslashes, angle brackets, `@`...), single blanks between them; some words
# longer than a line, some that look like encoded words.
display_names = st.lists(header_words, min_size=1, max_size=6).map(" ".join)
name_examples = [
    'Zoë "Zo" Ó Briain-Núñez, Jr.',
    "O'Hara, Renée (PhD)",
    'back\\slash "quoted, with comma"',
    "=?utf-8?q?Mallory?=",
    "<evil@attacker.example>",
    " ".join(["José Łukasz Müller-Ødegård"] * 4),
]
threads = st.builds(lambda kind, n: f"{kind}.{n}", st.sampled_from(["plan_due", "rga_due"]),
                    st.integers(1, 99))  # fmt: skip


def ics_file(summary: str) -> bytes:
    from datetime import date

    from notifications.calendar import Entry, ics
    from notifications.deadline_series import Series

    series = Series(3, "plan_due", 1, 2, date(2020, 3, 30), None)
    stamp = datetime(2020, 3, 2, 13, 0, tzinfo=UTC)
    return ics([Entry(series, summary)], domain="mde.example", stamp=stamp, mail_from=MAIL_FROM)


calendars = st.binary(max_size=3000) | st.builds(ics_file, header_texts)


def mailbox(data: bytes, field: str) -> tuple[str, str]:
    """The display name and address of header `field`, as the stdlib reads them.

    The name is decoded as RFC 2047 says, by `email.header.decode_header`: blanks between
    adjacent encoded words are not text (section 6.2). The stdlib's address parser keeps them
    (so does it reading back what its own generator wrote for a long name): it must read the
    same address, and the same name when the name takes at most one encoded word, else the same
    name but for those blanks."""
    [address] = parse(data)[field].addresses
    assert parse(data)[field].defects == ()
    lines = header_lines(data)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{field}: ".encode()))
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in b" \t"), None)
    value = b"".join(lines[start:end]).decode("ascii").removeprefix(f"{field}: ")
    phrase, _, bracketed = value.rpartition(" <")
    assert bracketed == f"{address.addr_spec}>"
    if "=?" in phrase:
        name = str(make_header(decode_header(phrase)))
    else:
        name = parseaddr(f"{phrase} <{address.addr_spec}>")[0]  # unquoted
    if phrase.count("=?") <= 1:
        assert address.display_name == name
    else:
        assert address.display_name.replace(" ", "") == name.replace(" ", "")
    return name, address.addr_spec


@settings(max_examples=300, deadline=None)
@given(
    to_name=display_names,
    reply_name=display_names | st.none(),
    thread=threads | st.none(),
    calendar=calendars | st.none(),
    text=bodies,
)
@example(to_name=name_examples[0], reply_name=name_examples[1], thread="plan_due.1",
         calendar=b"", text="x")  # fmt: skip
@example(to_name=name_examples[2], reply_name=name_examples[3], thread=None,
         calendar=ics_file("Due: the plan (Nørdby Schools)"), text="")  # fmt: skip
@example(to_name=name_examples[4], reply_name=name_examples[5], thread=None, calendar=None,
         text="")  # fmt: skip
def test_names_reply_to_threads_and_attachments_parse_back_unchanged_and_without_defects(
    to_name: str, reply_name: str | None, thread: str | None, calendar: bytes | None, text: str
) -> None:
    """To and Reply-To names of any text read back exactly (RFC 2047 where needed) with the
    address apart; In-Reply-To and References name the thread's root; a calendar file makes
    the message multipart/mixed with the alternative bodies first and the file read back byte
    for byte; nothing has a defect and no header line is longer than 78."""
    reply_to = None if reply_name is None else "liaison@mde.example"
    message_row = row(to_name=to_name, reply_to=reply_to, reply_to_name=reply_name,
                      thread=thread, agreement_id=3, calendar=calendar, text=text)  # fmt: skip
    built = build_message(message_row, MAIL_FROM)
    message = parse(built.data)

    assert mailbox(built.data, "To") == (to_name, "superintendent@lake.example")
    assert built.recipient == "superintendent@lake.example"
    if reply_name is None:
        assert message["Reply-To"] is None
    else:
        assert mailbox(built.data, "Reply-To") == (reply_name, "liaison@mde.example")
    root = f"<deadline-3-{thread}@pal.localhost>"
    assert message["In-Reply-To"] == (root if thread else None)
    assert message["References"] == (root if thread else None)
    assert message["Content-Language"] == "en"
    assert content(message, "plain") == text.replace("\r\n", "\n")
    if calendar is None:
        assert message.get_content_type() == "multipart/alternative"
    else:
        assert message.get_content_type() == "multipart/mixed"
        alternative, attachment = message.iter_parts()
        assert alternative.get_content_type() == "multipart/alternative"
        assert attachment.get_content_type() == "text/calendar"
        assert attachment.get_param("method") == "PUBLISH"
        assert attachment.get_filename() == "deadline.ics"
        assert attachment.get_payload(decode=True) == calendar
    assert message.defects == [] and all(p.defects == [] for p in message.walk())
    assert max(len(line) for line in header_lines(built.data)) <= 78
    assert max(len(line) for line in built.data.split(b"\r\n")) <= 998
    assert b"\n" not in built.data.replace(b"\r\n", b"")


def test_the_same_row_makes_the_same_bytes_with_a_calendar_and_names() -> None:
    """A retry is byte for byte the first attempt: nothing in the message comes from the clock
    or from chance."""
    values = {"to_name": "Zoë", "reply_to": "l@mde.example", "reply_to_name": "Lía",
              "thread": "plan_due.1", "agreement_id": 3,
              "calendar": ics_file("Due: x")}  # fmt: skip
    first = build_message(row(**values), MAIL_FROM)
    assert build_message(row(**values), MAIL_FROM) == first


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("to_name", "Jo\r\nBcc: everyone@example.com", "line break"),
        ("reply_to", "jöhn@mde.example", "not an ASCII email address"),
    ],
)
def test_a_name_or_reply_to_that_would_break_the_headers_is_refused(
    field: str, value: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        build_message(row(**{"reply_to_name": "Lía", field: value}), MAIL_FROM)
