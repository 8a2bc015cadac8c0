"""Load versioned rule data: `config/rules/<version>.toml`, checked in full when loaded.

A version may say `extends = "<version>"` and state only what differs: tables merge key by key,
the entries of `deadlines`, `timers` and `transition_notices` merge with the parent's entry of the
same identity (a deadline's kind, a timer's deadline, ladder and notice or action, a notice's
event and notice), and any other value replaces the parent's.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from config.settings import DEFAULT_RULES_VERSION
from states.errors import BadInput, BadRules
from states.rules import MAIN_PROCESS, RuleSet, ruleset_from_mapping

SHIPPED = Path(__file__).with_name("rules")
_extra: list[Path] = []

# How entries of an array of tables are matched with the parent's when a version extends one.
_IDENTITY: Mapping[str, tuple[str, ...]] = {
    "deadlines": ("kind",),
    "timers": ("deadline", "ladder", "notice", "action"),
    "transition_notices": ("event", "notice"),
}


def use_rules_dir(path: Path | None) -> None:
    """Search `path` before the shipped versions (`PAL_RULES_DIR`); None for the shipped only."""
    wanted = [Path(path)] if path is not None else []
    if wanted != _extra:
        _extra[:] = wanted
        load_rules.cache_clear()
        read_rules.cache_clear()


def _folders() -> list[Path]:
    return [*_extra, SHIPPED]


def versions() -> list[str]:
    return sorted({path.stem for folder in _folders() for path in folder.glob("*.toml")})


_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _path(version: str) -> Path:
    # A version is a name in a rules folder, never a path to a file elsewhere.
    if not _VERSION.fullmatch(version) or ".." in version:
        raise BadInput(f"unknown rules version {version!r}; known: {', '.join(versions())}")
    for folder in _folders():
        path = folder / f"{version}.toml"
        if path.is_file():
            return path
    raise BadInput(f"unknown rules version {version!r}; known: {', '.join(versions())}")


@cache
def load_rules(version: str = DEFAULT_RULES_VERSION) -> RuleSet:
    """The rules of `version`, checked against the agreement process and the notice templates."""
    from notifications.render import notice_names
    from states.registry import PROCESSES, process
    from states.rule_check import check

    data, source = _merged(version, ())
    check(data, process(MAIN_PROCESS), frozenset(notice_names()), source, PROCESSES)
    if data["version"] != version:
        raise BadRules(f"{source}: version: says {data['version']!r}, the file is {version}")
    return ruleset_from_mapping(data)


@cache
def read_rules(version: str) -> RuleSet:
    """The rules of `version` as read, not checked against the process and the templates: for
    read-only views, which need not load the template engine (`load_rules` checks them)."""
    return ruleset_from_mapping(_merged(version, ())[0])


def _merged(version: str, seen: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    if version in seen:
        raise BadRules(f"rules {' -> '.join((*seen, version))}: extends itself")
    path = _path(version)
    source = _display(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadRules(f"{source}: cannot read: {exc}") from exc
    parent = data.pop("extends", None)
    if parent is None:
        return data, source
    if not isinstance(parent, str):
        raise BadRules(f"{source}: extends: must name a version")
    base, _ = _merged(parent, (*seen, version))
    return _merge(base, data), source


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if key in _IDENTITY and isinstance(value, list):
            merged[key] = _merge_entries(merged.get(key, []), value, _IDENTITY[key])
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


# A deadline's length is one value, in days or months: an override of either replaces both.
_ONE_VALUE = ({"days", "months"},)


def _merge_entries(
    base: list[Any], over: list[Any], identity: tuple[str, ...]
) -> list[dict[str, Any]]:
    merged = [dict(entry) for entry in base]
    for entry in over:
        match = next((i for i, old in enumerate(merged) if _ident(old, identity)
                      == _ident(entry, identity)), None)  # fmt: skip
        if match is None:
            merged.append(dict(entry))
            continue
        kept = dict(merged[match])
        for group in _ONE_VALUE:
            if group & set(entry):
                kept = {key: value for key, value in kept.items() if key not in group}
        merged[match] = {**kept, **entry}
    return merged


def _ident(entry: Any, identity: tuple[str, ...]) -> tuple[Any, ...]:
    if not isinstance(entry, Mapping):
        return ()
    # A timer's ladder is its deadline's kind unless it names another.
    filled = {"ladder": entry.get("deadline"), **entry}
    return tuple(filled.get(name) for name in identity)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(SHIPPED.parent.parent))
    except ValueError:
        return str(path)


def parent_of(version: str) -> str | None:
    """The version `version` extends, or None for a base version."""
    path = _path(version)
    try:
        with path.open("rb") as handle:
            parent = tomllib.load(handle).get("extends")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadRules(f"{_display(path)}: cannot read: {exc}") from exc
    return str(parent) if parent is not None else None


def flattened(version: str) -> dict[str, Any]:
    """The rule data of `version` (with what it extends) as one value per key: `permissions.
    identify`, `deadlines[plan_due].days`, `timers[plan_due/plan_due/plan_reminder].to`."""
    flat: dict[str, Any] = {}
    _flatten(_merged(version, ())[0], "", flat)
    return flat


def _flatten(value: Any, key: str, flat: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for name, item in value.items():
            _flatten(item, f"{key}.{name}" if key else str(name), flat)
        return
    # A process's section holds the same arrays: `processes.funds.deadlines`.
    identity = _IDENTITY.get(key.rpartition(".")[2])
    if identity is not None and isinstance(value, list):
        for entry in value:
            named = "/".join(str(part) for part in _ident(entry, identity) if part is not None)
            for name, item in entry.items():
                if name not in identity:
                    _flatten(item, f"{key}[{named}].{name}", flat)
        return
    flat[key] = value
