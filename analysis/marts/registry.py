"""The registry of marts: every mart's :class:`~smartcity.analysis.marts.spec.MartSpec`, by name."""

from __future__ import annotations

from smartcity.analysis.marts import (
    air_hotspots,
    air_monthly,
    air_quality_hourly,
    air_trends,
    bus_headways,
    bus_occupancy,
    bus_window_stats,
    route_performance,
    station_service,
)
from smartcity.analysis.marts.spec import MartSpec
from smartcity.analysis.tides import stop_visits, trips_performed

MARTS: dict[str, MartSpec] = {
    spec.name: spec
    for spec in (
        MartSpec(
            "air_quality_hourly",
            air_quality_hourly.air_quality_hourly,
            ("air_readings",),
            "sensor × UTC hour with readings",
            "Hourly means, PM NowCast, 8-h O3 and CO, EPA AQI per pollutant and overall, category, "
            "dominant pollutant and European AQI level.",
            air_quality_hourly.SCHEMA,
            history_days=1,
            engine="streaming",
        ),
        MartSpec(
            "air_hotspots",
            air_hotspots.air_hotspots,
            ("air_readings",),
            "sensor × day",
            "Daily mean PM2.5 and NO2 with Getis–Ord Gi* z, p and hot/cold spot class in a distance band.",
            air_hotspots.SCHEMA,
            engine="streaming",
        ),
        MartSpec(
            "air_daily_sums",
            air_monthly.air_daily_sums,
            ("air_readings",),
            "sensor × pollutant × averaging day, per raw partition date",
            "Micro-unit sums and counts of every pollutant's valid readings: what monthly means are built from.",
            air_monthly.DAILY_SCHEMA,
            engine="streaming",
        ),
        MartSpec(
            "air_monthly",
            air_monthly.air_monthly,
            (),
            "sensor × pollutant × calendar month",
            "Sums, counts and exact means of every pollutant per month, from air_daily_sums.",
            air_monthly.MONTHLY_SCHEMA,
            upstream=("air_daily_sums",),
            upstream_dates=air_monthly.monthly_inputs,
            partitions=air_monthly.months_touched,
            engine="streaming",
        ),
        MartSpec(
            "air_trends",
            air_trends.air_trends,
            (),
            "sensor × pollutant, as of the day",
            "openair's TheilSen on monthly means: STL-deseasonalised past 24 months, Sen slope per year with its "
            "block-bootstrap interval, and the Mann–Kendall test.",
            air_trends.SCHEMA,
            upstream=("air_monthly",),
            result_key=air_monthly.settled_months,
            engine="streaming",
        ),
        MartSpec(
            "bus_occupancy",
            bus_occupancy.bus_occupancy,
            ("bus_telemetry",),
            "route × UTC hour × stop",
            "Mean and max passengers, load factor, TCQSM load level, crowded share and GTFS-RT occupancy "
            "status distribution.",
            bus_occupancy.SCHEMA,
        ),
        MartSpec(
            "bus_window_stats",
            bus_window_stats.bus_window_stats,
            ("bus_telemetry",),
            "tumbling window × bus",
            "Min, max and mean passengers per bus in tumbling windows (20 min), with the fleet mean.",
            bus_window_stats.SCHEMA,
        ),
        MartSpec(
            "bus_headways",
            bus_headways.bus_headways,
            ("station_events",),
            "arrival of a bus at a station",
            "Actual and scheduled headway, their ratio and the bunched flag of every arrival.",
            bus_headways.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "route_performance",
            route_performance.route_performance,
            ("station_events",),
            "route × day",
            "On-time performance, AWT/SWT/EWT, headway cv and TCQSM level, bunching, run-time "
            "percentiles and mean delay.",
            route_performance.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "station_service",
            station_service.station_service,
            ("station_events",),
            "station × day and station × UTC hour",
            "Departures served vs scheduled, headway-based wait, dwell, on-time share, peak waiting, "
            "overcrowding events, boardings and alightings.",
            station_service.SCHEMA,
            history_days=1,
            engine="streaming",
        ),
        MartSpec(
            "stop_visits",
            stop_visits.stop_visits,
            ("station_events",),
            "stop visit (TIDES v1.0 stop_visits)",
            "Scheduled and actual arrival and departure, dwell, boardings and alightings of every vehicle "
            "at every stop it served, in the TIDES stop_visits table's fields.",
            stop_visits.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "trips_performed",
            trips_performed.trips_performed,
            ("station_events",),
            "performed trip (TIDES v1.0 trips_performed)",
            "Vehicle, first and last stop, scheduled and actual start and end of every trip performed, in "
            "the TIDES trips_performed table's fields.",
            trips_performed.SCHEMA,
            history_days=1,
        ),
    )
}


def mart_spec(name: str) -> MartSpec:
    """The registered mart ``name``; ``KeyError`` naming the known marts otherwise."""
    try:
        return MARTS[name]
    except KeyError:
        msg = f"unknown mart {name!r}; known: {', '.join(MARTS)}"
        raise KeyError(msg) from None
