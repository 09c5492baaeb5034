"""Parameter types shared by the commands: durations, instants and link drops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from smartcity.core.durations import parse_duration


class SecondsType(click.ParamType):  # type: ignore[type-arg]  # generic in click's stubs only
    """Seconds, or a number with a unit: 250ms, 20s, 20m, 1h, 1d."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            return parse_duration(value)
        except ValueError:
            self.fail(f"expected a duration such as 250ms, 20s, 20m, 2h or 1d, got {value!r}", param, ctx)


class SpanType(SecondsType):
    """A positive duration as a ``timedelta``."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:  # type: ignore[override]
        if isinstance(value, timedelta):
            return value
        seconds = super().convert(value, param, ctx)
        if seconds <= 0:
            self.fail(f"{value!r} is not a positive duration like 90s, 15m, 2h or 1d", param, ctx)
        return timedelta(seconds=seconds)


class InstantType(click.ParamType):  # type: ignore[type-arg]  # generic in click's stubs only
    """An ISO-8601 date or date-time; without a zone it is UTC."""

    name = "iso-time"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO-8601 time like 2026-03-10T06:00 or 2026-03-10", param, ctx)
        return t if t.tzinfo else t.replace(tzinfo=UTC)


class LinkDropsType(click.ParamType):  # type: ignore[type-arg]  # generic in click's stubs only
    """``EVERY:FOR``: drop the link after every EVERY messages, for the duration FOR."""

    name = "EVERY:FOR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from smartcity.ingest.edge.play import LinkDrops

        if isinstance(value, LinkDrops):
            return value
        every, sep, span = str(value).partition(":")
        try:
            drops = LinkDrops(int(every), parse_duration(span))
        except ValueError:
            drops = None
        if not sep or drops is None or drops.every < 1 or drops.for_s <= 0:
            self.fail(f"expected EVERY:FOR such as 5000:10s (messages, then a duration), got {value!r}", param, ctx)
        return drops


SECONDS = SecondsType()
SPAN = SpanType()
INSTANT = InstantType()
LINK_DROPS = LinkDropsType()
