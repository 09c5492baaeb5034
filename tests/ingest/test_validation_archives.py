"""Historical data is accepted: the event-time range is a setting, one bad pollutant value nulls only that
value (flagged in ``quality_flags``), the averaging-interval convention decides a reading's hour, and lake
files written before those columns existed still read everywhere. ``process_batch`` on a temporary lake."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from smartcity.analysis.marts import compute_mart
from smartcity.core.errors import ConfigError
from smartcity.core.settings import load_settings
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.landing import (
    DEFAULT_RULES,
    BatchResult,
    DeadLetter,
    LandingRules,
    lake_rows,
    process_batch,
)
from smartcity.ingest.sink.settings import AirTimeMarks, IngestSettings
from smartcity.proto import AirQualityReading
from smartcity.proto.codec import AIR
from smartcity.storage.catalog import catalog_path, connect, refresh_catalog
from smartcity.storage.commit import Committer, Part
from smartcity.storage.compact import compact
from smartcity.storage.datasets import AIR_READINGS
from smartcity.storage.formats import FORMATS, get_format
from smartcity.storage.layout import data_files, partition_of
from smartcity.storage.scan import read_table, scan

TOPIC = "smartcity.air.readings"
HOUR = 3_600_000
NOW = int(datetime(2026, 3, 12, tzinfo=UTC).timestamp() * 1000)  # the sink's clock in these tests
DAY = date(2026, 3, 10)
D0 = int(datetime(2026, 3, 10, tzinfo=UTC).timestamp() * 1000)  # 2026-03-10 00:00 UTC


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def reading(t_ms: int, sensor: str = "A1", **values: float) -> AirQualityReading:
    return AirQualityReading(sensor_id=sensor, event_time_ms=t_ms, latitude=47.37, longitude=8.54, **values)


def land(root: Path, messages: list[AirQualityReading], *, fmt: str = "parquet", first: int = 0,
         rules: LandingRules = DEFAULT_RULES, seen: list[DeadLetter] | None = None) -> BatchResult:
    return process_batch(AIR_READINGS, BatchDecoder(AIR_READINGS), Committer(root, get_format(fmt)), TOPIC, 0,
                         [AIR.encode(m) for m in messages], np.arange(first, first + len(messages)), now_ms=NOW,
                         rules=rules, before_landing=None if seen is None else seen.extend)


def rows(root: Path) -> list[dict[str, Any]]:
    return sorted(read_table(root, "air_readings").to_pylist(), key=lambda r: int(r["_offset"]))


# -- 1. the accepted event-time range is a setting ------------------------------------------------------


def test_a_1985_reading_lands_in_its_own_partition(tmp_path: Path) -> None:
    t = ms(1985, 6, 1, 12, 30)
    result = land(tmp_path, [reading(t, pm25_ugm3=41.0)])
    assert not result.dead and result.rows == 1
    assert [partition_of(f) for f in data_files(tmp_path, "air_readings")] == [("1985-06-01", 12)]
    (row,) = rows(tmp_path)
    assert row["event_time_ms"] == t and row["pm25_ugm3"] == 41.0 and row["quality_flags"] is None


def test_a_reading_before_the_configured_earliest_time_is_dead_lettered(tmp_path: Path) -> None:
    rules = IngestSettings.model_validate({"earliest_event_time": "1990-01-01"}).landing_rules()
    assert rules.earliest_event_time_ms == ms(1990, 1, 1)
    seen: list[DeadLetter] = []
    result = land(tmp_path, [reading(ms(1985, 6, 1, 12)), reading(ms(1995, 6, 1, 12))], rules=rules, seen=seen)
    assert seen == result.dead == [DeadLetter(0, "validate", "event_time_ms before 1990-01-01T00:00Z "
                                                             "([ingest] earliest_event_time)")]
    assert [r["_offset"] for r in rows(tmp_path)] == [1]


def test_far_future_times_are_still_refused_within_the_configured_allowance(tmp_path: Path) -> None:
    default = land(tmp_path / "default", [reading(NOW + 23 * HOUR), reading(NOW + 25 * HOUR)])
    assert [(d.index, d.reason) for d in default.dead] == [
        (1, "event_time_ms more than 24 h in the future ([ingest] max_event_time_ahead_s)")]
    rules = IngestSettings.model_validate({"max_event_time_ahead_s": "1h"}).landing_rules()
    strict = land(tmp_path / "strict", [reading(NOW + HOUR // 2), reading(NOW + 2 * HOUR)], rules=rules)
    assert [(d.index, d.reason) for d in strict.dead] == [
        (1, "event_time_ms more than 1 h in the future ([ingest] max_event_time_ahead_s)")]


def test_a_reading_without_a_time_or_a_sensor_is_still_dead_lettered(tmp_path: Path) -> None:
    result = land(tmp_path, [reading(0, pm25_ugm3=5.0), reading(D0, sensor="", no2_ppb=-1.0),
                             reading(-HOUR, pm25_ugm3=5.0)])
    assert [(d.index, d.reason) for d in result.dead] == [
        (0, "missing required field event_time_ms"), (1, "missing required field sensor_id"),
        (2, "event_time_ms before 1970-01-01T00:00Z ([ingest] earliest_event_time)")]
    assert result.rows == 0 and not result.landed


@pytest.mark.parametrize(("given", "expected"), [
    ("1985-01-01", datetime(1985, 1, 1, tzinfo=UTC)),
    ("1985-01-01T06:30Z", datetime(1985, 1, 1, 6, 30, tzinfo=UTC)),
    ("1985-01-01T08:30+02:00", datetime(1985, 1, 1, 6, 30, tzinfo=UTC)),
    ("1985-01-01 06:30", datetime(1985, 1, 1, 6, 30, tzinfo=UTC)),  # no zone: UTC
    (473_385_600_000, datetime(1985, 1, 1, tzinfo=UTC)),             # epoch ms
    ("473385600000", datetime(1985, 1, 1, tzinfo=UTC)),              # epoch ms from an environment variable
    (date(1985, 1, 1), datetime(1985, 1, 1, tzinfo=UTC)),             # a TOML date
])
def test_earliest_event_time_accepts_dates_times_and_epoch_ms(given: object, expected: datetime) -> None:
    settings = IngestSettings.model_validate({"earliest_event_time": given})
    assert settings.earliest_event_time == expected
    assert settings.earliest_event_time_ms == int(expected.timestamp() * 1000)


def test_event_time_settings_come_from_toml_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "smartcity.toml"
    config.write_text('[ingest]\nearliest_event_time = 1985-01-01\nair_time_marks = "end"\n')
    settings = load_settings(config, environ={"SMARTCITY_INGEST_MAX_EVENT_TIME_AHEAD_S": "2h"}).ingest
    assert settings.landing_rules() == LandingRules(ms(1985, 1, 1), 2 * HOUR, "end")
    env = load_settings(environ={"SMARTCITY_INGEST_EARLIEST_EVENT_TIME": "2001-02-03T04:05Z"}).ingest
    assert env.earliest_event_time_ms == ms(2001, 2, 3, 4, 5)
    for bad in ('earliest_event_time = "yesterday"', 'earliest_event_time = "1850-01-01"',
                'air_time_marks = "middle"'):
        config.write_text(f"[ingest]\n{bad}\n")
        with pytest.raises(ConfigError):
            load_settings(config, environ={})


def test_the_defaults_of_process_batch_are_the_settings_defaults() -> None:
    assert IngestSettings().landing_rules() == DEFAULT_RULES == LandingRules(0, 24 * HOUR, "start")


# -- 2. one bad pollutant value does not drop the reading ----------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_negative_no2_is_nulled_and_flagged_and_the_rest_of_the_reading_lands(tmp_path: Path, fmt: str) -> None:
    messages = [
        reading(D0 + 60_000, pm25_ugm3=12.5, no2_ppb=-3.0, o3_ppb=30.0),
        reading(D0 + 120_000, pm25_ugm3=13.5, pm10_ugm3=math.nan, no2_ppb=-1.0, humidity_pct=140.0),
        reading(D0 + 180_000, pm25_ugm3=14.5, no2_ppb=20.0, temperature_c=math.inf),
        reading(D0 + 240_000, pm25_ugm3=15.5, no2_ppb=0.0),
    ]
    result = land(tmp_path, messages, fmt=fmt)
    assert not result.dead and result.rows == 4 and result.flagged == 3
    got = rows(tmp_path)
    assert [r["quality_flags"] for r in got] == [
        "no2_ppb<0", "pm10_ugm3=NaN; no2_ppb<0; humidity_pct>100", "temperature_c=inf", None]
    assert [r["no2_ppb"] for r in got] == [None, None, 20.0, 0.0]
    assert [r["pm25_ugm3"] for r in got] == [12.5, 13.5, 14.5, 15.5]  # the sensor's other values stay
    assert got[0]["o3_ppb"] == 30.0 and got[1]["pm10_ugm3"] is None and got[1]["humidity_pct"] is None
    assert got[2]["temperature_c"] is None
    hourly = compute_mart("air_quality_hourly", tmp_path, DAY).row(0, named=True)
    assert hourly["n_readings"] == 4 and hourly["pm25_ugm3"] == 14.0 and hourly["no2_ppb"] == 10.0


def test_flags_are_sql_visible(tmp_path: Path) -> None:
    land(tmp_path, [reading(D0 + 60_000, pm25_ugm3=12.5, no2_ppb=-3.0), reading(D0 + 120_000, no2_ppb=4.0)])
    refresh_catalog(tmp_path)
    con = connect(catalog_path(tmp_path))
    try:
        got = con.execute("SELECT quality_flags, no2_ppb, pm25_ugm3 FROM air_readings ORDER BY _offset").fetchall()
    finally:
        con.close()
    assert got == [("no2_ppb<0", None, 12.5), (None, 4.0, None)]


# -- 3. which end of the averaging interval the event time marks ---------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize(("marks", "partitions", "hours"), [
    ("start", [("2026-03-10", 10), ("2026-03-10", 10), ("2026-03-11", 0)], {10: (20.0, 2)}),
    ("end", [("2026-03-10", 9), ("2026-03-10", 10), ("2026-03-10", 23)], {9: (10.0, 1), 10: (30.0, 1),
                                                                            23: (40.0, 1)}),
])
def test_the_time_convention_decides_the_hour_and_the_mart_agrees(tmp_path: Path, fmt: str, marks: AirTimeMarks,
                                                                 partitions: list[tuple[str, int]],
                                                                 hours: dict[int, tuple[float, int]]) -> None:
    stamps = [D0 + 10 * HOUR, D0 + 10 * HOUR + 30 * 60_000, D0 + 24 * HOUR]  # 10:00, 10:30, next day 00:00
    messages = [reading(t, pm25_ugm3=v) for t, v in zip(stamps, (10.0, 30.0, 40.0), strict=True)]
    land(tmp_path, messages, fmt=fmt, rules=LandingRules(air_time_marks=marks))
    got = rows(tmp_path)
    assert [r["event_time_ms"] for r in got] == stamps  # the time is kept as sent
    assert [(r["averaging_hour"].date().isoformat(), r["averaging_hour"].hour) for r in got] == partitions
    landed = sorted(partition_of(f) for f in data_files(tmp_path, "air_readings"))
    assert landed == sorted(set(partitions))
    mart = compute_mart("air_quality_hourly", tmp_path, DAY)
    assert {r["hour"].hour: (r["pm25_ugm3"], r["n_readings"]) for r in mart.iter_rows(named=True)} == hours
    assert (mart["date"] == DAY).all()


def test_the_end_convention_moves_a_reading_into_the_previous_month_for_trends(tmp_path: Path) -> None:
    stamp = ms(2026, 3, 1)  # 00:00 on the 1st, the end of February's last hour
    land(tmp_path, [reading(stamp, pm25_ugm3=10.0)], rules=LandingRules(air_time_marks="end"))
    (row,) = rows(tmp_path)
    assert row["averaging_hour"] == datetime(2026, 2, 28, 23, tzinfo=UTC)
    from smartcity.analysis.marts.air_trends import monthly_means

    months = monthly_means(scan(tmp_path, "air_readings"), date(2026, 3, 1)).collect()
    assert months.filter(pl.col("pollutant") == "pm25")["month"].to_list() == [date(2026, 2, 1)]


# -- schema evolution: files landed before the new columns ---------------------------------------------


def _land_old_file(root: Path, fmt: str, messages: list[AirQualityReading], first: int) -> None:
    """A file as the sink wrote it before ``quality_flags`` and ``averaging_hour`` existed."""
    decoded = BatchDecoder(AIR_READINGS).decode([AIR.encode(m) for m in messages])
    offsets = np.arange(first, first + len(messages))
    table = lake_rows(AIR_READINGS, decoded.table, TOPIC, 0, offsets, NOW).drop_columns(
        ["quality_flags", "averaging_hour"])
    assert table.column_names[-5:] == ["event_time", "_topic", "_partition", "_offset", "_ingested_at"]
    hour = datetime.fromtimestamp(messages[0].event_time_ms / 1000, UTC)
    part = Part("air_readings", hour.strftime("%Y-%m-%d"), hour.hour, table, int(offsets[0]), int(offsets[-1]))
    Committer(root, get_format(fmt)).land(TOPIC, 0, int(offsets[0]), int(offsets[-1]), [part], fence=False)


def _catalog_counts(root: Path) -> tuple[int, int, int, int]:
    refresh_catalog(root)
    con = connect(catalog_path(root))
    try:
        got = con.execute("SELECT count(*), count(quality_flags), count(averaging_hour), count(DISTINCT hour) "
                          "FROM air_readings").fetchall()
    finally:
        con.close()
    return got[0]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_an_old_file_without_the_new_columns_still_reads(tmp_path: Path, fmt: str) -> None:
    _land_old_file(tmp_path, fmt, [reading(D0 + 16 * HOUR + 60_000, pm25_ugm3=10.0),
                                   reading(D0 + 16 * HOUR + 120_000, pm25_ugm3=20.0)], first=0)
    old = read_table(tmp_path, "air_readings")
    assert old.schema == AIR_READINGS.schema and old.num_rows == 2
    assert old.column("quality_flags").null_count == 2 and old.column("averaging_hour").null_count == 2
    assert scan(tmp_path, "air_readings").collect().schema == pl.from_arrow(old).schema  # type: ignore[union-attr]
    assert _catalog_counts(tmp_path) == (2, 0, 0, 1)

    land(tmp_path, [reading(D0 + 16 * HOUR + 180_000, pm25_ugm3=30.0, no2_ppb=-5.0),
                    reading(D0 + 16 * HOUR + 240_000, pm25_ugm3=40.0)], fmt=fmt, first=2)
    mixed = read_table(tmp_path, "air_readings").sort_by("_offset")
    assert mixed.column("quality_flags").to_pylist() == [None, None, "no2_ppb<0", None]
    assert mixed.column("averaging_hour").to_pylist()[1:] == [None, datetime(2026, 3, 10, 16, tzinfo=UTC),
                                                              datetime(2026, 3, 10, 16, tzinfo=UTC)]
    lazy = scan(tmp_path, "air_readings").sort("_offset").collect()
    assert lazy["quality_flags"].to_list() == [None, None, "no2_ppb<0", None]
    assert _catalog_counts(tmp_path) == (4, 1, 2, 1)
    hourly = compute_mart("air_quality_hourly", tmp_path, DAY).row(0, named=True)
    assert (hourly["hour"].hour, hourly["n_readings"], hourly["pm25_ugm3"]) == (16, 4, 25.0)

    before = mixed
    report = compact(tmp_path, older_than=timedelta(hours=1), now=datetime(2026, 3, 11, tzinfo=UTC))
    assert report.files_removed == 1 and len(data_files(tmp_path, "air_readings")) == 1
    after = read_table(tmp_path, "air_readings").sort_by("_offset")
    assert after.equals(before)  # the merged file keeps the nulls of the old rows and the flags of the new


def test_a_nullable_string_or_timestamp_round_trips_every_format(tmp_path: Path) -> None:
    schema = pa.schema([pa.field("s", pa.string()), pa.field("e", pa.string(), nullable=False),
                        pa.field("t", pa.timestamp("ms", tz="UTC")), pa.field("i", pa.int32())])
    table = pa.table({"s": ["", None, "a,b", "x\ny"], "e": ["", "", "q", '"'],
                      "t": pa.array([None, 0, 5, None], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
                      "i": pa.array([1, None, 3, None], pa.int32())}, schema=schema)
    for name, fmt in FORMATS.items():
        path = tmp_path / f"t.{fmt.ext}"
        fmt.write(table, path)
        assert fmt.read(path, schema).equals(table), name
        wider = schema.append(pa.field("later", pa.float64()))
        assert fmt.read(path, wider).column("later").null_count == 4, name
        with pytest.raises(ValueError, match="later"):
            fmt.read(path, schema.append(pa.field("later", pa.float64(), nullable=False)))


def test_the_readme_settings_example_gives_the_defaults(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "smartcity.toml"
    config.write_text(block)
    assert load_settings(config, environ={}).ingest.landing_rules() == DEFAULT_RULES


# -- through the daemon: the [ingest] settings reach the writer -----------------------------------------


@pytest.mark.kafka
def test_the_sink_daemon_lands_with_its_settings(kafka_settings: KafkaSettings, tmp_path: Path, unique: str) -> None:
    from smartcity.ingest.kafka.admin import create_topics
    from smartcity.ingest.sink.daemon import Sink
    from smartcity.storage.settings import LakeSettings

    from .helpers import consume_all, produce

    create_topics(kafka_settings)
    messages = [reading(ms(1985, 6, 1, 10), pm25_ugm3=8.0, no2_ppb=-2.0),  # the end of 09:00-10:00
                reading(ms(1979, 1, 1), pm25_ugm3=9.0)]                   # before the earliest time
    produce(kafka_settings, kafka_settings.topic("air"),
            [(m.sensor_id.encode(), AIR.encode(m), AIR.headers("protobuf")) for m in messages])
    settings = IngestSettings.model_validate({"topics": ["air"], "group": f"g-{unique}",
                                              "earliest_event_time": "1980-01-01", "air_time_marks": "end"})
    stats = Sink(kafka_settings, LakeSettings(path=tmp_path), settings, until_caught_up=True).run()
    assert stats.rows == 1 and stats.dead_letters == 1
    assert [partition_of(f) for f in data_files(tmp_path, "air_readings")] == [("1985-06-01", 9)]
    (row,) = rows(tmp_path)
    assert (row["quality_flags"], row["no2_ppb"], row["pm25_ugm3"]) == ("no2_ppb<0", None, 8.0)
    (letter,) = consume_all(kafka_settings, kafka_settings.topic("deadletter"), f"dlq-{unique}", 1)
    assert "1980-01-01T00:00Z ([ingest] earliest_event_time)" in dict(letter.headers())["smartcity-error"].decode()
