"""The dashboard's templates: one Jinja environment, autoescaped, compiled once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from workflow.dashboard.parts import GLOBALS
from workflow.dashboard.words import FILTERS

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


@cache
def template(name: str) -> Template:
    return environment().get_template(name)


def page(name: str, path: str, **context: Any) -> str:
    """Template `name` rendered as the page at `path` in the site (its links are relative to
    it, so the site opens from disk as well as from a server)."""
    return template(name).render(root="../" * path.count("/"), here=path, **context)


def stylesheet() -> str:
    return (TEMPLATES / "style.css").read_text(encoding="utf-8")
