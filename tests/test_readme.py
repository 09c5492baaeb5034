"""The README's examples run as written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from smartcity.cli.main import cli
from smartcity.core.resources import samples_dir
from smartcity.flows import jobs

from .conftest import REPO

README = (REPO / "README.md").read_text()


def test_sql_examples_run_on_a_lake_with_marts(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(samples_dir(), lake)
    for mart in jobs.ALL_MARTS:
        for day in jobs.dates_needing(lake, mart):
            jobs.build_mart(lake, mart, day)
    examples = [line.strip() for line in README.splitlines() if line.strip().startswith('smartcity sql "')]
    assert len(examples) >= 3
    for example in examples:
        args = shlex.split(example)[1:]
        if "--output" in args:
            args[args.index("--output") + 1] = str(tmp_path / args[args.index("--output") + 1])
        result = subprocess.run([sys.executable, "-m", "smartcity.cli.main", "sql", "--refresh", "--lake", str(lake),
                                 *args[1:]], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{example}: {result.stderr}"


def test_every_command_in_the_readme_table_exists() -> None:
    table = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([a-z-]+)", table, flags=re.M))
    assert named <= set(cli.list_commands(None)), named - set(cli.list_commands(None))  # type: ignore[arg-type]
    assert {"demo", "ingest", "simulate", "sql", "report", "serve", "bench", "compact"} <= named


def test_quick_start_is_exactly_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in quick.strip().splitlines()] == ["make demo", "make test"]
