"""Transit KPIs: excess wait time, headway regularity and bunching, on-time performance and load."""

from smartcity.analysis.transit.expr import (
    bunched_expr,
    expected_wait_expr,
    gapped_expr,
    headway_cv_expr,
    headway_los_expr,
    headway_on_time_expr,
    headway_ratio_expr,
    on_time_expr,
    otp_class_expr,
    passenger_load_los_expr,
)
from smartcity.analysis.transit.headways import (
    BunchingDefinition,
    GappingDefinition,
    Share,
    bunching,
    headway_cv,
    headway_los,
    headway_on_time,
    is_bunched,
    is_gapped,
)
from smartcity.analysis.transit.load import is_overcrowded, load_factor, passenger_load_los
from smartcity.analysis.transit.ontime import (
    DEFAULT_WINDOW,
    OTP_PRESETS,
    OnTimePerformance,
    OnTimeWindow,
    on_time_performance,
    resolve_window,
)
from smartcity.analysis.transit.wait import WaitTimes, expected_wait, wait_times

__all__ = [
    "DEFAULT_WINDOW",
    "OTP_PRESETS",
    "BunchingDefinition",
    "GappingDefinition",
    "OnTimePerformance",
    "OnTimeWindow",
    "Share",
    "WaitTimes",
    "bunched_expr",
    "bunching",
    "expected_wait",
    "expected_wait_expr",
    "gapped_expr",
    "headway_cv",
    "headway_cv_expr",
    "headway_los",
    "headway_los_expr",
    "headway_on_time",
    "headway_on_time_expr",
    "headway_ratio_expr",
    "is_bunched",
    "is_gapped",
    "is_overcrowded",
    "load_factor",
    "on_time_expr",
    "on_time_performance",
    "otp_class_expr",
    "passenger_load_los",
    "passenger_load_los_expr",
    "resolve_window",
    "wait_times",
]
