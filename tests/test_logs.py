"""What `pal serve` logs, read from a real process: a timestamp and a level on every line, one
JSON object per line with PAL_LOG_FORMAT=json, a start-up line saying what it runs with, one
line per sweep and per delivery pass that did something, and never a password."""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import Pal
from service_support import MAIL_FROM
from smtp_server import PASSWORD, USERNAME, SmtpServer, authenticator
from test_service import in_progress, serve, stop, wait_for

from workflow.heartbeat import pal_version

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
TEXT_LINE = re.compile(rf"{STAMP} (debug|info|warning|error): \S.*")


# What `in_progress` owes by the wall clock: the identification (superintendent, board president,
# ISD superintendent: the released recipients since issue 12), the liaison named, and the plan's
# latest overdue notices (liaison and director; the State Superintendent).
OWED = 7


def run_serve(db_url: str, folder: Path, sent: int, **env: str) -> tuple[str, str]:
    """`pal serve` until `sent` messages went (per its instance row), then SIGTERM: its output."""
    from helpers import execute

    process = serve(db_url, folder, PAL_SWEEP_SECONDS="0.2", **env)
    try:
        wait_for(
            lambda: (execute(db_url, "SELECT sum(sent) FROM service_instance")[0][0] or 0) >= sent,
            30,
            f"{sent} messages sent",
        )
        wait_for(
            lambda: execute(db_url, "SELECT max(sweeps) FROM service_instance")[0][0] >= 5,
            30,
            "five sweeps",
        )
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        stop(process)
        raise
    finally:
        stop(process)
    assert process.returncode == 0, err
    return out, err


@pytest.fixture
def smtp_login(smtp_server_factory: Any) -> SmtpServer:
    with pytest.warns(UserWarning, match="AUTH while not requiring TLS"):
        server: SmtpServer = smtp_server_factory(
            auth_require_tls=False, authenticator=authenticator, auth_required=True
        )
    return server


def login_env(server: SmtpServer) -> dict[str, str]:
    return {
        "PAL_SMTP_HOST": server.host,
        "PAL_SMTP_PORT": str(server.port),
        "PAL_SMTP_USERNAME": USERNAME,
        "PAL_SMTP_PASSWORD": PASSWORD,
        "PAL_MAIL_FROM": MAIL_FROM,
    }


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_json_lines_parse_and_the_startup_line_says_what_serve_runs_with_and_no_password(
    seeded: Pal, db_url: str, tmp_path: Path, smtp_login: SmtpServer
) -> None:
    in_progress(seeded)  # by the wall clock every plan step is long past: OWED messages
    out, err = run_serve(
        db_url, tmp_path, OWED, PAL_LOG_FORMAT="json", PAL_LOG_LEVEL="debug",
        **login_env(smtp_login),
    )

    entries = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    assert entries and all(re.fullmatch(STAMP, e["time"]) for e in entries)
    assert {e["level"] for e in entries} <= {"debug", "info"}
    [start] = [e for e in entries if e.get("event") == "start"]
    assert start["logger"] == "pal.service" and start["event"] == "start"
    assert start["version"] == pal_version()
    assert start["database"] == db_url.replace(_password(db_url) or "\0", "***")
    assert (start["smtp_host"], start["smtp_security"]) == (smtp_login.host, "none")
    assert start["rules_default"] == "2017-10" and start["rules_in_use"] == {"2017-10": 1}
    assert f"SMTP {smtp_login.host}:{smtp_login.port} (none, as {USERNAME})" in start["message"]
    plain = base64.b64encode(f"\0{USERNAME}\0{PASSWORD}".encode()).decode().rstrip("=")
    for secret in (PASSWORD, plain, base64.b64encode(PASSWORD.encode()).decode().rstrip("=")):
        assert secret not in out + err
    assert len(smtp_login.received) == OWED and all(r.authenticated for r in smtp_login.received)


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    return make_url(url).password


def test_text_lines_carry_a_time_and_level_and_only_sweeps_that_did_something_are_logged(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    in_progress(seeded)
    _, err = run_serve(db_url, tmp_path, OWED, PAL_MAIL_FROM=MAIL_FROM)

    lines = err.splitlines()
    assert all(TEXT_LINE.fullmatch(line) for line in lines), err
    messages = [line.split(": ", 1)[1] for line in lines]
    assert messages[0].startswith(f"pal {pal_version()} serving as serve@")
    swept = [m for m in messages if m.startswith("swept: ")]
    delivered = [m for m in messages if m.startswith("delivered: ")]
    assert len(swept) == 1, err  # five sweeps or more: the first fired the timers, the rest nothing
    assert sum(int(re.findall(r"(\d+) sent", m)[0]) for m in delivered) == OWED, err
    assert not any("failed" in m for m in messages), err  # zero counts are left out
    assert messages[-1] == "stopped"


def test_pal_log_level_warning_silences_the_info_lines(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    in_progress(seeded)
    _, err = run_serve(db_url, tmp_path, OWED, PAL_MAIL_FROM=MAIL_FROM, PAL_LOG_LEVEL="warning")
    assert err == ""


def test_a_log_setting_out_of_its_choices_is_refused_with_one_line(seeded: Pal) -> None:
    seeded.env["PAL_LOG_FORMAT"] = "xml"
    result = seeded("status")
    assert result.exit_code == 2 and result.stderr.startswith("error: bad setting log_format")
