"""Where a sink member starts reading a partition it was given: a pure decision, from the group's
committed offset, the lake's record of landed offsets and the partition's log start and end.

The lake is the record of truth: a batch can be landed and its offset commit lost (a crash between
the two, or a commit that failed). Starting at the committed offset would land it twice, so the
member starts after the last landed offset and commits that position at once.

A lake record that does not fit the topic is never papered over:

* the record names another topic id than the topic has now, or offsets at or past the log end:
  the topic was deleted and created again (its offsets restart at 0) or the lake belongs to
  another cluster. Starting after the landed offset would skip new messages, starting at 0 would
  re-land offsets the lake already names; the member stops with an error saying what to do;
* the offsets after the landed one have left the log (retention) before they were landed: they
  are gone. The member says so, records the gap in the lake, and starts at the log start.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import OFFSET_INVALID


@dataclass(frozen=True)
class Start:
    offset: int               # where to read from; OFFSET_INVALID means the consumer's reset policy
    commit: bool = False       # the committed offset is behind the lake: commit ``offset`` now
    reason: str = ""           # why, for the log (empty when the committed offset stands)
    skipped: int = 0           # offsets that left the log before they were landed (lost to retention)
    problem: str = ""          # non-empty: the lake cannot be continued here; stop and say this


def start_offset(committed: int, landed: int | None, low: int | None = None, high: int | None = None, *,
                 landed_topic_id: str | None = None, topic_id: str | None = None) -> Start:
    """Start position of a partition.

    ``committed`` is the group's committed offset (negative when there is none); ``landed`` the last
    offset the lake holds for the partition (``None`` when nothing landed); ``low`` and ``high`` the
    partition's log start and end offsets when known.
    """
    if landed is not None and landed_topic_id and topic_id and landed_topic_id != topic_id:
        return Start(OFFSET_INVALID, problem=(
            f"the topic was created again (its id is now {topic_id}; the lake's offsets up to {landed} came from "
            f"topic id {landed_topic_id}). Starting after them would skip the new topic's first messages. Point "
            "the sink at a fresh lake, or move this partition's files and its _state/offsets record aside"))
    if landed is not None and high is not None and landed >= high:
        return Start(OFFSET_INVALID, problem=(
            f"the lake has offsets up to {landed} landed but the topic ends at offset {high - 1}: the topic was "
            "created again (offsets restart at 0) or the lake belongs to another cluster. Point the sink at a "
            "fresh lake, or move this partition's files and its _state/offsets record aside"))
    if landed is not None and low is not None and landed + 1 < low:
        return Start(low, commit=True, skipped=low - landed - 1, reason=(
            f"offsets {landed + 1}..{low - 1} left the topic (retention) before they were landed; "
            f"starting at the log start {low}"))
    if landed is None or (committed >= 0 and committed > landed):
        return Start(committed if committed >= 0 else OFFSET_INVALID)
    reason = f"lake has offsets up to {landed} landed, starting after them" if (committed >= 0 or landed >= 0) else ""
    return Start(landed + 1, commit=True, reason=reason)
