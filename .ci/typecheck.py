"""Type-check the installed layout: mypy sees ``smartcity.<room>`` through a tree of links that mirrors
``[tool.setuptools.package-dir]`` (mypy does not follow setuptools' editable-install finder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    rooms = {name.split(".")[1]: folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()
             if name.count(".") == 1}
    tree = ROOT / ".venv" / "typecheck"
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "smartcity").mkdir(parents=True)
    for room, folder in rooms.items():
        os.symlink(ROOT / folder, tree / "smartcity" / room)
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "smartcity",
           *sys.argv[1:]]
    return subprocess.call(cmd, cwd=tree)


if __name__ == "__main__":
    sys.exit(main())
