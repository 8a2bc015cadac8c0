"""Render a notice from its jinja2 template pair (`NAME.txt`, `NAME.html`), HTML autoescaped.

The subject is the `subject` block of the text template, so each notice lives in two files.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship inside the package: checking their mtimes on every render is waste.
        auto_reload=False,
    )
    env.filters["longdate"] = longdate
    # Templates see only the values a notice passes: no default helpers (range, lipsum, ...),
    # which also makes each render's context cheaper to build.
    env.globals.clear()
    return env


@lru_cache(maxsize=4096)
def longdate(day: date) -> str:
    """`Monday, March 2, 2020`; cached, as a sweep writes the same few dates many times."""
    return f"{day:%A, %B} {day.day}, {day.year}"


def render(notice: str, values: dict[str, Any]) -> Rendered:
    env = environment()
    text_template = env.get_template(f"{notice}.txt")
    # One context serves the subject block and the whole text body (as Template.render does).
    context = text_template.new_context(values)
    subject = "".join(text_template.blocks["subject"](context))
    return Rendered(
        subject=" ".join(subject.split()),
        text=env.concat(text_template.root_render_func(context)),
        html=env.get_template(f"{notice}.html").render(values),
    )


# Rendering is the costly part of enqueueing; a notice is rendered once and then addressed to
# each recipient by replacing this marker (it cannot occur in data: it is a control character).
_NAME = "\x1fRECIPIENT\x1f"


@dataclass(frozen=True)
class Addressable:
    rendered: Rendered

    def to(self, name: str) -> Rendered:
        return Rendered(
            subject=self.rendered.subject.replace(_NAME, name),
            text=self.rendered.text.replace(_NAME, name),
            html=self.rendered.html.replace(_NAME, html.escape(name)),
        )


@dataclass(frozen=True)
class _Placeholder:
    name: str = _NAME


def render_once(notice: str, values: dict[str, Any]) -> Addressable:
    """Render `notice` for any recipient; `.to(name)` addresses it."""
    return Addressable(render(notice, {**values, "recipient": _Placeholder()}))


def notice_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.txt") if not p.stem.startswith("_"))
