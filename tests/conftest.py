"""Fixtures: a database per test on SQLite and (with PAL_TEST_POSTGRES_URL) PostgreSQL, the CLI
run in-process against it, and a seeded registry.

`db_url` is parametrized over both backends, so every test that uses it (directly or through
`pal`/`seeded`) runs twice. The PostgreSQL variant gets a fresh schema, selected through the
connection's search_path (`?options=-csearch_path%3D<schema>`), and drops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import smtp_server as smtp_server_module
import sqlalchemy as sa
from helpers import Pal, seed
from service_support import use_smtp

# The SMTP server fixtures (tests/smtp_server.py), for every test module that asks for them.
from smtp_server import (  # noqa: F401
    client_tls_context,
    server_tls_context,
    smtp_server,
    smtp_server_factory,
    tls_ca,
)

POSTGRES_URL = os.environ.get("PAL_TEST_POSTGRES_URL")
BACKENDS = ("sqlite", "postgres")


def pytest_report_header() -> str:
    where = "PostgreSQL at PAL_TEST_POSTGRES_URL" if POSTGRES_URL else "SQLite only"
    return f"pal backends: {where}"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PAL_* setting or ./pal.toml from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PAL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# --- databases -----------------------------------------------------------------------------------


def postgres_schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def postgres_schema(prefix: str = "t") -> Iterator[str]:
    """A URL whose connections live in a brand-new, empty schema; dropped (CASCADE) afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PAL_TEST_POSTGRES_URL is not set")
    schema = f"{prefix}_{uuid.uuid4().hex}"
    admin = sa.create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield postgres_schema_url(POSTGRES_URL, schema)
        finally:
            with admin.begin() as connection:
                connection.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL schema for this test (skips without PAL_TEST_POSTGRES_URL)."""
    with postgres_schema() as url:
        yield url


@contextmanager
def new_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a database that does not exist yet (SQLite) or is empty (PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder}/pal.db"
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with new_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def pal(db_url: str) -> Pal:
    """`pal(*args, input=None)` runs the CLI in-process with PAL_DATABASE_URL=db_url."""
    return Pal(db_url)


# --- the seeded registry, built once per session and copied per test -----------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file seeded once per session through the CLI (see `helpers.seed`)."""
    path = tmp_path_factory.mktemp("template") / "pal.db"
    seed(Pal(f"sqlite:///{path}"))
    return path


@dataclass(frozen=True)
class PostgresTemplate:
    """What `pal init` + `helpers.seed` produced once per session, to replay into a new schema."""

    schema: str
    init_statements: list[tuple[str, Any]]  # exactly what `pal init` sent, in order
    tables: list[str]  # in foreign-key order
    serials: dict[str, list[str]]  # table -> columns drawing on a sequence


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    with postgres_schema("t_template") as url:
        pal = Pal(url)
        sa.event.listen(sa.Engine, "before_cursor_execute", capture)
        try:
            assert pal("init").exit_code == 0
        finally:
            sa.event.remove(sa.Engine, "before_cursor_execute", capture)
        seed(pal)
        schema = url.rsplit("%3D", 1)[1]
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            metadata = sa.MetaData()
            metadata.reflect(engine)
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text(
                        "SELECT table_name, column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() "
                        "AND column_default LIKE 'nextval%'"
                    )
                ).all()
        finally:
            engine.dispose()
        serials: dict[str, list[str]] = {}
        for table, column in rows:
            serials.setdefault(table, []).append(column)
        tables = [t.name for t in metadata.sorted_tables if t.name != "alembic_version"]
        yield PostgresTemplate(schema, statements, tables, serials)


def clone_postgres_template(url: str, template: PostgresTemplate) -> None:
    """Replay `pal init` into the empty schema `url` points at, then copy the seeded rows."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            cursor = connection.connection.cursor()
            for statement, parameters in template.init_statements:
                cursor.execute(statement, parameters)
            for table in template.tables:
                cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{template.schema}"."{table}"')
                for column in template.serials.get(table, ()):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                        f'coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'
                    )
    finally:
        engine.dispose()


def seed_copy(pal: Pal, backend: str, request: pytest.FixtureRequest) -> Pal:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, pal.db_url.removeprefix("sqlite:///"))
    else:
        clone_postgres_template(pal.db_url, request.getfixturevalue("postgres_template"))
    return pal


@pytest.fixture
def seeded(pal: Pal, backend: str, request: pytest.FixtureRequest) -> Pal:
    """An initialised database with both districts and a contact for every role.

    The registry is built once per session and backend by `helpers.seed` (`pal init`, then
    `pal district add` / `pal contact add`); each test gets its own copy of that database.
    """
    return seed_copy(pal, backend, request)


@pytest.fixture(scope="module", params=BACKENDS)
def module_seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pal]:
    """Like `seeded`, but one database shared by a whole module: only for tests that change
    nothing (each asserts so itself)."""
    backend = str(request.param)
    with new_database(backend, tmp_path_factory.mktemp("module")) as url:
        yield seed_copy(Pal(url), backend, request)


@pytest.fixture
def mailed(seeded: Pal, smtp_server: smtp_server_module.SmtpServer) -> Pal:  # noqa: F811
    """The seeded registry with pal sending through the test SMTP server."""
    use_smtp(seeded, smtp_server.host, smtp_server.port)
    return seeded


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every message rendered while the test runs, in order."""
    from notifications import render

    seen: list[render.Rendered] = []
    original = render.Addressable.to

    def recording(self: render.Addressable, person: Any) -> render.Rendered:
        message = original(self, person)
        seen.append(message)
        return message

    monkeypatch.setattr(render.Addressable, "to", recording)
    return seen


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `pal demo` ran, once per session: its database and every message it sent
    (the notices as a superintendent reads them)."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("demo")
    pal = Path(sys.executable).with_name("pal")
    subprocess.run([str(pal), "demo"], cwd=folder, check=True, capture_output=True, timeout=900)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (skipped without it, failed where CI needs it)."""
    from browser_support import chromium

    with chromium() as launched:
        yield launched
