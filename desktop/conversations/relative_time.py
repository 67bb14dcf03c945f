"""How long ago a conversation was updated, and which day group it falls in.

Pure functions of two local datetimes (the update and now), so they are tested without
Qt or a clock. The list shows the first ("2 min ago") on each row and the second
("Yesterday") as headers over the rows, as ChatGPT and Jan do.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

# English like the rest of the window; ``strftime`` would follow the C locale, which
# is not necessarily the user's either.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

TODAY = "Today"
YESTERDAY = "Yesterday"
PREVIOUS_7_DAYS = "Previous 7 days"
PREVIOUS_30_DAYS = "Previous 30 days"


def local_datetime(timestamp: float) -> datetime:
    """A Unix time as the user's wall clock shows it."""
    return datetime.fromtimestamp(timestamp)


def _days_between(earlier: datetime, now: datetime) -> int:
    """Calendar days from ``earlier`` to ``now`` (0: the same day); never negative."""
    return max(0, (now.date() - earlier.date()).days)


def relative_time(when: datetime, now: datetime) -> str:
    """ "just now", "2 min ago", "3 h ago", "Yesterday", "Tuesday", "Mar 4", "Mar 4, 2023".

    A time in the future (another machine's clock, a clock set back) is "just now":
    the row is at least that recent.
    """
    elapsed = now - when
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < timedelta(hours=1):
        return f"{elapsed // timedelta(minutes=1)} min ago"
    days = _days_between(when, now)
    if days == 0:
        return f"{elapsed // timedelta(hours=1)} h ago"
    if days == 1:
        return YESTERDAY
    if days < 7:
        return WEEKDAYS[when.weekday()]  # unambiguous: the last six days
    short = f"{MONTHS[when.month - 1][:3]} {when.day}"
    return short if when.year == now.year else f"{short}, {when.year}"


def day_group(when: datetime, now: datetime) -> str:
    """The header a row sits under: Today, Yesterday, Previous 7 days, Previous 30 days,
    then the month ("March") within this year, then the year ("2023")."""
    days = _days_between(when, now)
    if days == 0:
        return TODAY
    if days == 1:
        return YESTERDAY
    if days <= 7:
        return PREVIOUS_7_DAYS
    if days <= 30:
        return PREVIOUS_30_DAYS
    if when.year == now.year:
        return MONTHS[when.month - 1]
    return str(when.year)


def full_time(when: datetime) -> str:
    """The exact time, for a tooltip: "Tuesday, March 4, 2025 at 14:05"."""
    day: date = when.date()
    return (
        f"{WEEKDAYS[day.weekday()]}, {MONTHS[day.month - 1]} {day.day}, {day.year} at {when:%H:%M}"
    )
