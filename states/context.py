"""What the edge (CLI or service) hands the engine instead of a clock: `now` and the local rules.

Pure data: the edge reads the clock once and passes it down; nothing below reads it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from states.calendar import local_date

DEFAULT_ZONE = ZoneInfo("America/Detroit")
# How a notice's reader reaches the Office of Partnership Districts (PAL_OFFICE_PHONE,
# PAL_OFFICE_WEB); fictional defaults, like the demo's addresses.
DEFAULT_OFFICE_PHONE = "517-555-0100"
DEFAULT_OFFICE_WEB = "https://www.mde.example/partnership"


@dataclass(frozen=True)
class Context:
    now: datetime
    tz: ZoneInfo = DEFAULT_ZONE
    notice_hour: int = 8
    # The rule version new agreements and renewals start under; None for the shipped default.
    rules_version: str | None = None
    # The domain of the Message-IDs of the emails queued (PAL_MESSAGE_ID_DOMAIN, by default the
    # sender's domain), and the sender (PAL_MAIL_FROM), the organizer of calendar entries.
    message_domain: str = "pal.localhost"
    mail_from: str | None = None
    # The office's contact details every notice ends with.
    office_phone: str = DEFAULT_OFFICE_PHONE
    office_web: str = DEFAULT_OFFICE_WEB

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("Context.now must be an aware datetime")

    @property
    def today(self) -> date:
        return local_date(self.now, self.tz)
