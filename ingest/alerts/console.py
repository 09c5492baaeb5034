"""One readable line per alert record, for the console of ``smartcity alerts``.

Format (fields separated by two spaces)::

    <event time, UTC>  <state>  <severity>  <kind>  <message>  [<alert id>]

for example::

    2025-03-11 09:24:35Z  OPEN    WARNING   CROWDING          bus B010 on route R03 crowded: 86% of capacity ...
"""

from __future__ import annotations

from datetime import UTC, datetime

from smartcity.proto import Alert, AlertKind, AlertState, Severity


def format_alert(alert: Alert) -> str:
    when = datetime.fromtimestamp(alert.event_time_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    state = AlertState.Name(alert.state)
    severity = Severity.Name(alert.severity)
    kind = AlertKind.Name(alert.kind)
    return f"{when}  {state:<6}  {severity:<8}  {kind:<16}  {alert.message}  [{alert.alert_id}]"


STYLES = {"OPEN": "bold red", "UPDATE": "red", "CLOSED": "green"}


def style_of(alert: Alert) -> str:
    return STYLES.get(AlertState.Name(alert.state), "")
