"""A message's text and HTML bodies, stored compactly and read back exactly.

The recipients of one notice get bodies that differ in a few words (the greeting), so storing
each rendered body in full stores the same kilobytes many times. Instead, the first recipient's
body is the notice's *reference*, stored once (zlib-compressed, in `mail_body`, keyed by its
digest), and each outbox row stores a *delta* against it: a *splice* (the reference's text and
HTML with one stretch of each replaced: the greeting, as a rule), or, for a body that differs
in more places, its own body compressed with the reference as zlib's preset dictionary. A delta
is complete on its own given the reference: every row may say anything (templates stay free to
differ per recipient), and one that says nearly what the reference says costs a few dozen
bytes.

A body is first *packed*: the UTF-8 text's length (4 bytes, big-endian), the UTF-8 text, the
UTF-8 HTML. Each stored blob starts with a format byte, so that a later format can be read beside
this one. The zlib streams keep their checksum (and the dictionary's), and a splice the
checksums of its reference and of its result: a delta read against the wrong reference, or a
damaged blob, is an error, never a different message.

The format itself is pure (no database); `read` and `store` at the end are the few lines that
read stored bodies back for the CLI and the tests, and store one notice's bodies.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import Connection, Insert, bindparam, select
from sqlalchemy.orm import Session

from storage import tables

# The format byte of a zlib stream (RFC 1950, with its checksum): every reference, and a delta
# that differs from its reference in more than a few places.
FORMAT = b"\x01"
# The format byte of a splice: a delta that keeps the reference's text and HTML but for one
# stretch of each (the greeting, as a rule), with the checksums of the reference it was made
# against and of the body it makes. Making one costs a tenth of a zlib delta: the sweep makes
# tens of thousands.
SPLICE = b"\x02"
# A body whose changed stretches add up to more than this is stored as a zlib delta instead.
SPLICE_LIMIT = 512
_CHECKSUMS = struct.Struct(">II")
_CUT = struct.Struct(">III")  # bytes kept from the start, from the end, and the new stretch's
# zlib's fastest level: the reference as dictionary already gives the long matches that make a
# delta small, and the sweep compresses tens of thousands of bodies in one pass.
LEVEL = 1
# A 16 KB window holds a whole body and its reference (a notice's body is 2 to 4 KB), and with
# memLevel 6 zlib's state stays under 100 KB: its default state (32 KB window, memLevel 8) is
# large enough that allocating it for every body costs ten times the compressing.
WBITS = 14
MEM_LEVEL = 6
DIGEST_BYTES = 16
_LENGTH = struct.Struct(">I")


class Body(NamedTuple):
    text: str
    html: str


class BodyFormatError(ValueError):
    """A stored blob that is not a body this code wrote (an unknown format, or damaged)."""


def pack(text: str, html: str) -> bytes:
    """The two bodies as one byte string, `unpacked` back exactly."""
    encoded = text.encode("utf-8")
    return _LENGTH.pack(len(encoded)) + encoded + html.encode("utf-8")


def unpacked(packed: bytes) -> Body:
    text, html = _halves(packed)
    return Body(text.decode("utf-8"), html.decode("utf-8"))


def digest(reference_packed: bytes) -> bytes:
    """The key of a reference body in `mail_body`."""
    return hashlib.sha256(reference_packed).digest()[:DIGEST_BYTES]


def reference(packed: bytes) -> bytes:
    """A packed body as stored in `mail_body`: compressed, on its own."""
    return _deflate(packed)


def delta(
    reference_packed: bytes,
    packed: bytes,
    frames: Sequence[tuple[int, int]] | None = None,
) -> bytes:
    """A packed body as stored in an outbox row: what it changes of its notice's reference (a
    splice), or, where it changes too much for that, compressed against it.

    `frames`, when the renderer knows them: for the text and the HTML, how many bytes at the
    start and at the end the notice's bodies share. They spare searching for the changed
    stretch, and are checked (a wrong one is searched around as if not given)."""
    halves = _halves(reference_packed)
    if packed == reference_packed:  # the reference's own recipient: nothing to search for
        cuts = [(len(half), 0, b"") for half in halves]
    else:
        given: Sequence[tuple[int, int] | None] = frames or (None, None)
        cuts = [
            _cut(ours, theirs, frame)
            for ours, theirs, frame in zip(halves, _halves(packed), given, strict=True)
        ]
    if sum(len(stretch) for _, _, stretch in cuts) > SPLICE_LIMIT:
        return _deflate(packed, reference_packed)
    made_from = zlib.crc32(reference_packed)
    makes = made_from if packed is reference_packed else zlib.crc32(packed)
    checksums = _CHECKSUMS.pack(made_from, makes)
    return (
        SPLICE
        + checksums
        + b"".join(_CUT.pack(kept, tail, len(stretch)) + stretch for kept, tail, stretch in cuts)
    )


def reference_packed(stored_reference: bytes) -> bytes:
    """A `mail_body` blob back to the packed body (the dictionary its deltas were made with)."""
    return _inflate(_payload(stored_reference))


def unpack_delta(reference_packed_body: bytes, stored_delta: bytes) -> Body:
    """An outbox row's body, given its reference already decompressed (`reference_packed`):
    a delivery pass decompresses each reference once for all its rows."""
    if stored_delta[:1] == SPLICE:
        return unpacked(_spliced(reference_packed_body, stored_delta))
    return unpacked(_inflate(_payload(stored_delta), reference_packed_body))


def _halves(packed: bytes) -> tuple[bytes, bytes]:
    """A packed body's UTF-8 text and HTML, as stored (unpacking checks they decode)."""
    if len(packed) < _LENGTH.size:
        raise BodyFormatError("a packed body shorter than its length prefix")
    (length,) = _LENGTH.unpack_from(packed)
    end = _LENGTH.size + length
    if end > len(packed):
        raise BodyFormatError("a packed body shorter than its text's length")
    return packed[_LENGTH.size : end], packed[end:]


