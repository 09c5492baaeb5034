"""Pure analytics for smartcity: air-quality indices, trends, hotspots and transit KPIs.

Every function here takes data and returns data. Nothing reads files, talks to the network or
keeps state, so the marts in ``flows/`` decide where the data comes from and where it goes.

- ``analysis.air``: US EPA AQI and NowCast, daily AQI, the European AQI, WHO 2021 guideline
  flags, Mann–Kendall and Sen trends, Getis–Ord Gi* hotspots, and Polars expressions for the
  same rules on large frames.
- ``analysis.transit``: excess wait time, headway regularity and bunching, on-time performance
  and passenger load.
"""
