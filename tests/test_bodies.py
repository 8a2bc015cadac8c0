"""Mail bodies stored once per notice (notifications.bodies): every message reads back exactly."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import DIRECTOR, LIAISON, Pal, execute, fire, signed_agreement, with_bodies
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notifications import bodies, render
from storage.db import make_engine, transaction

# Any text UTF-8 can carry (hypothesis leaves out lone surrogates): NUL, controls, any script.
texts = st.text(max_size=3000)
# A body and one like it (a greeting changed), as one notice's recipients get.
similar = st.builds(
    lambda body, name: (f"Dear {name},\n\n{body}", f"<p>Dear {name},</p>\n{body}"),
    texts,
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(text=texts, html=texts)
@example(text="", html="")
@example(text="\x00", html="\x00\x00")
@example(text="é" * 5000, html="")
def test_a_body_packs_and_unpacks_exactly(text: str, html: str) -> None:
    """Any text and HTML (NUL, empty, non-ASCII) come back byte for byte from their packing."""
    assert bodies.unpacked(bodies.pack(text, html)) == (text, html)


@settings(max_examples=300, deadline=None)
@given(text=texts, html=texts)
def test_the_reference_itself_reads_back_through_its_delta(text: str, html: str) -> None:
    """The first recipient's body, the notice's reference, reads back from its own delta."""
    packed = bodies.pack(text, html)

    stored = bodies.reference(packed), bodies.delta(packed, packed)

    assert bodies.unpack(*stored) == (text, html)


@settings(max_examples=300, deadline=None)
@given(first=similar | st.tuples(texts, texts), other=similar | st.tuples(texts, texts))
def test_any_body_reads_back_through_a_delta_against_another(
    first: tuple[str, str], other: tuple[str, str]
) -> None:
    """Another recipient's body, whatever it says, reads back from its delta and the reference."""
    reference = bodies.pack(*first)

    stored = bodies.reference(reference), bodies.delta(reference, bodies.pack(*other))

    assert bodies.unpack(*stored) == other


def test_a_body_like_the_reference_costs_a_few_dozen_bytes() -> None:
    """A body that differs from the reference in its greeting is stored in well under 100
    bytes, the reference itself compressed."""
    paragraph = "The partnership plan for Lake District is due on Monday, March 2, 2020. " * 30
    first = bodies.pack(f"Dear Jo,\n{paragraph}", f"<p>Dear Jo,</p><p>{paragraph}</p>")
    other = bodies.pack(f"Dear Sam,\n{paragraph}", f"<p>Dear Sam,</p><p>{paragraph}</p>")

    assert len(bodies.delta(first, other)) < 100
    assert len(bodies.reference(first)) < len(first) / 4


def test_a_delta_read_against_the_wrong_reference_is_an_error() -> None:
    """A delta is never read back as a different message: the wrong reference, a damaged blob
    or an unknown format is refused."""
    reference, wrong = bodies.pack("Dear Jo,", "<p>Jo</p>"), bodies.pack("Dear Sam,", "<p>Sam</p>")
    delta = bodies.delta(reference, bodies.pack("Dear Kim,", "<p>Kim</p>"))

    for stored_reference, stored_delta in (
        (bodies.reference(wrong), delta),
        (bodies.reference(reference), delta[:-3]),
        (bodies.reference(reference), delta + b"x"),
        (b"\x7f" + bodies.reference(reference)[1:], delta),
        (bodies.reference(reference), b"\x7f" + delta[1:]),
    ):
        with pytest.raises(bodies.BodyFormatError):
            bodies.unpack(stored_reference, stored_delta)


def test_a_greeting_changed_is_a_splice_and_a_body_changed_throughout_a_zlib_delta() -> None:
    """A body that changes one stretch of its reference's text and HTML is stored as a splice;
    one that changes more than SPLICE_LIMIT bytes as a zlib delta; both read back exactly, and
    neither reads against another reference."""
    paragraph = "The partnership plan for Lake District is due on Monday, March 2, 2020. " * 30
    reference = bodies.pack(f"Dear Jo,\n{paragraph}", f"<p>Dear Jo,</p><p>{paragraph}</p>")
    greeting = ("Dear Sam Lee,\n" + paragraph, f"<p>Dear Sam Lee,</p><p>{paragraph}</p>")
    throughout = (paragraph.replace("a", "o"), paragraph.upper())
    wrong = bodies.reference(bodies.pack("Dear Jo,", paragraph))

    for body, format_byte in ((greeting, bodies.SPLICE), (throughout, bodies.FORMAT)):
        delta = bodies.delta(reference, bodies.pack(*body))
        assert delta[:1] == format_byte
        assert bodies.unpack(bodies.reference(reference), delta) == body
        with pytest.raises(bodies.BodyFormatError):
            bodies.unpack(wrong, delta)


def test_a_greeting_changed_is_a_splice_even_when_the_renderers_frame_is_wide() -> None:
    """The renderer's frame ends at a notice's last per-recipient piece (the contact block), far
    from the greeting: a body that differs from the reference in its greeting alone is still a
    small splice, the frame being where the search starts; it reads back exactly."""
    paragraph = "The partnership plan for Lake District is due on Monday, March 2, 2020. " * 30
    text = f"Dear Jo,\n{paragraph}\nContact: Lee"
    reference = bodies.pack(text, f"<p>Dear Jo,</p><p>{paragraph}</p>")
    own = (
        "Dear Sam Lee,\n" + paragraph + "\nContact: Lee",
        f"<p>Dear Sam Lee,</p><p>{paragraph}</p>",
    )
    frames = ((5, 3), (8, 4))  # what every recipient shares: the start and the very end

    delta = bodies.delta(reference, bodies.pack(*own), frames)

    assert delta[:1] == bodies.SPLICE and len(delta) < 64
    assert bodies.unpack(bodies.reference(reference), delta) == own