def _cut(
    reference: bytes, own: bytes, frame: tuple[int, int] | None = None
) -> tuple[int, int, bytes]:
    """How `own` is made from `reference`: its first `kept` bytes, a new stretch, and its last
    `tail` bytes (the longest such that they do not overlap). A `frame` that holds is where the
    search starts: the parts between a notice's first and last per-recipient piece may still be
    the same for this recipient (a line only some recipients get)."""
    least_kept = least_tail = 0
    if frame is not None:
        kept, tail = frame
        fits = kept + tail <= min(len(reference), len(own))
        if (
            fits
            and reference[:kept] == own[:kept]
            and reference[len(reference) - tail :] == own[len(own) - tail :]
        ):
            least_kept, least_tail = kept, tail
    shortest = min(len(reference), len(own))
    kept = _common(reference, own, shortest - least_tail, from_end=False, least=least_kept)
    tail = _common(reference, own, shortest - kept, from_end=True, least=least_tail)
    return kept, tail, own[kept : len(own) - tail]


def _common(a: bytes, b: bytes, most: int, *, from_end: bool, least: int = 0) -> int:
    """The length of the longest common start (or end) of `a` and `b`, at most `most`, known
    to be at least `least`: a binary search of slice comparisons, each done in C."""
    low, high = min(least, most), most
    while low < high:
        middle = (low + high + 1) // 2
        same = (
            a[len(a) - middle :] == b[len(b) - middle :] if from_end else a[:middle] == b[:middle]
        )
        if same:
            low = middle
        else:
            high = middle - 1
    return low


def _spliced(reference_packed_body: bytes, stored: bytes) -> bytes:
    """The packed body a splice makes of its reference; an error if the reference is not the
    one it was made against, the splice is damaged, or the result is not what was stored."""
    try:
        made_from, makes = _CHECKSUMS.unpack_from(stored, 1)
        if zlib.crc32(reference_packed_body) != made_from:
            raise BodyFormatError("a stored body read against another reference")
        offset = 1 + _CHECKSUMS.size
        halves = []
        for reference in _halves(reference_packed_body):
            kept, tail, length = _CUT.unpack_from(stored, offset)
            offset += _CUT.size
            stretch = stored[offset : offset + length]
            offset += length
            if len(stretch) != length or kept + tail > len(reference):
                raise BodyFormatError("a stored body is cut short")
            halves.append(reference[:kept] + stretch + reference[len(reference) - tail :])
    except struct.error as exc:
        raise BodyFormatError("a stored body is cut short") from exc
    if offset != len(stored):
        raise BodyFormatError("a stored body has bytes after its end")
    packed = _LENGTH.pack(len(halves[0])) + halves[0] + halves[1]
    if zlib.crc32(packed) != makes:
        raise BodyFormatError("a stored body does not make what was stored")
    return packed


