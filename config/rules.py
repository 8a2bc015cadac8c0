"""Load versioned rule data shipped in `config/rules/<version>.toml`."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from states.errors import BadInput
from states.rules import RuleSet, ruleset_from_mapping

RULES_DIR = Path(__file__).with_name("rules")
DEFAULT_VERSION = "2017-10"


def versions() -> list[str]:
    return sorted(path.stem for path in RULES_DIR.glob("*.toml"))


@cache
def load_rules(version: str = DEFAULT_VERSION) -> RuleSet:
    path = RULES_DIR / f"{version}.toml"
    if not path.is_file():
        raise BadInput(f"unknown rules version {version!r}; known: {', '.join(versions())}")
    with path.open("rb") as handle:
        rules = ruleset_from_mapping(tomllib.load(handle))
    if rules.version != version:
        raise ValueError(f"{path} declares version {rules.version!r}")
    return rules
