"""The dashboard's templates: one Jinja environment, autoescaped, compiled once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

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
    return env


@cache
def template(name: str) -> Template:
    return environment().get_template(name)


def page(name: str, depth: int, **context: Any) -> str:
    """Template `name` rendered for a page `depth` folders below the site's root (its links
    are relative, so the site opens from disk as well as from a server)."""
    return template(name).render(root="../" * depth, **context)


def stylesheet() -> str:
    return (TEMPLATES / "style.css").read_text(encoding="utf-8")
