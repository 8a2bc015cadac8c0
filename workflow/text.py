"""Text that enters pal: names, labels and notes, checked once where they come in.

What a person types or a CSV holds ends up in the database, the audit log, `agreement show` and
the headers and bodies of notices. A control character (NUL, BEL, ESC, a line break...) has no
place in any of them: PostgreSQL refuses NUL in text, a terminal obeys ESC, and a line break
in a header starts a new one. Lone surrogates (bytes that were not UTF-8 on the command line)
cannot be stored or sent. Names are bounded so that a notice about them stays readable;
`notifications.mime` still folds and encodes whatever reaches a header, as a second line of
defence.
"""

from __future__ import annotations

import re

from states.errors import BadInput

NAME_MAX = 200  # district, school, ISD, authorizer and people's names
TEXT_MAX = 2000  # notes and the text an event takes (a cohort, a label, a reason)

# C0 and C1 controls and DEL (Unicode category Cc), the line and paragraph separators, and lone
# surrogates.
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMES = {
    0: "NUL", 7: "BEL", 8: "BS", 9: "tab", 10: "line feed", 13: "carriage return", 27: "ESC",
    127: "DEL", 0x2028: "line separator", 0x2029: "paragraph separator",
}  # fmt: skip


def check_text(raw: str, what: str, *, limit: int = NAME_MAX) -> str:
    """`raw` without surrounding blanks, or BadInput naming `what` and the problem."""
    value = raw.strip()
    bad = _REFUSED.search(value)
    if bad is not None:
        point = ord(bad.group())
        if 0xD800 <= point <= 0xDFFF:
            raise BadInput(f"{what} is not valid UTF-8 text")
        label = _NAMES.get(point, "control character")
        raise BadInput(
            f"{what} contains a control character (U+{point:04X}, {label}) "
            f"at position {bad.start() + 1}: only printable text is allowed"
        )
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value):,} characters long; the most allowed is {limit:,}")
    return value


def optional_text(raw: str | None, what: str, *, limit: int = NAME_MAX) -> str | None:
    """Like `check_text`, for text that may be left out: None or blank gives None."""
    if raw is None:
        return None
    return check_text(raw, what, limit=limit) or None


def quoted(raw: str, limit: int = 60) -> str:
    """`raw` for an error line: escaped (one line, no control characters), shortened when long."""
    if len(raw) <= limit:
        return repr(raw)
    return f"{raw[:limit]!r}... ({len(raw):,} characters)"
