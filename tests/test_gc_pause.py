"""``fewer_collections``: the hot loops' garbage-collector setting, and that it hands the process back as it was."""

from __future__ import annotations

import gc

import pytest

from smartcity.core.gc_pause import HOT_LOOP_THRESHOLD, fewer_collections


def test_inside_start_up_objects_are_frozen_and_young_collections_are_rare() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with fewer_collections():
        assert gc.get_threshold()[0] == HOT_LOOP_THRESHOLD
        assert gc.get_freeze_count() > 10_000  # the imported libraries' objects
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # an explicit collection still frees cycles made inside
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_setting_is_restored_when_the_loop_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections(1234):
        assert gc.get_threshold()[0] == 1234
        raise RuntimeError("the loop failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
