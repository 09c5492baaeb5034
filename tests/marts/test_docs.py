"""docs/marts.md documents every column, and its DuckDB examples run against written marts."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from smartcity.analysis.marts import MARTS, compute_mart
from smartcity.analysis.marts._common import as_date
from smartcity.storage.marts import write_mart
from tests.marts.lakes import DAY, PREVIOUS_DAY

DOC = Path(__file__).resolve().parents[2] / "docs" / "marts.md"


def sections() -> dict[str, str]:
    text = DOC.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    return {part.split("\n", 1)[0].strip(): part for part in parts[1:]}


@pytest.mark.parametrize("name", list(MARTS))
def test_every_column_is_documented_in_its_section(name: str) -> None:
    section = sections()[name]
    documented = set(re.findall(r"`([a-z0-9_]+)`", section))
    missing = [column for column in MARTS[name].schema if column not in documented]
    assert not missing, f"{name}: {missing}"


def test_sql_examples_run_in_duckdb(lake: Path, tmp_path: Path) -> None:
    for name in MARTS:
        for day in {p for d in (PREVIOUS_DAY, DAY) for p in MARTS[name].partitions(as_date(d))}:
            write_mart(tmp_path, name, day, compute_mart(name, lake, day))
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    for name in MARTS:
        glob = (tmp_path / "marts" / name / "*" / "*.parquet").as_posix()
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 3 + len(MARTS)
    for block in blocks:
        for statement in filter(str.strip, block.split(";")):
            con.execute(statement).fetchall()
    # and the views hold what was written
    assert con.execute("SELECT count(*) FROM route_performance WHERE date = ?", [DAY]).fetchone() == (2,)
