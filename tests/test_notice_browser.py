"""Each notice's HTML in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
installs when missing), driven by Playwright, at 900 and 400 px wide: nothing overflows."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from notice_samples import DISTRICT, as_rendered, demo_messages, every_notice, person, values

from notifications.render import render_once

WIDTHS = (900, 400)
# What overflows the viewport: the document's scroll width, and each element wider than the
# viewport or reaching past its right edge (half a pixel of rounding allowed).
_OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width > width + 0.5 || box.right > width + 0.5 || box.left < -0.5) {
      wide.push(element.tagName + " " + Math.round(box.width) + "px: "
                + (element.textContent || "").trim().slice(0, 60));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide};
}"""
# A district name with a very long word and a liaison with a long address: the column must wrap
# them rather than widen.
LONG_NAME = "Lakeview" + "x" * 70 + " Public School Academy"




def _samples(notice: str) -> list[tuple[str, str]]:
    """The notice's HTML for a district reader and for the liaison, with ordinary values and
    with long unbroken names."""
    ordinary = values(7)
    address = "a.very.long.liaison.address." * 3 + "@mde.example"
    long = {
        **values(-8),
        "district": SimpleNamespace(**{**vars(DISTRICT), "name": LONG_NAME}),
        "liaison": SimpleNamespace(**{**vars(ordinary["liaison"]), "email": address}),
    }
    return [
        (f"{label} for the {role}", render_once(notice, given).to(person(role)).html)
        for label, given in (("ordinary", ordinary), ("long names", long))
        for role in ("superintendent", "liaison")
    ]


@pytest.mark.parametrize("notice", every_notice())
def test_the_html_fits_the_viewport_at_900_and_400_px(browser: Any, notice: str) -> None:
    """At 900 and 400 px wide the document scrolls no wider than the viewport and no element is
    wider than it or reaches past its edge."""
    page = browser.new_page()
    try:
        for label, html in _samples(notice):
            page.set_content(html)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                found = page.evaluate(_OVERFLOW)
                assert found["scroll"] <= width, (label, width, found)
                assert found["wide"] == [], (label, width, found["wide"][:5])
    finally:
        page.close()


def test_the_column_is_at_most_600_px_wide_on_a_wide_screen(browser: Any) -> None:
    """The message sits in a column of about 600 px however wide the window."""
    page = browser.new_page(viewport={"width": 900, "height": 900})
    try:
        page.set_content(render_once("plan_reminder", values(7)).to(person("superintendent")).html)
        widest = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('h1')].map("
            "h => h.closest('table').getBoundingClientRect().width))"
        )
        assert 560 <= widest <= 600
    finally:
        page.close()


def test_the_demos_widest_message_of_each_notice_fits_the_viewport(
    browser: Any, demo: Path
) -> None:
    """Of the demo's mail, the longest HTML of each notice (review tables, amendments, long
    school lists) fits at 900 and 400 px too."""
    longest: dict[str, str] = {}
    for _, message in demo_messages(demo):
        notice = str(message["X-PAL-Key"]).split(":")[1]  # a{agreement}:{notice}:...
        html = as_rendered(message).html
        if len(html) > len(longest.get(notice, "")):
            longest[notice] = html
    page = browser.new_page()
    try:
        for notice, html in longest.items():
            page.set_content(html)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                found = page.evaluate(_OVERFLOW)
                assert found["scroll"] <= width and found["wide"] == [], (notice, width, found)
    finally:
        page.close()
