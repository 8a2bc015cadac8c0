"""A database server out of reach under `pal serve`: one line when it goes, one when it is back,
and tries in between at growing intervals.

While it lasts the service's jobs do nothing (every pass would fail the same way); only the
tries ask the server. Nothing is lost meanwhile: timers and mail are rows, due when it is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from workflow.health import age_words

log = logging.getLogger("pal.service")

# The first try comes this soon: a restarted server (or a terminated connection) is usually
# back within a second or two, and a second is no load on anyone.
FIRST_TRY_S = 1.0
# Each try doubles the wait, up to this: a server down for long is asked once a minute, so the
# service is back within a minute of it (and within a sweep interval, when that is shorter).
LAST_TRY_EVERY_S = 60.0


class Outage:
    """Whether the database is out of reach, since when, and when to try it next."""

    def __init__(
        self,
        first: float = FIRST_TRY_S,
        cap: float = LAST_TRY_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first = first
        self.cap = max(cap, first)
        self.clock = clock
        self.since: float | None = None
        self.wait = first  # before the next try
        self.tries = 0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def lost(self, why: str) -> bool:
        """The database did not answer; True when this begins an outage (the caller starts
        trying), False while one goes on (the next try waits twice as long)."""
        if self.since is None:
            self.since, self.wait, self.tries = self.clock(), self.first, 0
            tries = (
                f"trying again in {self.first:g} s, then less often (at most every "
                f"{self.cap:g} s)"
                if self.cap > self.first
                else f"trying again every {self.first:g} s"
            )
            log.error("database unreachable: %s; nothing is lost, %s", why, tries)
            return True
        self.tries += 1
        self.wait = min(self.wait * 2, self.cap)
        return False

    def back(self) -> None:
        """The database answered again: one line saying how long it was gone."""
        if self.since is None:
            return
        gone = timedelta(seconds=self.clock() - self.since)
        tries = self.tries + 1
        log.warning(
            "database reachable again after %s (%d %s); carrying on", age_words(gone), tries,
            "try" if tries == 1 else "tries",
        )  # fmt: skip
        self.since = None
