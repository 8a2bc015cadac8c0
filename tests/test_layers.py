"""The layers hold: `states/` is pure, `notifications/` does not reach up into `workflow/`, and no
code outside `states/` names a specific event (each is described once, in its process)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from states.registry import PROCESSES

ROOT = Path(__file__).parents[1]
# What each package may import from this project; anything else is a layering break.
ALLOWED = {
    "states": {"states"},
    "config": {"config", "states", "notifications"},  # rule files are checked against templates
    "storage": {"storage", "states"},
    "notifications": {"notifications", "states", "storage", "config"},
    "workflow": {"workflow", "states", "storage", "notifications", "config"},
}
# Who may name an event: the CLI names its commands (`pal agreement sign`, a contract), and the
# demo plays the staff's part, firing events as a person at the command line would.
# Scripts of a fictional agreement's life (the demo, the sample notices' walk) name its events.
MAY_NAME_EVENTS = {Path("workflow/demo.py"), Path("workflow/notice_sample.py")}
COMMANDS = {name for definition in PROCESSES.values() for name in definition.commands}


def modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_below_it(package: str) -> None:
    """`states` imports only itself; `notifications` nothing from `workflow`; and so on."""
    breaks = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imported(path)
        if name.split(".")[0] in ALLOWED and name.split(".")[0] not in ALLOWED[package]
    ]
    assert breaks == []


def test_states_reads_no_clock_and_touches_no_database_or_mail() -> None:
    """The process definitions are pure: no sqlalchemy, sqlmodel, smtp, and no `now()`."""
    for path in modules("states"):
        text = path.read_text()
        names = set(imported(path))
        assert not {n for n in names if n.split(".")[0] in {"sqlalchemy", "sqlmodel", "aiosmtplib"}}
        assert ".now(" not in text and "today()" not in text, path


def test_no_code_outside_states_names_an_event() -> None:
    """Event names appear as strings only in `states/` (and in rule data and templates)."""
    events = {name for definition in PROCESSES.values() for name in definition.event_names}
    found = []
    for package in ("workflow", "notifications", "storage", "config"):
        for path in modules(package):
            if path.relative_to(ROOT) in MAY_NAME_EVENTS:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Constant) and node.value in events:
                    if node.value in COMMANDS and path.parent.name == "cli":
                        continue
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert found == []
