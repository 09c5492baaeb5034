"""Alert records: a rule's transition as a ``smartcity.v1.Alert`` with a one-line, readable message."""

from __future__ import annotations

from datetime import UTC, datetime

from smartcity.ingest.alerts.rules import Change, Hysteresis, alert_id
from smartcity.proto import Alert, AlertState, Severity

STATES = {"OPEN": AlertState.OPEN, "UPDATE": AlertState.UPDATE, "CLOSED": AlertState.CLOSED}
AIR_LABELS = {"aqi": ("PM NowCast AQI", "AQI", "{:.0f}"), "no2": ("NO2 mean", "ppb", "{:.1f} ppb"),
              "o3": ("O3 mean", "ppb", "{:.1f} ppb")}


def utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def span(c: Change) -> str:
    return f"{utc(c.start_ms)}-{utc(c.end_ms)} UTC"


def alert(rule: str, kind: int, subject_type: str, subject: str, c: Change, threshold: float, unit: str,
          message: str, *, route: str = "", window: tuple[int, int] = (0, 0), id_subject: str | None = None,
          event_time_ms: int | None = None) -> Alert:
    return Alert(
        alert_id=alert_id(rule, id_subject or subject, c.start_ms), kind=kind,  # type: ignore[arg-type]
        severity=Severity.CRITICAL if c.critical else Severity.WARNING, state=STATES[c.transition],
        subject_id=subject, subject_type=subject_type, start_time_ms=c.start_ms, end_time_ms=c.end_ms,
        window_start_ms=window[0], window_end_ms=window[1], observed_value=c.observed, peak_value=c.peak,
        threshold=threshold, unit=unit, message=message, route_id=route,
        event_time_ms=c.event_time_ms if event_time_ms is None else event_time_ms)


def crowding_text(bus: str, route: str, c: Change, rule: Hysteresis) -> str:
    where = f"bus {bus} on route {route}" if route else f"bus {bus}"
    if c.transition == "OPEN":
        return (f"{where} crowded: {c.observed:.0%} of capacity (above {rule.open_at:.0%} for "
                f"{rule.open_after} readings)")
    if c.transition == "UPDATE":
        return f"{where} critically crowded: {c.observed:.0%} of capacity"
    return f"{where} no longer crowded; peak {c.peak:.0%} of capacity, {span(c)}"


def air_text(name: str, sensor: str, c: Change, rule: Hysteresis) -> str:
    label, _unit, fmt = AIR_LABELS[name]
    if c.transition == "OPEN":
        return f"sensor {sensor}: {label} {fmt.format(c.observed)}, at or above {fmt.format(rule.open_at)}"
    if c.transition == "UPDATE":
        return f"sensor {sensor}: {label} {fmt.format(c.observed)}, critical"
    return f"sensor {sensor}: {label} back below {fmt.format(rule.close_below)}; peak {fmt.format(c.peak)}"


def delay_text(station: str, route: str, c: Change, rule: Hysteresis) -> str:
    if c.transition == "OPEN":
        return (f"route {route} departing station {station} {c.observed / 60:.1f} min late "
                f"(above {rule.open_at / 60:g} min)")
    if c.transition == "UPDATE":
        return f"route {route} departing station {station} {c.observed / 60:.1f} min late, critical"
    return f"route {route} at station {station} back on time; peak {c.peak / 60:.1f} min late"


def waiting_text(station: str, c: Change, rule: Hysteresis) -> str:
    if c.transition == "OPEN":
        return f"station {station}: {c.observed:.0f} passengers waiting (above {rule.open_at:.0f})"
    if c.transition == "UPDATE":
        return f"station {station}: {c.observed:.0f} passengers waiting, critical"
    return f"station {station}: queue back below {rule.close_below:.0f}; peak {c.peak:.0f}"


def silence_text(subject_type: str, key: str, c: Change, after_ms: int) -> str:
    if c.transition == "OPEN":
        return f"{subject_type} {key} silent: no data since {utc(c.start_ms)} UTC ({after_ms / 60_000:g} min)"
    return f"{subject_type} {key} reporting again after {c.peak / 60:.1f} min of silence, {span(c)}"
