"""Group commit: write items in groups from a worker thread while the event loop goes on.

The dispatcher records every delivery result. One transaction per message costs more CPU than
sending the message, and that CPU is taken from the event loop (one GIL). Grouping bounds it: a
group is written once `max_group` items wait, or once the oldest has waited `linger` seconds,
and never while the previous group is still being written. So on a slow mail server every result
is written on its own within `linger`; on a fast one, groups grow and the cost per item shrinks.
If the process dies, what was not yet written is at most `linger` seconds' worth of items (plus
the group being written).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommitter(Generic[T]):
    def __init__(
        self, write: Callable[[list[T]], None], *, linger: float = 0.05, max_group: int = 64
    ) -> None:
        self._write = write
        self._linger = linger
        self._max_group = max_group
        self._loop = asyncio.get_running_loop()
        self._pending: list[T] = []
        self._oldest = 0.0
        self._writing: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._failure: BaseException | None = None

    def add(self, item: T) -> None:
        """Queue `item`; raises if an earlier group could not be written."""
        self._raise_failure()
        if not self._pending:
            self._oldest = self._loop.time()
        self._pending.append(item)
        self._maybe_start()

    async def flush(self) -> None:
        """Write everything queued and wait for it; raises if any group could not be written."""
        self._cancel_timer()
        while self._writing is not None or self._pending:
            if self._writing is not None:
                await asyncio.wait([self._writing])
                continue
            self._start()
        self._raise_failure()

    def _maybe_start(self) -> None:
        if self._writing is not None or not self._pending:
            return
        waited = self._loop.time() - self._oldest
        if len(self._pending) >= self._max_group or waited >= self._linger:
            self._start()
        elif self._timer is None:
            self._timer = self._loop.call_later(self._linger - waited, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._maybe_start()

    def _start(self) -> None:
        self._cancel_timer()
        group, self._pending = self._pending, []
        self._writing = asyncio.ensure_future(asyncio.to_thread(self._write, group))
        self._writing.add_done_callback(self._written)

    def _written(self, future: asyncio.Future[None]) -> None:
        self._writing = None
        if not future.cancelled() and future.exception() is not None:
            self._failure = self._failure or future.exception()
        self._maybe_start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure
