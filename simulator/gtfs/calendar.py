"""Which services run on a date: ``calendar.txt`` (weekly pattern between two dates) corrected by
``calendar_dates.txt`` (exception_type 1 adds the date, 2 removes it), as the GTFS reference defines.
A feed may have either file or both; a service known only from ``calendar_dates.txt`` runs exactly on
its added dates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from smartcity.simulator.gtfs.tables import Row

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_date(row: Row, column: str) -> date:
    text = row.need(column)
    if len(text) != 8 or not text.isdigit():
        raise row.error(f"{column} is not a YYYYMMDD date: {text[:20]!r}")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise row.error(f"{column} is not a date: {text!r}") from None


@dataclass(frozen=True, slots=True)
class Weekly:
    """A ``calendar.txt`` row: the weekdays a service runs (Monday first) from ``start`` to ``end`` inclusive."""

    days: tuple[bool, ...]
    start: date
    end: date


@dataclass(slots=True)
class ServiceCalendar:
    """The services of a feed and the dates they run."""

    weekly: dict[str, Weekly] = field(default_factory=dict)
    added: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))
    removed: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def from_rows(cls, calendar: Iterable[Row], calendar_dates: Iterable[Row]) -> ServiceCalendar:
        out = cls()
        for row in calendar:
            flags = []
            for day in WEEKDAYS:
                value = row.get(day, "0")
                if value not in ("0", "1"):
                    raise row.error(f"{day} must be 0 or 1, not {value[:10]!r}")
                flags.append(value == "1")
            out.weekly[row.need("service_id")] = Weekly(tuple(flags), parse_date(row, "start_date"),
                                                        parse_date(row, "end_date"))
        for row in calendar_dates:
            service, when, kind = row.need("service_id"), parse_date(row, "date"), row.need("exception_type")
            if kind == "1":
                out.added[service].add(when)
            elif kind == "2":
                out.removed[service].add(when)
            else:
                raise row.error(f"exception_type must be 1 or 2, not {kind[:10]!r}")
        return out

    @property
    def service_ids(self) -> set[str]:
        return set(self.weekly) | set(self.added) | set(self.removed)

    def runs(self, service_id: str, day: date) -> bool:
        if day in self.removed.get(service_id, ()):
            return False
        if day in self.added.get(service_id, ()):
            return True
        weekly = self.weekly.get(service_id)
        return weekly is not None and weekly.start <= day <= weekly.end and weekly.days[day.weekday()]

    def services_on(self, day: date) -> set[str]:
        return {s for s in self.service_ids if self.runs(s, day)}

    def span(self) -> tuple[date, date] | None:
        """The first and last date any service runs (None for an empty calendar)."""
        days = [d for dates in self.added.values() for d in dates]
        for weekly in self.weekly.values():
            days += [weekly.start, weekly.end]
        return (min(days), max(days)) if days else None
