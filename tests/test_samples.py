"""The committed sample day is current (regenerating it gives the same bytes) and complete."""

from __future__ import annotations

from pathlib import Path

from smartcity.cli.samples_cmd import build_samples
from smartcity.core.resources import samples_dir
from smartcity.storage.scan import read_table


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_samples_are_current(tmp_path: Path) -> None:
    build_samples(tmp_path / "samples")
    fresh, committed = _files(tmp_path / "samples"), _files(samples_dir())
    assert sorted(fresh) == sorted(committed), "data/samples is stale: run `make samples`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"data/samples is stale ({len(stale)} files differ): run `make samples`"


def test_samples_hold_a_whole_day_of_each_dataset() -> None:
    for dataset in ("bus_telemetry", "air_readings", "station_events"):
        t = read_table(samples_dir(), dataset)
        assert t.num_rows > 1000, dataset
        days = {ts.date().isoformat() for ts in t.column("event_time").to_pylist()[:: max(1, t.num_rows // 500)]}
        assert days == {"2026-03-10"}
    air = read_table(samples_dir(), "air_readings")
    hours = {ts.hour for ts in air.column("event_time").to_pylist()}
    assert hours == set(range(24))
