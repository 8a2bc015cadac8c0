"""The edge between the CLI/service and the engine: settings, the store, and the current moment.

This is the only place below the CLI that reads the wall clock.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import Settings
from states.context import Context
from states.errors import PermissionDenied
from states.rules import SYSTEM
from storage.db import check_alive, check_schema, make_engine, transaction
from workflow.actors import Actor, normalize_email, person


@dataclass
class App:
    settings: Settings
    engine: Engine

    def context(self, now: datetime | None = None) -> Context:
        return Context(
            now=now or datetime.now(UTC),
            tz=self.settings.tz,
            notice_hour=self.settings.notice_hour,
            rules_version=self.settings.rules_version,
            message_domain=self.settings.message_domain,
            mail_from=self.settings.mail_from,
            office_phone=self.settings.office_phone,
            office_web=self.settings.office_web,
        )

    @contextmanager
    def write(self) -> Iterator[Session]:
        with transaction(self.engine) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with transaction(self.engine, read_only=True) as session:
            yield session

    def check_alive(self) -> None:
        """Raise StoreGone (exit 6) when the SQLite file was deleted or replaced since it was
        opened: a long-running service calls this each pass and stops on it."""
        check_alive(self.engine)

    def person(self, session: Session, by: str | None) -> Actor:
        return person(session, by or self.settings.actor, self.context().today)

    def clerk(self, by: str | None) -> Actor:
        """Who registers reference data: named, but not necessarily on file yet (bootstrap)."""
        name = by or self.settings.actor
        if not name:
            return Actor(f"local:{getpass.getuser()}", "clerk")
        if name.strip().lower() == SYSTEM:
            raise PermissionDenied("'system' is reserved for automated steps")
        return Actor(normalize_email(name), "clerk")


@contextmanager
def open_app(settings: Settings, *, check: bool = True, name: str | None = None) -> Iterator[App]:
    """The app for these settings; `name` names its database connections (see make_engine)."""
    from config.rules import use_rules_dir

    use_rules_dir(settings.rules_dir)
    engine = make_engine(settings.database_url, name=name)
    try:
        if check:
            check_schema(engine)
        yield App(settings, engine)
    finally:
        engine.dispose()
