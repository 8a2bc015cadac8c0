"""One typed settings object. Sources, highest first: CLI flags, PAL_* environment, TOML, defaults.

The TOML file is `--config FILE`, else `$PAL_CONFIG`, else `./pal.toml` when present.

The sources are merged here, in a dozen lines, and validated by one pydantic model. This used to
be pydantic-settings; importing it cost every command about 15 ms (a tenth of `pal agreement
show`'s start-up budget over sqlmodel) for four sources that are simple to merge by hand.
"""

from __future__ import annotations

import os
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from states.context import DEFAULT_OFFICE_PHONE, DEFAULT_OFFICE_WEB
from states.errors import BadInput

ENV_PREFIX = "PAL_"
# A domain name as a Message-ID may carry it: dot-separated labels of letters, digits and hyphens.
_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
# The rule version new agreements (and renewals) start under; `config/rules/<version>.toml`.
DEFAULT_RULES_VERSION = "2017-10"


class Settings(BaseModel):
    # Numbers are checked here, where they enter: finite, and within the range each one means
    # something (a negative sweep interval used to spin pal serve; hour 25 failed in `identify`).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    database_url: str = "sqlite:///pal.db"
    timezone: str = "America/Detroit"
    actor: str | None = None
    rules_version: str = DEFAULT_RULES_VERSION
    # A folder of further rule versions, searched before the shipped ones.
    rules_dir: Path | None = None
    # Notifications and the service (used from the service issue on).
    mail_from: str = "Office of Partnership Districts <partnership@mde.example>"
    # The domain after the `@` of every Message-ID (and of the thread and calendar ids derived
    # from it); None: the domain of `mail_from`'s address.
    message_id_domain: str | None = None
    mail_dir: Path = Path("mail")
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout: float = Field(30.0, gt=0, le=3600)
    sweep_seconds: float = Field(60.0, gt=0, le=86400)
    notice_hour: int = Field(8, ge=0, le=23)
    # Logging (workflow.logs): None means `info` for `pal serve`, `warning` for other commands.
    log_level: Literal["debug", "info", "warning", "error"] | None = None
    # `json`: one JSON object per line, for journald and log shippers.
    log_format: Literal["text", "json"] = "text"

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    # The office's telephone and web address, in every notice's contact block.
    office_phone: str = Field(DEFAULT_OFFICE_PHONE, min_length=1)
    office_web: str = Field(DEFAULT_OFFICE_WEB, min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("mail_from")
    @classmethod
    def _usable_sender(cls, value: str) -> str:
        sender_address(value)
        return value

    @field_validator("message_id_domain")
    @classmethod
    def _usable_domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # A Message-ID is `<id@domain>` (RFC 5322 msg-id): a dot-atom domain, ASCII, no blanks.
        if not _DOMAIN.fullmatch(value):
            raise ValueError(f"message_id_domain {value!r} is not a domain name")
        return value

    @model_validator(mode="after")
    def _auth_in_pairs(self) -> Settings:
        # Refused when the settings load, before any command commits anything (`pal tick` used
        # to commit its sweep and then fail on the transport).
        # An empty value (a templated `PAL_SMTP_PASSWORD=${X:-}`) counts as not set.
        password = bool(self.smtp_password and self.smtp_password.get_secret_value())
        if self.smtp_username and not password:
            raise BadInput("PAL_SMTP_USERNAME is set but PAL_SMTP_PASSWORD is not")
        if password and not self.smtp_username:
            raise BadInput("PAL_SMTP_PASSWORD is set but PAL_SMTP_USERNAME is not")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def message_domain(self) -> str:
        """The domain of Message-IDs: `message_id_domain`, else the sender's own domain."""
        return self.message_id_domain or sender_address(self.mail_from).rpartition("@")[2]


def sender_address(mail_from: str) -> str:
    """The envelope address in `PAL_MAIL_FROM` (`Name <address>` or a bare address).

    ValueError when there is none usable: a display name with an unquoted comma, say, or a
    non-ASCII address (every message would otherwise fail).
    """
    address = parseaddr(mail_from)[1]
    if "@" not in address or not address.isascii() or any(c in mail_from for c in "\r\n"):
        raise ValueError(f"mail_from {mail_from!r} has no usable ASCII email address")
    return address


def config_path(explicit: str | Path | None) -> Path | None:
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise BadInput(f"config file {path} not found")
        return path
    from_env = os.environ.get("PAL_CONFIG")
    if from_env:
        return config_path(from_env)
    default = Path("pal.toml")
    return default if default.is_file() else None


ENVIRONMENT_ONLY = ("smtp_password",)
# Never echoed in an error message.
SECRET_FIELDS = ("smtp_password", "database_url")


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's settings; secrets are refused: they come from the environment only, never from
    a file that may be shared or committed."""
    import tomllib

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"cannot read config {path}: {exc}") from exc
    for key in ENVIRONMENT_ONLY:
        if key in data:
            raise BadInput(
                f"{key} may only be set in the environment (PAL_{key.upper()}), not in {path}"
            )
    return data


def _from_environment() -> dict[str, str]:
    """`PAL_<FIELD>` for each field, in any case; other variables are ignored."""
    found = {name.upper(): value for name, value in os.environ.items()}
    return {
        field: found[ENV_PREFIX + field.upper()]
        for field in Settings.model_fields
        if ENV_PREFIX + field.upper() in found
    }


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from every source; `overrides` (CLI flags) win, None meaning "not given"."""
    toml_file = config_path(config_file)
    merged = _read_toml(toml_file) if toml_file is not None else {}
    merged.update(_from_environment())
    merged.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise BadInput(_one_line(exc)) from exc


def _one_line(exc: ValidationError) -> str:
    """`bad setting sweep_seconds (PAL_SWEEP_SECONDS): must be greater than 0, not '-5'`."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "settings"
    name = f"{where} ({ENV_PREFIX}{where.upper()})" if where in Settings.model_fields else where
    message = str(first["msg"]).removeprefix("Value error, ").replace("Input should be", "must be")
    given = first.get("input")
    shown = repr(given) if len(repr(given)) <= 60 else repr(given)[:57] + "..."
    if where in SECRET_FIELDS or given is None or isinstance(given, dict) or shown in message:
        return f"bad setting {name}: {message}"
    return f"bad setting {name}: {message}, not {shown}"
