"""Errors of the daily report."""

from __future__ import annotations

from proto.errors import SmartcityError


class ReportError(SmartcityError):
    """The report cannot be built (no data for the date, a date that is not a date); one line."""
