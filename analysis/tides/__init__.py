"""TIDES (Transit ITS Data Exchange Specification) v1.0 tables from the raw topics.

| table | how | grain |
| --- | --- | --- |
| ``stop_visits`` | mart (:mod:`.stop_visits`) | a vehicle's visit to a stop on a performed trip |
| ``trips_performed`` | mart (:mod:`.trips_performed`) | a trip a vehicle performed |
| ``vehicle_locations`` | catalog view over ``bus_telemetry`` (:mod:`smartcity.storage.views`) | a location ping |

Field names, types and enumerations are the specification's (its table schemas are vendored in
``schemas/``). ``vehicle_locations`` is a view rather than a copy: it renames the telemetry one to
one, and a copy would double the lake's largest dataset.
"""
