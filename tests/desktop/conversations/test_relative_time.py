"""Relative times and day groups, as the conversation list shows them (no Qt, no clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from desktop.conversations.relative_time import day_group, full_time, relative_time

# A Wednesday afternoon.
NOW = datetime(2025, 3, 12, 15, 30)


@pytest.mark.parametrize(
    ("ago", "shown"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(seconds=-30), "just now"),  # another clock slightly ahead
        (timedelta(minutes=1), "1 min ago"),
        (timedelta(minutes=2, seconds=50), "2 min ago"),
        (timedelta(minutes=59), "59 min ago"),
        (timedelta(hours=1), "1 h ago"),
        (timedelta(hours=3, minutes=10), "3 h ago"),
        (timedelta(hours=15, minutes=30), "15 h ago"),  # 00:00 today
        (timedelta(hours=15, minutes=31), "Yesterday"),  # 23:59 yesterday
        (timedelta(days=1, hours=10), "Yesterday"),
        (timedelta(days=2), "Monday"),
        (timedelta(days=6), "Thursday"),
        (timedelta(days=7), "Mar 5"),  # a week ago: a weekday name would be ambiguous
        (timedelta(days=60), "Jan 11"),
        (timedelta(days=400), "Feb 6, 2024"),
    ],
)
def test_relative_time(ago: timedelta, shown: str) -> None:
    assert relative_time(NOW - ago, NOW) == shown


@pytest.mark.parametrize(
    ("when", "group"),
    [
        (datetime(2025, 3, 12, 0, 0), "Today"),
        (datetime(2025, 3, 12, 16, 0), "Today"),  # a little in the future
        (datetime(2025, 3, 11, 23, 59), "Yesterday"),
        (datetime(2025, 3, 11, 0, 1), "Yesterday"),
        (datetime(2025, 3, 10, 12, 0), "Previous 7 days"),
        (datetime(2025, 3, 5, 9, 0), "Previous 7 days"),
        (datetime(2025, 3, 4, 9, 0), "Previous 30 days"),
        (datetime(2025, 2, 10, 9, 0), "Previous 30 days"),
        (datetime(2025, 2, 9, 9, 0), "February"),
        (datetime(2025, 1, 1, 0, 0), "January"),
        (datetime(2024, 12, 31, 23, 0), "2024"),
        (datetime(2019, 6, 1), "2019"),
    ],
)
def test_day_group(when: datetime, group: str) -> None:
    assert day_group(when, NOW) == group


def test_groups_follow_each_other_newest_first() -> None:
    """Going back in time, a group never comes back once left: headers appear once."""
    times = [NOW - timedelta(hours=h) for h in range(0, 24 * 800, 7)]
    groups = [day_group(t, NOW) for t in times]
    seen: list[str] = []
    for group in groups:
        if not seen or seen[-1] != group:
            assert group not in seen
            seen.append(group)
    assert seen[:4] == ["Today", "Yesterday", "Previous 7 days", "Previous 30 days"]
    assert seen[-2:] == ["2024", "2023"]


def test_full_time_for_the_tooltip() -> None:
    assert full_time(datetime(2025, 3, 4, 9, 5)) == "Tuesday, March 4, 2025 at 09:05"
