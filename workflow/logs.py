"""Log lines: a timestamp (in PAL_TIMEZONE, with its offset) and a level on every line, as text
or, with `PAL_LOG_FORMAT=json`, one JSON object per line (journald, log shippers).

`pal serve` logs at `info` unless PAL_LOG_LEVEL says otherwise: its start-up line, one line per
sweep and per delivery pass that did something, and its problems; every other command at
`warning` (its own output is what it prints). Secrets are taken out by the redacting filter
`notifications.errors.redacted_logs` puts on these handlers, before any formatter runs.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # every command configures logging first: kept free of pydantic
    from config.settings import Settings

# Structured fields a line carries beside its message (`extra={"pal": {...}}`); JSON only.
FIELDS = "pal"


class _Ours(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler pal installs (and replaces when settings are known)."""


def _stamp(record: logging.LogRecord, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(record.created, zone).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """`2026-12-01T22:27:33.466-05:00 info: swept: 3 timers fired, ...`."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__()
        self.zone = zone

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_stamp(record, self.zone)} {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        return f"{line}\n{record.exc_text}" if record.exc_text else line


class JsonFormatter(logging.Formatter):
    """`{"time": ..., "level": "info", "logger": "pal.service", "message": ..., ...fields}`."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__()
        self.zone = zone

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _stamp(record, self.zone),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(settings: Settings | None = None, *, service: bool = False) -> None:
    """Install pal's handler on the root logger (replacing the one installed before).

    Left alone when someone else configured logging first (a test's log capture, an embedding
    program): their handlers decide.
    """
    root = logging.getLogger()
    if any(not isinstance(handler, _Ours) for handler in root.handlers):
        return
    zone = settings.tz if settings is not None else ZoneInfo("UTC")
    json_lines = settings is not None and settings.log_format == "json"
    handler = _Ours(sys.stderr)
    handler.setFormatter(JsonFormatter(zone) if json_lines else TextFormatter(zone))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    chosen = settings.log_level if settings is not None else None
    level = (chosen or ("info" if service else "warning")).upper()
    root.setLevel(level)
    # APScheduler says at info what every job did each run: noise, except when debugging.
    logging.getLogger("apscheduler").setLevel("DEBUG" if level == "DEBUG" else "WARNING")


# What a simulated sweep logs (a role nobody holds, an action refused) is not news of the
# service: the forecast and the sample preview report it themselves.
SIMULATION_LOGGERS = ("pal.sweep", "pal.notifications")


@contextmanager
def quieted(names: tuple[str, ...] = SIMULATION_LOGGERS) -> Iterator[None]:
    """The loggers `names` say nothing below CRITICAL while the block runs."""
    silenced = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in silenced]
    for logger in silenced:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(silenced, levels, strict=True):
            logger.setLevel(level)
