"""The `--amendment N` option's type: an amendment's number, 0 (the plan as signed) or more."""

from __future__ import annotations

from typing import Any

import click

from workflow.cli.common import MAX_ID, _whole_number


class AmendmentNumber(click.ParamType):  # type: ignore[type-arg]
    """An amendment's number: 0 (the plan as signed) or more."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = _whole_number(value)
        if number is None or number > MAX_ID:
            self.fail(f"{value!r} is not an amendment number (0, 1, 2, ...)", param, ctx)
        return number


AMENDMENT = AmendmentNumber()