# --- in the database ---------------------------------------------------------------------------


def test_a_notice_to_four_people_stores_its_body_once_and_four_small_deltas(
    seeded: Pal, rendered: list[render.Rendered]
) -> None:
    """The notice that a Review of Goal Attainment opened, to four people: one mail_body row,
    four small deltas (about a hundred bytes for a district reader; a few hundred for the
    liaison, whose message has the line for PAL staff and not the liaison's contact line), and
    each message reads back exactly as rendered."""
    agreement = signed_agreement(seeded)
    rendered.clear()

    fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")

    sql = "SELECT id, subject FROM outbox WHERE notice = 'review_opened' AND recipient LIKE '%@%'"
    rows = with_bodies(seeded.db_url, sql + " ORDER BY id")
    assert len(rows) == 4
    assert [(r.subject, r.body_text, r.body_html) for r in rows] == [
        (m.subject, m.text, m.html) for m in rendered
    ]
    assert len({r.body_text for r in rows}) == 4  # each greets its own reader
    [(references,)] = execute(
        seeded.db_url,
        "SELECT count(DISTINCT body_ref) FROM outbox WHERE notice = 'review_opened'"
        " AND recipient LIKE '%@%'",
    )
    assert references == 1
    [stored] = execute(
        seeded.db_url,
        "SELECT content FROM mail_body WHERE digest = "
        f"(SELECT body_ref FROM outbox WHERE id = {rows[0].id})",
    )
    deltas = execute(seeded.db_url, sql.replace("id, subject", "recipient, body"))
    full = len(bodies.pack(rows[0].body_text, rows[0].body_html))
    assert len(stored.content) < full / 2
    assert full > 2000
    sizes = {delta.recipient: len(delta.body) for delta in deltas}
    assert all(size < full / 16 for to, size in sizes.items() if to != LIAISON), sizes
    assert sizes[LIAISON] < full / 8, sizes


def test_a_notice_enqueued_twice_stores_nothing_twice(seeded: Pal) -> None:
    """Two notices whose first recipient got the same body share one stored reference."""
    engine = make_engine(seeded.db_url)
    try:
        with transaction(engine) as session:
            first = bodies.store(session, [bodies.Body("Dear Jo,", "<p>Dear Jo,</p>")])
            again = bodies.store(session, [bodies.Body("Dear Jo,", "<p>Dear Jo,</p>")] * 2)
    finally:
        engine.dispose()
    assert first[0][0] == again[0][0] == again[1][0]
    [(count,)] = execute(seeded.db_url, "SELECT count(*) FROM mail_body")
    assert count == 1


@settings(max_examples=300, deadline=None)
@given(
    first=similar | st.tuples(texts, texts),
    other=similar | st.tuples(texts, texts),
    frames=st.tuples(
        st.tuples(st.integers(0, 4000), st.integers(0, 4000)),
        st.tuples(st.integers(0, 4000), st.integers(0, 4000)),
    ),
)
def test_frames_given_right_or_wrong_never_change_what_reads_back(
    first: tuple[str, str], other: tuple[str, str], frames: Any
) -> None:
    """The renderer's frames only spare a search: any frames, even wrong ones, give a delta
    that reads back exactly the body given."""
    reference = bodies.pack(*first)

    stored = bodies.reference(reference), bodies.delta(reference, bodies.pack(*other), frames)

    assert bodies.unpack(*stored) == other


def _common_by_definition(a: bytes, b: bytes, most: int, *, from_end: bool) -> int:
    """The longest common start (or end) of `a` and `b`, at most `most`: byte by byte."""
    if from_end:
        a, b = a[::-1], b[::-1]
    length = 0
    while length < most and a[length] == b[length]:
        length += 1
    return length


# Two byte strings alike in places: a shared start and end around a changed middle.
alike = st.builds(
    lambda start, ours, theirs, end: (start + ours + end, start + theirs + end),
    st.binary(max_size=600),
    st.binary(max_size=40),
    st.binary(max_size=40),
    st.binary(max_size=600),
)


@settings(max_examples=500, deadline=None)
@given(pair=alike, from_end=st.booleans(), cap=st.integers(0, 2000), hint=st.integers(0, 2000))
@example(pair=(b"", b""), from_end=False, cap=0, hint=0)
@example(pair=(b"\x00\x00a", b"\x00\x00b"), from_end=False, cap=3, hint=0)
@example(pair=(b"a\x00\x00", b"b\x00\x00"), from_end=True, cap=3, hint=0)
def test_the_common_start_and_end_are_found_as_comparing_byte_by_byte_finds_them(
    pair: tuple[bytes, bytes], from_end: bool, cap: int, hint: int
) -> None:
    """The stretch a splice keeps from its reference's start or end is the longest the two
    bodies share there (up to the bound asked), as a byte-by-byte comparison finds it, given
    any length already known to be shared."""
    a, b = pair
    most = min(cap, len(a), len(b))
    expected = _common_by_definition(a, b, most, from_end=from_end)
    least = min(hint, expected)

    assert bodies._common(a, b, most, from_end=from_end, least=least) == expected
