"""`smartcity sql` safe mode: queries over the catalog's views work; files, databases and writes
outside what the views read are refused in one line; --unsafe lifts it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from smartcity.core.resources import samples_dir


def smartcity_sql(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "SMARTCITY_SQL_SAFE"}
    return subprocess.run([sys.executable, "-m", "smartcity.cli.main", "sql", *args], capture_output=True,
                          text=True, timeout=120, env={**environ, **(env or {})})


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sqlsafe") / "lake"
    shutil.copytree(samples_dir(), root)
    built = smartcity_sql("--refresh", "--lake", str(root), "SELECT 1")
    assert built.returncode == 0, built.stderr
    return root


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and "refused in safe mode" in result.stderr, result.stderr
    assert result.stdout == ""


def test_queries_over_the_views_work_in_safe_mode(lake: Path, tmp_path: Path) -> None:
    result = smartcity_sql("--lake", str(lake), "--format", "csv",
                           "SELECT count(*) AS n, count(DISTINCT date) AS days FROM bus_telemetry")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header == "n,days" and int(row.split(",")[0]) > 1000
    explained = smartcity_sql("--lake", str(lake), "--format", "csv",
                              "EXPLAIN ANALYZE SELECT sensor_id, avg(pm25_ugm3) FROM air_readings GROUP BY 1")
    assert explained.returncode == 0, explained.stderr
    target = tmp_path / "by_station.json"  # --output is the one file safe mode writes
    wrote = smartcity_sql("--lake", str(lake), "--output", str(target),
                          "SELECT station_id, count(*) AS events FROM station_events GROUP BY 1")
    assert wrote.returncode == 0, wrote.stderr
    assert target.read_text().lstrip().startswith("[")


@pytest.mark.parametrize("make_query", [
    pytest.param(lambda lake, out: f"COPY (SELECT 1 AS a) TO '{out / 'copied.csv'}'", id="copy-to"),
    pytest.param(lambda lake, out: f"COPY (SELECT 1 AS a) TO '{lake / 'raw' / 'copied.csv'}'", id="copy-into-lake"),
    pytest.param(lambda lake, out: f"EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{lake / 'raw' / 'copied.csv'}'",
                 id="explain-analyze-copy"),
    pytest.param(lambda lake, out: f"SELECT 1; COPY (SELECT 1 AS a) TO '{out / 'copied.csv'}'", id="second-statement"),
    pytest.param(lambda lake, out: f"SELECT * FROM read_text('{out / 'secret.txt'}')", id="read-text"),
    pytest.param(lambda lake, out: f"SELECT * FROM read_csv('{out / 'secret.txt'}')", id="read-csv"),
    pytest.param(lambda lake, out: "SELECT * FROM read_text('/etc/passwd')", id="read-text-etc"),
    pytest.param(lambda lake, out: f"SELECT * FROM read_text('{lake / 'raw' / '..' / '..' / 'secret.txt'}')",
                 id="dot-dot"),
    pytest.param(lambda lake, out: f"SELECT * FROM glob('{out}/*')", id="glob"),
    pytest.param(lambda lake, out: f"ATTACH '{out / 'other.duckdb'}' AS other", id="attach"),
    pytest.param(lambda lake, out: "INSTALL httpfs", id="install"),
    pytest.param(lambda lake, out: "SET enable_external_access = true", id="set"),
])
def test_files_databases_and_writes_are_refused_in_one_line(lake: Path, make_query: Callable[[Path, Path], str],
                                                            tmp_path: Path) -> None:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.txt").write_text("password\n")
    (lake.parent / "secret.txt").write_text("password\n")
    result = smartcity_sql("--lake", str(lake), make_query(lake, out))
    one_line_refusal(result)
    assert not (out / "copied.csv").exists() and not (lake / "raw" / "copied.csv").exists()
    assert not (out / "other.duckdb").exists()
    assert "password" not in result.stderr


def test_unsafe_mode_lifts_the_restrictions(lake: Path, tmp_path: Path) -> None:
    target = tmp_path / "copied.csv"
    flag = smartcity_sql("--lake", str(lake), "--unsafe", f"COPY (SELECT 42 AS answer) TO '{target}'")
    assert flag.returncode == 0, flag.stderr
    assert target.read_text().splitlines() == ["answer", "42"]
    target.unlink()
    env = smartcity_sql("--lake", str(lake), f"COPY (SELECT 42 AS answer) TO '{target}'",
                        env={"SMARTCITY_SQL_SAFE": "false"})
    assert env.returncode == 0, env.stderr
    assert target.exists()
    overridden = smartcity_sql("--lake", str(lake), "--safe", f"COPY (SELECT 1) TO '{target}'",
                               env={"SMARTCITY_SQL_SAFE": "false"})  # the flag beats the environment
    one_line_refusal(overridden)


def test_a_bad_safe_setting_is_a_usage_error(lake: Path) -> None:
    result = smartcity_sql("--lake", str(lake), "SELECT 1", env={"SMARTCITY_SQL_SAFE": "maybe"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "SMARTCITY_SQL_SAFE" in result.stderr