def unpack(stored_reference: bytes, stored_delta: bytes) -> Body:
    """An outbox row's text and HTML bodies from its stored blobs, exactly as rendered."""
    return unpack_delta(reference_packed(stored_reference), stored_delta)


def _deflate(data: bytes, dictionary: bytes | None = None) -> bytes:
    if dictionary is None:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, WBITS, MEM_LEVEL)
    else:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, WBITS, MEM_LEVEL, zdict=dictionary)
    return FORMAT + compressor.compress(data) + compressor.flush()


def _payload(blob: bytes) -> bytes:
    if blob[:1] != FORMAT:
        raise BodyFormatError(f"unknown stored body format {blob[:1]!r}")
    return blob[1:]


def _inflate(data: bytes, dictionary: bytes | None = None) -> bytes:
    inflater = zlib.decompressobj() if dictionary is None else zlib.decompressobj(zdict=dictionary)
    try:
        out = inflater.decompress(data) + inflater.flush()
    except zlib.error as exc:
        raise BodyFormatError(f"a stored body does not decompress: {exc}") from exc
    if not inflater.eof or inflater.unused_data:
        raise BodyFormatError("a stored body is cut short or has bytes after its end")
    return out


# --- in the database ---------------------------------------------------------------------------


class Message(NamedTuple):
    subject: str
    text: str
    html: str


# Ids looked up per query: well under SQLite's limit on bound parameters.
_CHUNK = 900
_READ = (
    select(
        tables.OUTBOX.c.id,
        tables.OUTBOX.c.subject,
        tables.OUTBOX.c.body,
        tables.MAIL_BODY.c.content,
    )
    .join(tables.MAIL_BODY, tables.MAIL_BODY.c.digest == tables.OUTBOX.c.body_ref)
    .where(tables.OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
)
_INSERT_IF_ABSENT: dict[str, Insert] = {}


def read(connection: Connection | Session, outbox_ids: Iterable[int]) -> dict[int, Message]:
    """The subject and bodies of each outbox row asked for, exactly as rendered, in the order
    asked (an id with no row is left out)."""
    ids = list(outbox_ids)
    found: dict[int, Message] = {}
    references: dict[bytes, bytes] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = connection.execute(_READ, {"ids": ids[start : start + _CHUNK]})
        for row_id, subject, body, content in rows:
            stored = bytes(content)
            if stored not in references:
                references[stored] = reference_packed(stored)
            found[row_id] = Message(subject, *unpack_delta(references[stored], bytes(body)))
    return {row_id: found[row_id] for row_id in ids if row_id in found}


def store(connection: Connection | Session, messages: Sequence[Body]) -> list[tuple[bytes, bytes]]:
    """Store the reference of one notice's bodies (the first of `messages`) unless it is there;
    returns each message's `(body_ref, body)` for its outbox row."""
    if not messages:
        return []
    packed = [pack(text, html) for text, html in messages]
    ref = digest(packed[0])
    statement = insert_if_absent(_dialect(connection))
    connection.execute(statement, [{"digest": ref, "content": reference(packed[0])}])
    return [(ref, delta(packed[0], own)) for own in packed]


def insert_if_absent(dialect: str) -> Insert:
    """The INSERT of reference bodies (`digest`, `content`) that leaves one already stored
    alone: notices whose first recipients got the same body share it."""
    found = _INSERT_IF_ABSENT.get(dialect)
    if found is None:
        # Imported here: the PostgreSQL dialect takes 50 ms to import, SQLite users included.
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            found = postgresql.insert(tables.MAIL_BODY).on_conflict_do_nothing()
        elif dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            found = sqlite.insert(tables.MAIL_BODY).on_conflict_do_nothing()
        else:
            raise NotImplementedError(f"no insert-if-absent on {dialect}")
        _INSERT_IF_ABSENT[dialect] = found
    return found


def _dialect(connection: Connection | Session) -> str:
    bind = connection.connection() if isinstance(connection, Session) else connection
    return bind.dialect.name
