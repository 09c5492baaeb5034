"""``smartcity sql``: ad-hoc SQL over the lake's DuckDB catalog."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from smartcity.cli.common import err, lake_option, out, settings_for
from smartcity.core.errors import QueryError


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
@click.pass_context
def sql(ctx: click.Context, query: str, lake: Path | None, fmt: str, output: Path | None, limit: int,
        refresh: bool) -> None:
    """Run SQL against <lake>/smartcity.duckdb: a view per raw dataset (bus_telemetry, air_readings,
    station_events, alerts) and per mart. The catalog is built on first use.

    \b
    Example:
      smartcity sql "SELECT route_id, avg(passengers) FROM bus_telemetry GROUP BY 1 ORDER BY 2 DESC"
      smartcity sql "SELECT * FROM air_quality_hourly WHERE aqi >= 101" --format csv --output unhealthy.csv
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
    except duckdb.Error as exc:
        raise QueryError(str(exc).replace("\n", " ")) from None
    finally:
        con.close()
