"""How a long library call (an import, the demo) tells its caller how far it has got.

The library calls `progress(done, total)` as it goes; the CLI draws a bar from it on a terminal
(`workflow.cli.progress`). The library never knows whether anyone is looking.
"""

from __future__ import annotations

from collections.abc import Callable

# (done, total): how many of `total` units of work are done so far.
Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """Nobody is looking."""
