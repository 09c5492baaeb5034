"""``limits``: how close smartcity gets to Kafka itself. Kafka's own ProducerPerformance and
ConsumerPerformance against smartcity's producer and sink, on the same broker with the same record sizes
(Protobuf and JSON bus telemetry)."""

from __future__ import annotations

from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.kafka_tools import consumer_performance, producer_performance
from smartcity.bench.sink import bare_read
from smartcity.bench.steps import land, rate
from smartcity.bench.workload import bus_values
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.producer import produce_records
from smartcity.proto.codec import BUS, ENCODINGS


def run(ctx: BenchContext) -> Result:
    n = ctx.size(2_000_000, 20_000)
    rows: list[dict[str, object]] = []
    headline: dict[str, object] = {}
    for encoding in ENCODINGS:
        values = bus_values(encoding)
        size = round(sum(len(v) for _, v in values) / len(values))
        work = f"{encoding} {size} B"
        settings = ctx.settings(partitions=4)
        bootstrap = settings.bootstrap_servers or ""
        topic, perf_topic = settings.topic("bus"), settings.topic("bus") + ".perf"
        create_topics(settings, [topic, perf_topic])
        ctx.log(f"limits/{encoding}: producing {n:,} x {size} B (smartcity, then ProducerPerformance)")
        headers = BUS.headers(encoding)
        records = ((topic, k, v, headers, 0) for i in range(n) for k, v in [values[i % len(values)]])
        ours = produce_records(settings, records)
        kafka = producer_performance(bootstrap, perf_topic, n, size)
        ctx.log(f"limits/{encoding}: reading it back (ConsumerPerformance, a bare read, the sink)")
        consumer = consumer_performance(bootstrap, topic, n, f"{settings.topic_prefix}-perf")
        bare = bare_read(settings, topic, n, f"{settings.topic_prefix}-bare")
        landed = rate(land(settings, ctx.scratch(f"lake-{encoding}"), f"{settings.topic_prefix}-sink"))
        rows += [
            {"workload": f"produce {work}", "client": "Kafka tool", "msgs/s": kafka.records_per_s,
             "MB/s": kafka.mb_per_s},
            {"workload": f"produce {work}", "client": "smartcity", "msgs/s": ours.rate,
             "MB/s": round(ours.bytes / ours.seconds / 2**20, 2)},
            {"workload": f"consume {work}", "client": "Kafka tool", "msgs/s": consumer.fetch_records_per_s,
             "MB/s": round(consumer.fetch_records_per_s * size / 2**20, 2)},
            {"workload": f"consume {work}", "client": "bare confluent-kafka read", "msgs/s": bare,
             "MB/s": round(bare * size / 2**20, 2)},
            {"workload": f"consume {work}", "client": "smartcity", "msgs/s": landed,
             "MB/s": round(landed * size / 2**20, 2)},
        ]
        headline[f"producer/ProducerPerformance ({encoding})"] = round(ours.rate / kafka.records_per_s, 2)
        headline[f"sink/ConsumerPerformance ({encoding})"] = round(landed / consumer.fetch_records_per_s, 2)
    return Result("limits", "smartcity against Kafka's own performance tools", rows, headline,
                  Chart(x="workload", y="msgs/s", series="client", ylabel="messages per second (log)", log=True),
                  notes=[f"{n:,} records per row on 4 partitions of one broker. Producers: acks=all, zstd, "
                         "linger.ms=20, batch.size=1e6 for both; smartcity's is idempotent and sends real "
                         "pre-encoded records, ProducerPerformance random bytes of the same mean size.",
                         "Consumers read the records smartcity produced. ConsumerPerformance runs with its "
                         "defaults and only counts records; its figure is fetch.nMsg.sec (group join excluded, like "
                         "the others). The bare read is a Python loop "
                         "that only touches each value, with the best fetch settings; smartcity is the sink "
                         "decoding, validating and landing Parquet (first message to last commit).",
                         "The original design's producer reached 17.7k msgs/s."])
