"""Years for syslog timestamps that have none ("Nov 29 04:10:01").

Two ways to decide, both without reading the clock here (callers pass `reference`):

- From a reference time (the file's mtime, or now for a file being followed): a line cannot
  have been written after the reference (a day of slack covers clock steps and zones), so a line
  gets the reference's year unless that would put it in the future, in which case it is from the
  year before. A December line read in January is last year's; in a file spanning the new year
  the December lines get the old year and the January lines the new one.
- From a given first-line year (`parse-log --year Y`): the first line gets Y and every later
  line the year that puts it closest to the line before it, so a jump back in month (Dec -> Jan)
  is a new year and a few lines written out of order around midnight stay in their year.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

_SLACK = timedelta(days=1)
_HALF_YEAR = timedelta(days=183)


class YearResolver:
    def __init__(
        self,
        *,
        reference: datetime | None = None,
        year: int | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        """`reference` must be aware; `year`, when given, wins. `tz` is the zone the log's
        timestamps are written in (None: this machine's local zone)."""
        if reference is None and year is None:
            raise ValueError("YearResolver needs a reference time or a year")
        self._year = year
        self._previous: datetime | None = None
        self._reference: datetime | None = None
        if reference is not None:
            local = reference.astimezone(tz) if tz is not None else reference.astimezone()
            self._reference = local.replace(tzinfo=None)

    @property
    def stateless(self) -> bool:
        """True when a line's year depends on its own time stamp only (reference mode), so
        callers may cache results; the chained mode depends on the lines before."""
        return self._year is None

    def resolve(self, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
        """The naive wall-clock time of the line. Raises ValueError for an impossible date."""
        if self._year is not None:
            return self._resolve_chained(month, day, hour, minute, second)
        assert self._reference is not None
        ref = self._reference
        when = _in_year_at_or_before(ref.year, month, day, hour, minute, second)
        if when > ref + _SLACK:
            when = _in_year_at_or_before(when.year - 1, month, day, hour, minute, second)
        return when

    def _resolve_chained(
        self, month: int, day: int, hour: int, minute: int, second: int
    ) -> datetime:
        previous = self._previous
        if previous is None:
            assert self._year is not None
            when = _in_year_at_or_before(self._year, month, day, hour, minute, second)
        else:
            when = _in_year_at_or_before(previous.year, month, day, hour, minute, second)
            if when < previous - _HALF_YEAR:
                when = _in_year_at_or_after(previous.year + 1, month, day, hour, minute, second)
            elif when > previous + _HALF_YEAR:
                when = _in_year_at_or_before(previous.year - 1, month, day, hour, minute, second)
        self._previous = when
        return when


def _in_year_at_or_before(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> datetime:
    # Feb 29 only exists in leap years: step back to the nearest one.
    for candidate in range(year, year - 9, -1):
        try:
            return datetime(candidate, month, day, hour, minute, second)
        except ValueError:
            if (month, day) != (2, 29):
                raise
    raise ValueError("no leap year found")


def _in_year_at_or_after(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> datetime:
    for candidate in range(year, year + 9):
        try:
            return datetime(candidate, month, day, hour, minute, second)
        except ValueError:
            if (month, day) != (2, 29):
                raise
    raise ValueError("no leap year found")
