"""``smartcity sql``: ad-hoc SQL over the lake's DuckDB catalog."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from smartcity.cli.common import err, lake_option, out, settings_for
from smartcity.core.errors import QueryError

if TYPE_CHECKING:
    import duckdb

SAFE_ENV = "SMARTCITY_SQL_SAFE"
# statement kinds a safe-mode query may run: SELECT (with WITH, VALUES, FROM-first, SHOW, DESCRIBE,
# SUMMARIZE, UNPIVOT), PIVOT (a MULTI statement) and EXPLAIN of those
_SAFE_KINDS = frozenset({"SELECT", "MULTI"})
_EXPLAIN = re.compile(r"\s*explain\b\s*(?:analy[sz]e\b\s*)?(?:\([^)]*\)\s*)?", re.IGNORECASE)
_LIFT = f"--unsafe or {SAFE_ENV}=false lifts this"


def _statement_kinds(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """Kinds of the statements in ``text``; an EXPLAIN counts as what it explains (EXPLAIN ANALYZE runs it)."""
    kinds: list[str] = []
    for statement in con.extract_statements(text):
        kind = statement.type.name
        explained = _EXPLAIN.match(statement.query) if kind == "EXPLAIN" else None
        if explained is not None:
            inner = _statement_kinds(con, statement.query[explained.end():])
            kinds.extend(inner or ["EXPLAIN"])
        else:
            kinds.append(kind)
    return kinds


def check_safe_query(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse, in one line, a safe-mode query with a statement other than a read-only query."""
    refused = sorted({kind for kind in _statement_kinds(con, query) if kind not in _SAFE_KINDS})
    if refused:
        raise QueryError(f"refused in safe mode: {', '.join(refused)} statements are not allowed, only queries "
                         f"(SELECT, WITH, SHOW, DESCRIBE, PIVOT, EXPLAIN); {_LIFT}")


def lock_down(con: duckdb.DuckDBPyConnection, root: Path, output: Path | None = None) -> None:
    """Safe mode on an open catalog connection: files may be read only under the lake's raw/ and marts/
    (what the catalog's views read), written only to ``output``; no other file, URL, database or
    extension, and the configuration is locked so a query cannot lift this."""
    def quote(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    from smartcity.storage.layout import MARTS, RAW

    dirs = ", ".join(quote(f"{(root / sub).as_posix()}/") for sub in (RAW, MARTS))
    con.execute(f"SET allowed_directories = [{dirs}]")
    if output is not None:
        con.execute(f"SET allowed_paths = [{quote(str(output.resolve()))}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


@click.command()
@click.argument("query")
@lake_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "parquet"]), default="table",
              show_default=True, help="Output format.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the result to this file (csv, json or parquet).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True,
              help="Rows shown in table format.")
@click.option("--refresh", is_flag=True, help="Rebuild the catalog first (new datasets or marts).")
@click.option("--safe/--unsafe", default=True, show_default=True, envvar=SAFE_ENV, show_envvar=True,
              help="Safe: only queries, reading only the lake's files (no COPY, ATTACH, INSTALL, other files "
              "or URLs). Unsafe: DuckDB unrestricted.")
@click.pass_context
def sql(ctx: click.Context, query: str, lake: Path | None, fmt: str, output: Path | None, limit: int,
        refresh: bool, safe: bool) -> None:
    """Run SQL against <lake>/smartcity.duckdb: a view per raw dataset (bus_telemetry, air_readings,
    station_events, alerts) and per mart. The catalog is built on first use.

    Safe mode (the default) runs only queries and lets DuckDB read only the lake's raw/ and marts/
    files and write only --output; COPY, ATTACH, INSTALL, read_csv('/etc/...') and the like are
    refused in one line. --unsafe (or SMARTCITY_SQL_SAFE=false) gives DuckDB's full SQL.

    \b
    Example:
      smartcity sql "SELECT route_id, avg(passengers) FROM bus_telemetry GROUP BY 1 ORDER BY 2 DESC"
      smartcity sql "SELECT * FROM air_quality_hourly WHERE aqi >= 101" --format csv --output unhealthy.csv
      smartcity sql --unsafe "COPY (FROM bus_telemetry) TO 'bus.parquet'"
    """
    import duckdb

    from smartcity.storage.catalog import catalog_path, connect, refresh_catalog

    settings = settings_for(ctx, lake={"path": lake})
    root = settings.lake.root
    if not root.exists():
        raise click.BadParameter(f"no lake at {root} (run `smartcity demo` or `smartcity ingest` first)",
                                 param_hint="'--lake'")
    if output is not None and fmt == "table":
        fmt = output.suffix.lstrip(".") if output.suffix in (".csv", ".json", ".parquet") else "csv"
    if fmt == "parquet" and output is None:
        raise click.BadParameter("parquet output needs --output FILE", param_hint="'--format'")
    if refresh or not catalog_path(root).exists():
        refresh_catalog(root)
    con = connect(catalog_path(root))
    try:
        if safe:
            check_safe_query(con, query)
            lock_down(con, root, output)
        rel = con.sql(query)
        if rel is None:  # a statement without a result
            return
        if output is not None:
            copy_fmt = {"csv": "CSV, HEADER", "json": "JSON, ARRAY true", "parquet": "PARQUET"}[fmt]
            target = "'" + str(output.resolve()).replace("'", "''") + "'"
            con.execute(f"COPY ({query}) TO {target} (FORMAT {copy_fmt})")
            err.print(f"wrote {output}")
            return
        if fmt == "csv":
            import csv
            import sys

            writer = csv.writer(sys.stdout)
            writer.writerow(rel.columns)
            writer.writerows(rel.fetchall())
            return
        if fmt == "json":
            import json

            records = [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
            out.print_json(json.dumps(records, default=str))
            return
        rows = rel.limit(limit + 1).fetchall()
        table = Table(*rel.columns)
        for r in rows[:limit]:
            table.add_row(*["" if v is None else str(v) for v in r])
        out.print(table)
        if len(rows) > limit:
            err.print(f"(first {limit} rows shown; --limit N or --output FILE for more)")
    except duckdb.PermissionException as exc:
        message = str(exc).replace("\n", " ")
        if safe:
            message = (f"refused in safe mode: {message} (only {root / 'raw'} and {root / 'marts'} are "
                       f"readable; {_LIFT})")
        raise QueryError(message) from None
    except duckdb.Error as exc:
        raise QueryError(str(exc).replace("\n", " ")) from None
    finally:
        con.close()
