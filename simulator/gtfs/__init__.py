"""GTFS feeds: reading them exactly (:mod:`.feed`, :mod:`.calendar`), the trips of a date (:mod:`.day`),
vehicle blocks (:mod:`.blocks`) and the city model imported from a feed (:mod:`.city`)."""

from smartcity.simulator.gtfs.blocks import vehicle_blocks
from smartcity.simulator.gtfs.city import import_gtfs
from smartcity.simulator.gtfs.day import DayTrip, trips_in_progress, trips_on
from smartcity.simulator.gtfs.feed import Feed, read_feed

__all__ = ["DayTrip", "Feed", "import_gtfs", "read_feed", "trips_in_progress", "trips_on", "vehicle_blocks"]
