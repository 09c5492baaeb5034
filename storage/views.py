"""Catalog views over raw datasets (``VIEWS``: name -> SQL).

``vehicle_locations`` is TIDES v1.0 ``vehicle_locations`` over ``bus_telemetry`` (its table schema is
vendored in ``smartcity/analysis/tides/schemas``).

One row per telemetry reading. ``location_ping_id`` is the reading's lake coordinates
(``<topic>:<partition>:<offset>``, unique in an exactly-once lake); ``event_timestamp`` its event
time; ``trip_id_performed`` and ``trip_id_scheduled`` its trip (null between trips);
``trip_stop_sequence`` and ``stop_id`` the current or next stop; ``current_status`` in the
specification's words; ``heading``, ``speed`` (m/s), ``odometer`` (m); ``schedule_deviation`` the
seconds behind schedule (negative: early); ``latitude``/``longitude`` null when the device sent no
position.
"""

from __future__ import annotations

STATUS = {"INCOMING_AT": "Incoming at", "STOPPED_AT": "Stopped at", "IN_TRANSIT_TO": "In transit to"}

VIEW_SQL = """
SELECT
    concat(_topic, ':', _partition, ':', _offset) AS location_ping_id,
    event_time AS event_timestamp,
    nullif(trip_id, '') AS trip_id_performed,
    nullif(trip_id, '') AS trip_id_scheduled,
    CAST(CASE WHEN stop_sequence > 0 THEN stop_sequence END AS BIGINT) AS trip_stop_sequence,
    bus_id AS vehicle_id,
    nullif(next_stop_id, '') AS stop_id,
    CASE current_status {cases} END AS current_status,
    latitude,
    longitude,
    CAST(bearing_deg AS DOUBLE) AS heading,
    CAST(speed_mps AS DOUBLE) AS speed,
    odometer_m AS odometer,
    CAST(delay_s AS BIGINT) AS schedule_deviation,
    CASE WHEN trip_id <> '' THEN 'In service' END AS trip_type
FROM bus_telemetry
""".format(cases=" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in STATUS.items()))

VIEWS: dict[str, str] = {"vehicle_locations": VIEW_SQL}
