"""One outbox row as a MIME message, byte for byte the same on every attempt.

Every notice has one shape: `multipart/alternative` with a text/plain and a text/html part, both
UTF-8 and quoted-printable (readable in a mail folder), and a fixed set of headers; a notice with a
calendar file (notifications.calendar) wraps that in `multipart/mixed`, the file a base64
`text/calendar` attachment. The stdlib `email` package builds that shape in about a millisecond
(policy.default) or 0.3 ms (compat32),
longer than the SMTP conversation that carries it; written directly it takes a few dozen
microseconds. Headers that need it are still folded and encoded by `email.header`, and the tests
parse every message back with the stdlib parser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from typing import Any

from config.settings import sender_address
from notifications.calendar import FILENAME, METHOD
from notifications.meeting_invites import FILENAME as INVITE_FILENAME
from notifications.meeting_invites import METHODS as INVITE_METHODS
from notifications.threads import root_id

KEY_HEADER = "X-PAL-Key"
CRLF = "\r\n"
MAX_LINE = 78  # RFC 5322: lines SHOULD be no longer than 78 characters...
MAX_HARD = 998  # ...and MUST be no longer than 998
MAX_ADDRESS = 254  # RFC 5321: a forward-path holds at most 256 octets with its angle brackets
QP_LINE = 76  # RFC 2045: encoded quoted-printable lines are no longer than 76 characters
BASE64_LINE = 76  # RFC 2045: encoded base64 lines are no longer than 76 characters too
# The language of every notice's words (RFC 3282).
LANGUAGE = "en"
# Free text a reader sees: a word too long for a line is carried in RFC 2047 encoded words.
TEXT_HEADERS = frozenset({"Subject"})
# Control characters other than CR and LF (refused: a line break would start a new header).
# Text entering pal is refused with them (workflow.text); this is the second line of defence for
# what got in before, or by another way: a tab becomes a blank, anything else U+FFFD.
_CONTROL = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: envelope sender and recipient, and the bytes to send."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


def build_message(row: Any, mail_from: str) -> Outgoing:
    """The message for `row`, from `mail_from`: a record with the outbox's columns and the
    row's bodies as `text` and `html` (stored compressed: `notifications.bodies.read` gives
    them, and the delivery pass's claim), and its calendar file as `calendar` (bytes, or None).

    `mail_from` is a `Name <address>` or a bare address. The columns a row queued before
    migration 0012 lacks (`to_name`, `reply_to`, `reply_to_name`, `thread`, and `calendar`) may
    be None or absent: no name, no Reply-To, no thread, no attachment.

    Raises ValueError for what cannot become a valid message (a naive date, a non-ASCII
    recipient, a header that would break a line).
    """
    if row.created_at.tzinfo is None:
        raise ValueError(f"outbox {row.id}: created_at {row.created_at!r} is naive")
    _check_address("recipient", row.recipient)
    sender, from_line = _sender(mail_from)
    digest = hashlib.sha256(row.message_id.encode()).hexdigest()
    boundary = "=_pal_" + digest[:32]
    headers = [
        ("Subject", row.subject),
        ("Message-ID", row.message_id),
        (KEY_HEADER, row.idempotency_key),
    ]
    thread = getattr(row, "thread", None)
    if thread:
        # One message answers the thread's root (notifications.threads): its only parent.
        root = root_id(getattr(row, "agreement_id", None), thread, row.message_id)
        headers += [("In-Reply-To", root), ("References", root)]
    reply_to = getattr(row, "reply_to", None)
    lines = [
        from_line,
        _mailbox("To", getattr(row, "to_name", None), row.recipient),
        *(
            [_mailbox("Reply-To", getattr(row, "reply_to_name", None), reply_to)]
            if reply_to
            else []
        ),
        *(_header(name, value) for name, value in headers),
        f"Date: {_date(row.created_at)}",
        # RFC 3834: an automated notice; asks vacation responders not to answer it.
        "Auto-Submitted: auto-generated",
        f"Content-Language: {LANGUAGE}",
        "MIME-Version: 1.0",
    ]
    parts = (_part("plain", row.text), _part("html", row.html))
    alternative = _multipart(boundary, parts)
    calendar = getattr(row, "calendar", None)
    if calendar is None:
        lines.append(f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"')
        body = alternative
    else:
        mixed = "=_pal_mixed_" + digest[32:64]
        inner = f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}{CRLF}'
        lines.append(f'Content-Type: multipart/mixed;{CRLF} boundary="{mixed}"')
        body = _multipart(mixed, (inner + alternative, _attachment(calendar)))
    text = CRLF.join(lines) + CRLF + CRLF + body
    return Outgoing(sender, row.recipient, row.message_id, text.encode("ascii"))


def _multipart(boundary: str, parts: tuple[str, ...]) -> str:
    """The parts between their delimiters, and the closing delimiter."""
    # The CRLF before each delimiter belongs to the delimiter, not to the part (RFC 2046).
    return "".join(f"--{boundary}{CRLF}{part}{CRLF}" for part in parts) + f"--{boundary}--{CRLF}"


def _attachment(calendar: bytes) -> str:
    """The calendar file as a base64 part (its bytes go through unchanged: RFC 5545 lines end
    in CRLF and may carry UTF-8)."""
    encoded = base64.b64encode(calendar).decode("ascii")
    lines = [encoded[i : i + BASE64_LINE] for i in range(0, len(encoded), BASE64_LINE)]
    # A meeting's invitation or cancellation says its own method (notifications.meeting_invites).
    method, filename = METHOD, FILENAME
    for invited in INVITE_METHODS:
        if b"\r\nMETHOD:" + invited.encode() + b"\r\n" in calendar:
            method, filename = invited, INVITE_FILENAME
    return (
        f'Content-Type: text/calendar; charset="utf-8"; method={method};{CRLF}'
        f' name="{filename}"{CRLF}'
        f'Content-Disposition: attachment; filename="{filename}"{CRLF}'
        f"Content-Transfer-Encoding: base64{CRLF}{CRLF}" + CRLF.join(lines)
    )


def _check_address(what: str, address: str) -> None:
    if (
        not address.isascii()
        or "@" not in address
        or len(address) > MAX_ADDRESS
        or _CONTROL.search(address)
    ):
        raise ValueError(f"{what} {address!r} is not an ASCII email address")


def _mailbox(field: str, name: str | None, address: str) -> str:
    """`To: Name <address>` (or the bare address when there is no name), the name encoded
    (RFC 2047) when it needs to be; an address is never encoded (RFC 2047 section 5)."""
    if not name:
        _check_address(field, address)
        return f"{field}: {address}"
    if "\r" in name or "\n" in name:
        raise ValueError(f"{field} display name contains a line break: {name!r}")
    _check_address(field, address)
    return _named_mailbox(field, name, address)


@lru_cache(maxsize=256)
def _date(created_at: datetime) -> str:
    """RFC 5322 date; cached, as every recipient of a notice shares its `created_at`."""
    return format_datetime(created_at)


@lru_cache(maxsize=8)
def _sender(mail_from: str) -> tuple[str, str]:
    """(envelope address, the whole From header line) for a configured `PAL_MAIL_FROM`."""
    address = sender_address(mail_from)
    name = parseaddr(mail_from)[0]
    return address, _named_mailbox("From", name, address)


@lru_cache(maxsize=1024)
def _named_mailbox(field: str, name: str, address: str) -> str:
    """The header line of a mailbox with a display name, folded into lines of 78 characters
    (cached: a notice goes to the same few people again and again)."""
    name = _without_controls(name)
    if name.isascii() and "=?" not in name:
        # formataddr quotes a name with specials (a comma, a quote) and leaves the address alone.
        line = f"{field}: {formataddr((name, address))}"
        if len(line) <= MAX_LINE:
            return line
        pieces = _fold(line)
        if max(map(len, pieces)) <= MAX_LINE:
            return CRLF.join(pieces)
    # Non-ASCII, a word too long for a line, or text a reader would take for an encoded word:
    # the name as encoded words (RFC 2047) that each fit, the address after them.
    encoded = Header(name, "utf-8", maxlinelen=MAX_LINE, header_name=field).encode(linesep=CRLF)
    last = encoded.rpartition(CRLF)[2]
    start = len(field) + 2 if last == encoded else 0
    if start + len(last) + len(address) + 3 <= MAX_LINE:
        return f"{field}: {encoded} <{address}>"
    return f"{field}: {encoded}{CRLF} <{address}>"


def _header(name: str, value: str) -> str:
    """`Name: value` folded so that no line is longer than 998 characters, nor 78 where it can.

    Free text (TEXT_HEADERS) with a word too long for a line is encoded (RFC 2047), in pieces
    that fit; an identifier (a Message-ID, a key) is never cut, and one over 998 characters is
    refused (ValueError).
    """
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} header value contains a line break: {value!r}")
    value = _without_controls(value)
    line = f"{name}: {value}"
    # Non-ASCII text, and ASCII that a reader would decode as an encoded word, go through
    # email.header (RFC 2047).
    if value.isascii() and "=?" not in value:
        if len(line) <= MAX_LINE:
            return line
        pieces = _fold(line)
        longest = max(map(len, pieces))
        if longest <= MAX_LINE or (name not in TEXT_HEADERS and longest <= MAX_HARD):
            return CRLF.join(pieces)
        if name not in TEXT_HEADERS:
            raise ValueError(f"{name} header has a word of {longest} characters; lines hold 998")
    folded = Header(value, "utf-8", maxlinelen=MAX_LINE, header_name=name).encode(linesep=CRLF)
    return f"{name}: {folded}"


def _without_controls(value: str) -> str:
    if _CONTROL.search(value) is None:
        return value
    return _CONTROL.sub(lambda m: " " if m.group() == "\t" else "\ufffd", value)


def _fold(line: str) -> list[str]:
    """An ASCII header line folded at spaces: pieces that fit in MAX_LINE where they can.

    The field name keeps the value's first word on its line (a value starting on a line of its
    own is legal, but not every reader takes it).
    """
    name, _, value = line.partition(" ")
    pieces: list[str] = []
    current = name
    started = False
    for word in value.split(" "):
        # Break only before a word: a continuation line of nothing but blanks is not allowed.
        if started and word and len(current) + 1 + len(word) > MAX_LINE:
            pieces.append(current)
            current = " " + word
        else:
            current = f"{current} {word}"
        started = started or bool(word)
    pieces.append(current)
    return pieces


def _part(subtype: str, content: str) -> str:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}{quoted_printable(content)}"
    )


def quoted_printable(content: str) -> str:
    """`content` as UTF-8 quoted-printable lines of at most 76 characters, joined by CRLF.

    Line ends are normalised: CRLF and LF both become a hard line break (CRLF); a lone CR is
    data, written `=0D`.
    """
    # Encoded with LF line ends, then every LF (hard or soft break) becomes CRLF: b2a_qp ends its
    # soft breaks like the data's first line, so mixed endings would otherwise come out mixed.
    normalised = content.replace("\r\n", "\n").encode("utf-8")
    if b"\r" in normalised:
        # A lone CR (it can come in with a name or an error text) must not reach the wire bare,
        # and text mode passes it through: encode line by line in binary mode, CR as =0D.
        quoted = b"\n".join(binascii.b2a_qp(line, istext=False) for line in normalised.split(b"\n"))
    else:
        quoted = binascii.b2a_qp(normalised, istext=True)
    lines = quoted.decode("ascii").split("\n")
    # b2a_qp keeps to 76 characters except when it escapes a blank ending a line it has already
    # filled ('x' * 74 + ' \n' comes out 77 characters long): any longer line is broken again.
    if max(map(len, lines)) > QP_LINE:
        lines = [piece for line in lines for piece in _soft_breaks(line)]
    return CRLF.join(lines)


def _soft_breaks(line: str) -> list[str]:
    """An encoded line as lines of at most QP_LINE characters joined by soft breaks (`=`).

    In encoded text every `=` starts an escape (`=XX`) or is a soft break ending the line, so a
    break before column QP_LINE splits no escape unless one starts at one of the two columns
    before it; then the break goes before that escape.
    """
    pieces = []
    while len(line) > QP_LINE:
        cut = QP_LINE - 1  # room for the `=`
        escape = line.rfind("=", cut - 2, cut)
        if escape != -1:
            cut = escape
        pieces.append(line[:cut] + "=")
        line = line[cut:]
    pieces.append(line)
    return pieces
