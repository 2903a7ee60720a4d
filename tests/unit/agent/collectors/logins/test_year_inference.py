"""Years for "Mon dd hh:mm:ss" timestamps."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timezone
from pathlib import Path

import pytest

from palisade.agent.collectors.logins import SyslogLineParser, YearResolver, read_log_file


def _utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def test_line_gets_the_reference_year_when_not_in_the_future() -> None:
    years = YearResolver(reference=_utc(2026, 11, 29, 12), tz=UTC)
    assert years.resolve(11, 29, 4, 10, 1) == datetime(2026, 11, 29, 4, 10, 1)
    assert years.resolve(1, 2, 0, 0, 0) == datetime(2026, 1, 2)


def test_december_line_read_in_january_is_last_year() -> None:
    years = YearResolver(reference=_utc(2027, 1, 3, 8), tz=UTC)
    assert years.resolve(12, 31, 23, 59, 59) == datetime(2026, 12, 31, 23, 59, 59)
    assert years.resolve(1, 2, 10, 0, 0) == datetime(2027, 1, 2, 10)


def test_a_day_of_slack_for_clock_skew() -> None:
    years = YearResolver(reference=_utc(2026, 11, 29, 12), tz=UTC)
    assert years.resolve(11, 30, 6, 0, 0).year == 2026
    assert years.resolve(12, 1, 0, 0, 0).year == 2025


def test_reference_is_taken_in_the_log_zone() -> None:
    # 2027-01-01 02:00 in UTC+5 is still 2026-12-31 in UTC
    from datetime import timedelta

    plus5 = timezone(timedelta(hours=5))
    years = YearResolver(reference=_utc(2026, 12, 31, 21), tz=plus5)
    assert years.resolve(1, 1, 1, 0, 0) == datetime(2027, 1, 1, 1)


def test_given_year_rolls_over_when_the_month_goes_back() -> None:
    years = YearResolver(year=2025, tz=UTC)
    got = [
        years.resolve(12, 31, 23, 59, 58),
        years.resolve(12, 31, 23, 59, 59),
        years.resolve(1, 1, 0, 0, 0),
        years.resolve(12, 31, 23, 59, 59),  # written out of order around midnight
        years.resolve(1, 1, 0, 0, 1),
        years.resolve(6, 1, 0, 0, 0),
        years.resolve(12, 1, 0, 0, 0),
        years.resolve(1, 5, 0, 0, 0),
    ]
    assert [d.year for d in got] == [2025, 2025, 2026, 2025, 2026, 2026, 2026, 2027]


def test_february_29_goes_to_a_leap_year() -> None:
    years = YearResolver(reference=_utc(2027, 3, 1), tz=UTC)
    assert years.resolve(2, 29, 0, 0, 0) == datetime(2024, 2, 29)
    assert YearResolver(year=2028, tz=UTC).resolve(2, 29, 1, 0, 0).year == 2028


def test_impossible_date_raises_value_error() -> None:
    with pytest.raises(ValueError):
        YearResolver(year=2025).resolve(4, 31, 0, 0, 0)


def test_needs_a_reference_or_a_year() -> None:
    with pytest.raises(ValueError):
        YearResolver()


_ROLLOVER = (
    "Dec 31 23:59:58 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2\n"
    "Jan  1 00:00:03 h sshd[2]: Failed password for root from 192.0.2.1 port 2 ssh2\n"
)


def test_file_spanning_new_year_uses_its_mtime(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_ROLLOVER)
    mtime = _utc(2027, 1, 1, 0, 5).timestamp()
    os.utime(log, (mtime, mtime))
    result = read_log_file(str(log), tz=UTC)
    assert [e.to_json_dict()["time"] for e in result.events] == [
        "2026-12-31T23:59:58Z",
        "2027-01-01T00:00:03Z",
    ]


def test_file_read_with_an_explicit_first_year(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_ROLLOVER)
    result = read_log_file(str(log), year=2019, tz=UTC)
    assert [e.time.year for e in result.events] == [2019, 2020]


def test_parser_converts_local_wall_time_to_utc() -> None:
    from datetime import timedelta

    minus3 = timezone(timedelta(hours=-3))
    parser = SyslogLineParser(years=YearResolver(year=2026, tz=minus3), tz=minus3)
    event = parser.parse("Nov 29 22:00:00 h sshd[1]: Invalid user x from 192.0.2.1 port 5\n")
    assert event is not None and event.to_json_dict()["time"] == "2026-11-30T01:00:00Z"
