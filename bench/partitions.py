"""``partitions``: 1, 8 and 32 partitions landed by a sink group of one and of two members (one process
each): messages per second landed by the whole group. The original design compared 1 with 100 partitions
with one consumer and saw no difference."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from smartcity.bench.children import ChildRun, child_command, run_child
from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.steps import LAND_BATCH_ROWS, Backlog, backlog, lake_rows


def group_rate(ctx: BenchContext, topic: Backlog, members: int, group: str) -> tuple[float, list[dict[str, Any]]]:
    """Start ``members`` sink processes in one group together; messages per second of the whole group
    (from the first message any member consumed to the last member's end) and each member's answer."""
    lake = ctx.scratch(f"lake-{members}")
    start_at = time.time() + ctx.size(3.0, 1.5) if members > 1 else None
    cmd = child_command("sink", bootstrap=topic.settings.bootstrap_servers, prefix=topic.settings.topic_prefix,
                        group=group, lake=str(lake), batch_rows=LAND_BATCH_ROWS, start_at=start_at)
    with ThreadPoolExecutor(members) as pool:
        runs: list[ChildRun] = list(pool.map(lambda _: run_child(cmd), range(members)))
    answers = [r.answer for r in runs]
    landed = lake_rows(lake)
    if landed != topic.messages:
        raise RuntimeError(f"the group landed {landed:,} rows of {topic.messages:,}")
    active = [a for a in answers if a["consumed"]]
    began = min(a["end"] - a["active_seconds"] for a in active)
    ended = max(a["end"] for a in active)
    return sum(a["consumed"] for a in answers) / (ended - began), answers


def run(ctx: BenchContext) -> Result:
    n = ctx.size(2_000_000, 20_000)
    rows: list[dict[str, object]] = []
    speed: dict[tuple[int, int], float] = {}
    counts = (1, 8, 32) if not ctx.quick else (1, 8)
    for partitions in counts:
        ctx.log(f"partitions: producing {n:,} records to {partitions} partition(s)")
        topic = backlog(ctx, n, partitions=partitions)
        for members in (1, 2):
            group = f"{topic.settings.topic_prefix}-g{members}"
            speed[partitions, members], answers = group_rate(ctx, topic, members, group)
            rows.append({"partitions": partitions, "sink members": members, "msgs/s": speed[partitions, members],
                         "landed per member": " / ".join(f"{a['consumed']:,}" for a in answers),
                         "active s per member": " / ".join(f"{a['active_seconds']:.1f}" for a in answers),
                         "produce msgs/s": topic.produce_rate})
    headline: dict[str, object] = {f"2/1 members ({p} partition{'s' if p > 1 else ''})":
                                   round(speed[p, 2] / speed[p, 1], 2) for p in counts}
    headline[f"{counts[-1]}/1 partitions (1 member)"] = round(speed[counts[-1], 1] / speed[1, 1], 2)
    headline["best group msgs/s"] = round(max(speed.values()))
    return Result("partitions", "Partitions and sink group members (processes)", rows, headline,
                  Chart(x="partitions", y="msgs/s", series="sink members", ylabel="messages per second landed"),
                  notes=[f"{n:,} Protobuf bus telemetry records per partition count, keyed by bus id (64 buses, so "
                         "32 partitions are not evenly filled); each member is a `Sink` in its own process, "
                         f"batch_max_rows={LAND_BATCH_ROWS:,}, Parquet.",
                         "Group rate: all messages over the time from the first message any member consumed to "
                         "the last member's end (process start-up excluded, rebalances included). Two members are "
                         "launched together, warm up, then join at the same instant; the group protocol may still "
                         "give every partition to the first and move some to the second at its next heartbeat "
                         "(every 2 s). A member left without partitions leaves at once.",
                         "The broker and every member share this machine's cores."])
