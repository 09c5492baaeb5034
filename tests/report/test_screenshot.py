"""The report rendered by headless Chromium: the screenshot must show a drawn page, not a blank one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image

from smartcity.analysis.air import AQI_CATEGORIES
from tests.conftest import unavailable
from tests.live.browser import chromium_binary

WIDTH, HEIGHT = 1280, 4000
MIN_INK_SHARE = 0.08  # pixels that are not (near) white
MIN_COLOURS = 500  # distinct RGB values: text antialiasing, charts, EPA colours
MIN_EPA_PIXELS = 2_000  # pixels in one exact EPA category colour (the highest-AQI tile, the map)


def screenshot(binary: str, page: Path, png: Path, profile: Path) -> None:
    args = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}", page.resolve().as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.is_file(), done.stderr[-2000:]


def test_report_renders_in_headless_chromium(sample_report: Path, tmp_path: Path) -> None:
    binary = chromium_binary()
    if binary is None:
        unavailable("no chromium binary (apt-get install chromium) to render the report")
    png = tmp_path / "report.png"
    screenshot(binary, sample_report, png, tmp_path / "profile")
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    assert rgb.size == (WIDTH, HEIGHT)
    pixels = WIDTH * HEIGHT
    colours = rgb.getcolors(pixels) or []
    ink = sum(count for count, (r, g, b) in colours if min(r, g, b) < 235)
    assert ink / pixels > MIN_INK_SHARE, f"only {ink / pixels:.1%} of the screenshot is not white"
    assert len(colours) > MIN_COLOURS, f"only {len(colours)} distinct colours in the screenshot"
    by_colour = {rgb_value: count for count, rgb_value in colours}
    epa = max(by_colour.get(category.rgb, 0) for category in AQI_CATEGORIES)
    assert epa > MIN_EPA_PIXELS, "no EPA category colour drawn (summary tile or map)"
