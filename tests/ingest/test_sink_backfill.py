"""A backfill through Kafka lands into hours that closed long ago; the sink merges them as they fill up."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.proto import AirQualityReading
from smartcity.proto.codec import AIR
from smartcity.storage.file_density import file_density
from smartcity.storage.layout import data_files, parse_file_name, partition_of
from smartcity.storage.scan import read_table

from .helpers import produce

START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
SENSORS = ("S1", "S2", "S3")
READINGS = [AirQualityReading(sensor_id=s, event_time_ms=START + minute * 60_000, latitude=47.4, longitude=8.5,
                              pm25_ugm3=float(minute % 50)) for s in SENSORS for minute in range(0, 48 * 60, 10)]


@pytest.mark.kafka
@pytest.mark.parametrize("files_at", [0, 4])
def test_a_backfill_is_merged_while_it_lands_and_lands_every_reading_once(kafka_settings: KafkaSettings,
                                                                           tmp_path: Path, unique: str,
                                                                           files_at: int) -> None:
    from smartcity.ingest.kafka.admin import create_topics
    from smartcity.ingest.sink.daemon import Sink
    from smartcity.storage.settings import LakeSettings

    create_topics(kafka_settings)
    archive = READINGS.copy()
    random.Random(5).shuffle(archive)  # an archive read out of order: every batch spans many old hours
    produce(kafka_settings, kafka_settings.topic("air"),
            [(m.sensor_id.encode(), AIR.encode(m), AIR.headers("protobuf")) for m in archive])
    settings = IngestSettings.model_validate({"topics": ["air"], "group": f"g-{unique}", "batch_max_rows": 40,
                                              "compact_closed_hours_at": files_at})
    stats = Sink(kafka_settings, LakeSettings(path=tmp_path), settings, until_caught_up=True).run()
    table = read_table(tmp_path, "air_readings")
    keys = list(zip(table.column("sensor_id").to_pylist(), table.column("event_time_ms").to_pylist(), strict=True))
    assert stats.rows == table.num_rows == len(READINGS) == len(set(keys))  # every reading, once
    offsets = list(zip(table.column("_partition").to_pylist(), table.column("_offset").to_pylist(), strict=True))
    assert len(set(offsets)) == len(offsets)
    per_hour: dict[tuple[str, int, str, int], int] = {}
    for f in data_files(tmp_path, "air_readings"):
        parsed = parse_file_name(f.name)
        assert parsed is not None
        key = (parsed.topic, parsed.partition, *partition_of(f))
        per_hour[key] = per_hour.get(key, 0) + 1
    (density,) = file_density(tmp_path)
    assert density.partition_hours == len(per_hour) in (48, 96)  # 48 hours on one or both partitions
    if files_at == 0:
        assert stats.hours_compacted == 0 and density.per_partition_hour > files_at + 2  # one file per batch
    else:
        assert stats.hours_compacted > 0 and max(per_hour.values()) < files_at
