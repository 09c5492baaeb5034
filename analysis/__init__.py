"""Pure analytics for smartcity: air-quality indices, trends, hotspots and transit KPIs.

Every function here takes data and returns data. Nothing writes files, talks to the network or
keeps state; the marts (``smartcity.analysis.marts``) read a lake given to them and return tables, and the
flows decide where those go.

- ``smartcity.analysis.air``: US EPA AQI and NowCast, daily AQI, the European AQI, WHO 2021 guideline
  flags, Mann–Kendall and Sen trends, Getis–Ord Gi* hotspots, and Polars expressions for the
  same rules on large frames.
- ``smartcity.analysis.transit``: excess wait time, headway regularity and bunching, on-time performance
  and passenger load.
- ``smartcity.analysis.marts``: the marts (air_quality_hourly, air_hotspots, air_trends, bus_occupancy,
  bus_window_stats, bus_headways, route_performance, station_service) as lazy Polars queries.
"""
