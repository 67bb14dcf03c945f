"""The current date and time, in the user's time zone or a named one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.tools.errors import ToolError


def current_time(timezone: str | None = None) -> str:
    if timezone:
        try:
            now = datetime.now(ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: an unreadable zone file
            shown = repr(timezone[:64])
            raise ToolError(f"unknown time zone {shown} (use e.g. 'Europe/Paris')") from None
    else:
        now = datetime.now().astimezone()
    return f"{now.strftime('%A %d %B %Y, %H:%M:%S')} {now.tzname()} (UTC{now.strftime('%z')})"
