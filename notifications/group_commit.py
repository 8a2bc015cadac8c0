"""Group commit: write items in groups from a worker thread while the event loop goes on.

The dispatcher records every delivery result. One transaction per message costs more CPU than
sending the message, and that CPU is taken from the event loop (one GIL). Grouping bounds it: a
group is written once `max_group` items wait, or once the oldest has waited `linger` seconds,
and never while the previous group is still being written. So on a slow mail server every result
is written on its own within `linger`; on a fast one, groups grow and the cost per item shrinks.
If the process dies, what was not yet written is at most `linger` seconds' worth of items (plus
the group being written).

That bound needs the writes to get the database's write lock at once. On SQLite there is one
writer at a time, and inside `pal serve` the sweep is the other one: `write_turn` gives the
result writes of this process the next turn, ahead of any sweep batch waiting, handed over
without SQLite's busy-wait polling. Another process may still hold the lock (a long import): then
`keep_up` stops the sender from sending more while the results wait, so what a kill would resend
stays a group's worth, not everything sent while the lock was held.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class WriteTurns:
    """Who writes next to one SQLite database, among the threads of this process.

    Urgent writers (delivery results, leases) go before the ordinary ones waiting; ordinary
    writers (a sweep batch, a claim, a heartbeat) take turns in the order they asked, so a
    catch-up sweep of many batches cannot keep a delivery pass from claiming (SQLite's own
    busy handler polls, and the thread that just committed usually wins). Nobody is
    interrupted: a turn is one transaction. Re-entrant within a thread.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0
        self._tickets = 0  # handed to ordinary writers as they ask
        self._serving = 0  # the ticket whose turn is next

    @contextmanager
    def turn(self, *, urgent: bool = False) -> Iterator[None]:
        me = threading.get_ident()
        with self._ready:
            if self._owner == me:
                self._depth += 1
            elif urgent:
                self._urgent_waiting += 1
                try:
                    self._ready.wait_for(lambda: self._owner is None)
                finally:
                    self._urgent_waiting -= 1
                self._owner, self._depth = me, 1
            else:
                ticket, self._tickets = self._tickets, self._tickets + 1
                self._ready.wait_for(
                    lambda: (
                        self._owner is None and not self._urgent_waiting and self._serving == ticket
                    )
                )
                self._serving += 1
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._ready:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._ready.notify_all()


_TURNS: dict[str, WriteTurns] = {}
_TURNS_LOCK = threading.Lock()


@contextmanager
def write_turn(engine: Any, *, urgent: bool = False) -> Iterator[None]:
    """A write transaction's turn on `engine`'s database (SQLite; PostgreSQL needs none)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with _TURNS_LOCK:
        turns = _TURNS.setdefault(str(engine.url), WriteTurns())
    with turns.turn(urgent=urgent):
        yield


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
        self._writing_since = 0.0  # when the oldest item of the group being written was added

    def add(self, item: T) -> None:
        """Queue `item`; raises if an earlier group could not be written."""
        self._raise_failure()
        if not self._pending:
            self._oldest = self._loop.time()
        self._pending.append(item)
        self._maybe_start()

    def behind(self, lag: float) -> bool:
        """Whether some item has waited longer than `lag` seconds to be written."""
        now = self._loop.time()
        if self._writing is not None and now - self._writing_since > lag:
            return True
        return bool(self._pending) and now - self._oldest > lag

    async def keep_up(self, lag: float) -> None:
        """Wait while an item has waited more than `lag` seconds: a caller that produces items
        (sends messages) then produces no more until their results are written."""
        while self.behind(lag):
            if self._writing is not None:
                await asyncio.wait([self._writing])
            else:
                self._start()
        self._raise_failure()

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
        self._writing_since = self._oldest
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
