"""One outbox row as a MIME message, byte for byte the same on every attempt.

Every notice has one shape: `multipart/alternative` with a text/plain and a text/html part, both
UTF-8 and quoted-printable (readable in a mail folder), and a fixed set of headers. The stdlib
`email` package builds that shape in about a millisecond (policy.default) or 0.3 ms (compat32),
longer than the SMTP conversation that carries it; written directly it takes a few dozen
microseconds. Headers that need it are still folded and encoded by `email.header`, and the tests
parse every message back with the stdlib parser.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from typing import Any

from config.settings import sender_address

KEY_HEADER = "X-PAL-Key"
CRLF = "\r\n"
MAX_LINE = 78  # RFC 5322: lines SHOULD be no longer than 78 characters...
MAX_UNFOLDED = 900  # ...and MUST be no longer than 998
QP_LINE = 76  # RFC 2045: encoded quoted-printable lines are no longer than 76 characters


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: envelope sender and recipient, and the bytes to send."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


def build_message(row: Any, mail_from: str) -> Outgoing:
    """The message for `row` (an Outbox, or a record with its columns), from `mail_from`.

    `mail_from` is a `Name <address>` or a bare address.

    Raises ValueError for what cannot become a valid message (a naive date, a non-ASCII
    recipient, a header that would break a line).
    """
    if row.created_at.tzinfo is None:
        raise ValueError(f"outbox {row.id}: created_at {row.created_at!r} is naive")
    if not row.recipient.isascii() or "@" not in row.recipient:
        raise ValueError(f"recipient {row.recipient!r} is not an ASCII email address")
    sender, from_line = _sender(mail_from)
    boundary = "=_pal_" + hashlib.sha256(row.message_id.encode()).hexdigest()[:32]
    headers = [
        ("To", row.recipient),
        ("Subject", row.subject),
        ("Message-ID", row.message_id),
        (KEY_HEADER, row.idempotency_key),
    ]
    lines = [
        from_line,
        *(_header(name, value) for name, value in headers),
        f"Date: {_date(row.created_at)}",
        # RFC 3834: an automated notice; asks vacation responders not to answer it.
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"',
    ]
    parts = (_part("plain", row.body_text), _part("html", row.body_html))
    # The CRLF before each delimiter belongs to the delimiter, not to the part (RFC 2046).
    body = "".join(f"--{boundary}{CRLF}{part}{CRLF}" for part in parts)
    text = CRLF.join(lines) + CRLF + CRLF + body + f"--{boundary}--{CRLF}"
    return Outgoing(sender, row.recipient, row.message_id, text.encode("ascii"))


@lru_cache(maxsize=256)
def _date(created_at: datetime) -> str:
    """RFC 5322 date; cached, as every recipient of a notice shares its `created_at`."""
    return format_datetime(created_at)


@lru_cache(maxsize=8)
def _sender(mail_from: str) -> tuple[str, str]:
    """(envelope address, the whole From header line) for a configured `PAL_MAIL_FROM`."""
    address = sender_address(mail_from)
    name = parseaddr(mail_from)[0]
    # formataddr encodes a non-ASCII display name itself (RFC 2047) and leaves the address alone.
    line = f"From: {formataddr((name, address), charset='utf-8')}"
    return address, line if len(line) <= MAX_LINE else _fold(line)


def _header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} header value contains a line break: {value!r}")
    # Non-ASCII text, and ASCII that a reader would decode as an encoded word, go through
    # email.header (RFC 2047).
    if not value.isascii() or "=?" in value:
        folded = Header(value, "utf-8", maxlinelen=MAX_LINE, header_name=name).encode(linesep=CRLF)
        return f"{name}: {folded}"
    if len(name) + 2 + len(value) <= MAX_LINE or _unfoldable(value):
        return f"{name}: {value}"
    return _fold(f"{name}: {value}")


def _fold(line: str) -> str:
    """Fold an ASCII header line at spaces so that each piece fits in MAX_LINE where it can."""
    pieces: list[str] = []
    current = ""
    for word in line.split(" "):
        # Break only before a word: a continuation line of nothing but blanks is not allowed.
        if current and word and len(current) + 1 + len(word) > MAX_LINE:
            pieces.append(current)
            current = " " + word
        else:
            current = f"{current} {word}" if current else word
    pieces.append(current)
    return CRLF.join(pieces)


def _unfoldable(value: str) -> bool:
    """One long word (an idempotency key): folding could only move it to a line of its own."""
    return " " not in value and "\t" not in value and len(value) <= MAX_UNFOLDED


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
