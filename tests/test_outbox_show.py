"""`pal outbox show ID`: one message with its text and HTML bodies in full, as rendered."""

from __future__ import annotations

import json
from typing import Any

from helpers import DIRECTOR, Pal, assert_error, fire, ok, signed_agreement
from service_support import outbox

from notifications import render


def review_opened(pal: Pal, rendered: list[render.Rendered]) -> list[dict[str, Any]]:
    """The messages that opening a Review of Goal Attainment queued, as `outbox list --json`
    lists them, after `rendered` has been left holding just theirs."""
    agreement = signed_agreement(pal)
    rendered.clear()
    fire(pal, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    rows = [r for r in outbox(pal) if r["notice"] == "review_opened" and r["status"] == "pending"]
    assert len(rows) == len(rendered) > 1
    return rows


def test_show_json_is_the_listed_row_with_its_bodies_as_rendered(
    seeded: Pal, rendered: list[render.Rendered]
) -> None:
    """`--json` gives exactly the fields `outbox list --json` gives, plus `text` and `html`,
    each body exactly as it was rendered for that recipient."""
    rows = review_opened(seeded, rendered)

    shown = [json.loads(ok(seeded, "outbox", "show", row["id"], "--json")) for row in rows]

    assert [{k: v for k, v in s.items() if k not in ("text", "html")} for s in shown] == rows
    assert [(s["subject"], s["text"], s["html"]) for s in shown] == [
        (m.subject, m.text, m.html) for m in rendered
    ]


def test_show_prints_the_listed_line_then_both_bodies_in_full(
    seeded: Pal, rendered: list[render.Rendered]
) -> None:
    """The human form starts with the message's `outbox list` line, names its notice and
    Message-ID, and ends with the whole text body and the whole HTML body."""
    row = review_opened(seeded, rendered)[-1]
    message = rendered[-1]
    [listed] = [line for line in ok(seeded, "outbox", "list").splitlines() if
                line.split()[0] == str(row["id"])]  # fmt: skip

    shown = ok(seeded, "outbox", "show", row["id"])

    assert shown.startswith(listed + "\n")
    assert f"review_opened ({row['occurrence']})" in shown
    assert row["message_id"] in shown
    assert shown.endswith(f"--- text ---\n{message.text}\n--- html ---\n{message.html}\n")


def test_show_of_an_unknown_message_is_not_found(seeded: Pal) -> None:
    """An id with no message exits 2 with one `error:` line, as `outbox retry` does."""
    assert_error(seeded("outbox", "show", "9999"), 2, mentions="no outbox message 9999")
    assert_error(seeded("outbox", "retry", "9999"), 2, mentions="no outbox message 9999")
    assert_error(seeded("outbox", "show", "0"), 2, mentions="ID")
