"""``serialization``: JSON against Protobuf for simulated bus telemetry: bytes per message, encode and decode
speed (the per-message codec and the sink's batch decoder), and produce-to-lake throughput."""

from __future__ import annotations

import time
from collections.abc import Callable

from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.steps import backlog, land, rate
from smartcity.bench.workload import bus_messages
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.proto.codec import BUS, ENCODINGS, Encoding
from smartcity.storage.datasets import BUS_TELEMETRY

BATCH = 25_000  # the sink's default batch_max_rows


def per_second(step: Callable[[], int], seconds: float) -> float:
    """Items per second of ``step`` (which returns how many items it did), repeated for about ``seconds``."""
    step()  # warm-up
    done, began = 0, time.perf_counter()
    while True:
        done += step()
        elapsed = time.perf_counter() - began
        if elapsed >= seconds:
            return done / elapsed


def run(ctx: BenchContext) -> Result:
    n = ctx.size(1_000_000, 20_000)
    each = ctx.size(2.0, 0.2)
    messages = bus_messages()[:ctx.size(50_000, 5_000)]
    batch_stage = f"batch decode ({min(BATCH, len(messages)):,} rows)"
    rows: list[dict[str, object]] = []
    found: dict[str, dict[str, float]] = {}
    for encoding in ENCODINGS:
        values = [BUS.encode(m, encoding) for m in messages]
        size = sum(map(len, values)) / len(values)
        decoder = BatchDecoder(BUS_TELEMETRY)
        decoder.warm_up()
        batches = [values[i:i + BATCH] for i in range(0, len(values), BATCH)]

        def encode(encoding: Encoding = encoding) -> int:
            for m in messages:
                BUS.encode(m, encoding)
            return len(messages)

        def decode(values: list[bytes] = values, encoding: Encoding = encoding) -> int:
            for v in values:
                BUS.decode_as(v, encoding)
            return len(values)

        def batch_decode(batches: list[list[bytes]] = batches, decoder: BatchDecoder = decoder) -> int:
            return sum(decoder.decode(b).table.num_rows for b in batches)

        ctx.log(f"serialization/{encoding}: codec speeds")
        speeds = {"encode (per message)": per_second(encode, each),
                  "decode (per message)": per_second(decode, each),
                  batch_stage: per_second(batch_decode, each)}
        ctx.log(f"serialization/{encoding}: producing {n:,} records and landing them")
        topic = backlog(ctx, n, encoding)
        stats = land(topic.settings, ctx.scratch(f"lake-{encoding}"), f"{topic.settings.topic_prefix}-sink")
        landed = rate(stats)
        speeds |= {"produce (acks=all)": topic.produce_rate, "land (sink -> Parquet)": landed,
                   "produce + land": 1 / (1 / topic.produce_rate + 1 / landed)}
        found[encoding] = speeds | {"bytes": size}
        for stage, value in speeds.items():
            rows.append({"stage": stage, "encoding": encoding, "msgs/s": value, "bytes/msg": round(size, 1)})
    pb, js = found["protobuf"], found["json"]
    headline = {
        "JSON/Protobuf bytes": round(js["bytes"] / pb["bytes"], 2),
        "Protobuf/JSON batch decode": round(pb[batch_stage] / js[batch_stage], 2),
        "Protobuf/JSON produce+land": round(pb["produce + land"] / js["produce + land"], 2),
        "Protobuf produce+land msgs/s": round(pb["produce + land"]),
    }
    return Result("serialization", "JSON vs Protobuf: size, codec speed, produce-to-lake", rows, headline,
                  Chart(x="stage", y="msgs/s", series="encoding", ylabel="messages per second (log)", log=True),
                  notes=[f"{len(messages):,} distinct simulated bus telemetry messages: Protobuf "
                         f"{pb['bytes']:.0f} B, JSON {js['bytes']:.0f} B per message on average.",
                         "Per-message rows use `smartcity.proto.codec.BUS` (decode = parse into the Protobuf class; "
                         "JSON via "
                         "json_format). Batch decode is the sink's `BatchDecoder` (vectorised wire decoder for "
                         "Protobuf, Arrow's JSON reader for JSON) into Arrow columns.",
                         f"produce: {n:,} records on 4 partitions (idempotent, acks=all, zstd); land: the sink into "
                         "Parquet from the first message to the last commit; produce + land = n / (produce time + "
                         "land time), the two run one after the other."])
