"""Where a sink member starts reading a partition it was given: a pure decision, from the group's
committed offset and the lake's record of landed offsets.

The lake is the record of truth: a batch can be landed and its offset commit lost (a crash between
the two, or a commit that failed). Starting at the committed offset would land it twice, so the
member starts after the last landed offset and commits that position at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import OFFSET_INVALID


@dataclass(frozen=True)
class Start:
    offset: int               # where to read from; OFFSET_INVALID means the consumer's reset policy
    commit: bool = False       # the committed offset is behind the lake: commit ``offset`` now
    reason: str = ""           # why, for the log (empty when the committed offset stands)


def start_offset(committed: int, landed: int | None) -> Start:
    """Start position of a partition.

    ``committed`` is the group's committed offset (negative when there is none); ``landed`` the last
    offset the lake holds for the partition (``None`` when nothing landed).
    """
    if landed is None or (committed >= 0 and committed > landed):
        return Start(committed if committed >= 0 else OFFSET_INVALID)
    reason = f"lake has offsets up to {landed} landed, starting after them" if (committed >= 0 or landed >= 0) else ""
    return Start(landed + 1, commit=True, reason=reason)
