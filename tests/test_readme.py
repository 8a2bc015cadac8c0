"""The README's transcripts are true: each command, run in order in a fresh folder, prints what
the README shows. A transcript may show a file with `$ cat FILE`: the test writes FILE with the
lines shown, so the commands after it read what the reader sees."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from workflow.cli import cli

README = Path(__file__).parents[1] / "README.md"


def transcript() -> list[tuple[str, list[str]]]:
    """Every `<!-- transcript -->` block's commands with their output, in order: one session."""
    blocks = [
        block.split("<!-- /transcript -->", 1)[0].strip().strip("`").strip("\n")
        for block in README.read_text().split("<!-- transcript -->")[1:]
    ]
    lines = [line for block in blocks for line in block.splitlines()]
    steps: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def matches(expected: list[str], actual: list[str]) -> bool:
    pattern = "\n".join(re.escape(line).replace(re.escape("..."), ".*") for line in expected)
    return re.fullmatch(pattern, "\n".join(actual)) is not None


def test_readme_transcript_runs_as_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command in the README transcript prints exactly what the README says it prints."""
    monkeypatch.chdir(tmp_path)
    for name in ("PAL_DATABASE_URL", "PAL_CONFIG", "PAL_ACTOR", "PAL_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    steps = transcript()
    assert steps, "README has no transcript"
    runner = CliRunner()
    for command, expected in steps:
        args = shlex.split(command)
        if args[0] == "cat":
            (tmp_path / args[1]).write_text("\n".join(expected) + "\n", encoding="utf-8")
            continue
        assert args[0] == "pal"
        result = runner.invoke(cli, args[1:], prog_name="pal")
        actual = (result.stdout + result.stderr).rstrip("\n").splitlines()
        assert matches(expected, actual), f"$ {command}\n" + "\n".join(actual)


def test_readme_test_command_is_what_ci_runs() -> None:
    """.ci/run takes its test command from the README block, so the two cannot drift."""
    ci = (README.parent / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci
    assert "<!-- test-command -->" in README.read_text()
