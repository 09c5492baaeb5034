"""GTFS-Realtime occupancy from passengers, seats and total capacity.

Mapping (passengers p, seats S, total capacity C = seated + standing):

==========================  ===========================================
EMPTY                       p <= max(2, 5 % of S)
MANY_SEATS_AVAILABLE        p < 50 % of S (load factor below 0.5)
FEW_SEATS_AVAILABLE         p < S (a seat is still free)
STANDING_ROOM_ONLY          p < S + 60 % of the standing room (C - S)
CRUSHED_STANDING_ROOM_ONLY  p < 95 % of C
FULL                        p >= 95 % of C
==========================  ===========================================

NOT_ACCEPTING_PASSENGERS, NO_DATA_AVAILABLE and NOT_BOARDABLE are never produced: a full bus
still opens its doors for alighting passengers. ``occupancy_percentage`` is p / C in whole
percent (GTFS-RT: relative to the total design capacity, not to the seats).
"""

from __future__ import annotations

from smartcity.proto import OccupancyStatus


def occupancy_status(passengers: int, seats: int, capacity: int) -> OccupancyStatus:
    """The :class:`OccupancyStatus` value for ``passengers`` on board."""
    if passengers <= max(2, 0.05 * seats):
        return OccupancyStatus.EMPTY
    if passengers < 0.5 * seats:
        return OccupancyStatus.MANY_SEATS_AVAILABLE
    if passengers < seats:
        return OccupancyStatus.FEW_SEATS_AVAILABLE
    if passengers < seats + 0.6 * (capacity - seats):
        return OccupancyStatus.STANDING_ROOM_ONLY
    if passengers < 0.95 * capacity:
        return OccupancyStatus.CRUSHED_STANDING_ROOM_ONLY
    return OccupancyStatus.FULL


def occupancy_percentage(passengers: int, capacity: int) -> int:
    """Whole percent of the total capacity (half up)."""
    return (200 * passengers + capacity) // (2 * capacity) if capacity > 0 else 0


def occupancy_tables(seats: int, capacity: int) -> tuple[list[OccupancyStatus], list[int]]:
    """Status and percentage for every passenger count 0..capacity (lookup tables)."""
    counts = range(capacity + 1)
    return ([occupancy_status(p, seats, capacity) for p in counts],
            [occupancy_percentage(p, capacity) for p in counts])
