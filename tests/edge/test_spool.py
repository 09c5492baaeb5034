"""The store-and-forward spool: order, durability through kill -9, a torn tail cut and said, damage
named, bounded with back-pressure, forwarded segments removed."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smartcity.core.errors import CorruptStateError
from smartcity.ingest.edge.spool import SUFFIX, Spool, SpoolFull


def test_records_come_back_in_order_and_forwarded_segments_go(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=200)
    for i in range(50):
        assert spool.append([f"m{i}".encode()]) == i + 1
    assert len(list(tmp_path.glob(f"*{SUFFIX}"))) > 3
    got = spool.peek(limit=20)
    assert [r.payload for r in got] == [f"m{i}".encode() for i in range(20)]
    assert spool.peek(limit=20) == got  # not committed: the same records again
    spool.commit(got[-1].seq)
    assert [r.seq for r in spool.peek(limit=5)] == [21, 22, 23, 24, 25]
    spool.commit(23)  # part of what was read: the next read starts after the cursor, not after the read
    assert [r.seq for r in spool.peek(limit=3)] == [24, 25, 26]
    before = len(list(tmp_path.glob(f"*{SUFFIX}")))
    spool.commit(50)
    assert len(list(tmp_path.glob(f"*{SUFFIX}"))) < before and spool.pending == 0 and spool.peek() == []
    spool.close()
    again = Spool(tmp_path, segment_bytes=200)
    assert again.pending == 0 and again.append([b"next"]) == 51


def test_a_torn_record_at_the_end_is_cut_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path)
    spool.append([b"one", b"two", b"three"])
    spool.close()
    segment = next(tmp_path.glob(f"*{SUFFIX}"))
    with segment.open("ab") as fh:  # a crash in the middle of writing the fourth: never acknowledged
        fh.write(b"\x20\x00\x00\x00\x01\x02")
    with caplog.at_level(logging.WARNING):
        reopened = Spool(tmp_path)
    assert "torn record of 6 bytes" in caplog.text and segment.name in caplog.text
    assert [r.payload for r in reopened.peek()] == [b"one", b"two", b"three"]
    assert reopened.append([b"four"]) == 4
    assert [r.seq for r in Spool(tmp_path).peek()] == [1, 2, 3, 4]


def test_damage_before_the_end_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=40)
    for i in range(6):
        spool.append([b"record %d" % i])
    spool.close()
    first = sorted(tmp_path.glob(f"*{SUFFIX}"))[0]
    data = bytearray(first.read_bytes())
    data[20] ^= 0xFF
    first.write_bytes(bytes(data))
    with pytest.raises(CorruptStateError) as caught:
        Spool(tmp_path, segment_bytes=40)
    assert first.name in str(caught.value) and "damaged record at byte 0" in str(caught.value)
    (tmp_path / "cursor").write_text("garbage")
    with pytest.raises(CorruptStateError, match="cursor: not a sequence number"):
        Spool(tmp_path)


def test_a_full_spool_refuses_instead_of_dropping(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1000, segment_bytes=300)
    appended = 0
    with pytest.raises(SpoolFull, match="is full"):
        while True:
            spool.append([b"x" * 40])
            appended += 1
    assert 15 <= appended <= 20 and spool.pending == appended  # nothing was dropped
    spool.commit(spool.peek(limit=10)[-1].seq)
    spool.append([b"x" * 40])  # forwarded segments made room
    assert spool.pending == appended - 10 + 1


WRITER = """
import sys
from smartcity.ingest.edge.spool import Spool
spool = Spool(sys.argv[1], segment_bytes=4096)
i = 0
while True:
    seq = spool.append([b"payload %d" % i] * 3)
    print(seq, flush=True)  # acknowledged: durable before this line
    i += 1
"""


def test_kill_9_loses_nothing_that_was_acknowledged(tmp_path: Path) -> None:
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0 + 0.3 * round_)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        acked = [int(line) for line in out.split()]
        assert acked
        spool = Spool(tmp_path, segment_bytes=4096)
        seqs = [r.seq for r in spool.peek(limit=10**7)]
        assert seqs == list(range(spool.cursor + 1, spool.cursor + 1 + len(seqs)))  # contiguous, in order
        assert seqs[-1] >= acked[-1]  # every acknowledged record is there
        spool.commit(seqs[len(seqs) // 2])  # a forwarder took half
        spool.close()
