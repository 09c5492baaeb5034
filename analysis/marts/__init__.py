"""The marts: tables computed from the lake's raw datasets, one row grain each.

Each mart is a pure function in its own module: lazy frames of raw rows in, a frame out. The
registry ``MARTS`` names them with the raw datasets they read and their grain, and
``compute_mart`` runs one for a day of a lake. ``smartcity.storage.marts.write_mart`` stores the result.

| mart | grain |
| --- | --- |
| ``air_quality_hourly`` | sensor × UTC hour |
| ``air_hotspots`` | sensor × day |
| ``air_daily_sums`` | sensor × pollutant × averaging day, per raw partition date |
| ``air_monthly`` | sensor × pollutant × calendar month |
| ``air_trends`` | sensor × pollutant, as of a date |
| ``bus_occupancy`` | route × UTC hour × stop |
| ``bus_window_stats`` | tumbling window × bus |
| ``bus_headways`` | arrival of a bus at a station |
| ``route_performance`` | route × day |
| ``station_service`` | station × day, and station × UTC hour |
| ``stop_visits`` | TIDES: a vehicle's visit to a stop on a performed trip |
| ``trips_performed`` | TIDES: a trip a vehicle performed |

All times are UTC; a mart's day is the lake partition's day. A mart may also read other marts'
stored partitions (``upstream``): ``air_trends`` reads ``air_monthly``, which reads
``air_daily_sums``, so no run reads more than a day of raw readings.
"""

from smartcity.analysis.marts.compute import compute_mart, landed_dates, mart_inputs, raw_inputs, scan_dates
from smartcity.analysis.marts.registry import MARTS, mart_spec
from smartcity.analysis.marts.spec import MartSpec

__all__ = ["MARTS", "MartSpec", "compute_mart", "landed_dates", "mart_inputs", "mart_spec", "raw_inputs",
           "scan_dates"]
