"""``smartcity bench``: reproducible benchmarks."""

from __future__ import annotations

import time
from pathlib import Path

import click

from smartcity.cli.common import err, out


@click.command()
@click.argument("experiment")
@click.option("--quick", is_flag=True, help="A seconds-long smoke run (small sizes).")
@click.option("--output", type=click.Path(path_type=Path, file_okay=False), default=Path("bench-results"),
              show_default=True, help="Folder for JSON, markdown and PNG results.")
@click.option("--bootstrap-servers", "-b", help="Measure this cluster [default: start a local broker].")
@click.option("--publish", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a combined markdown report here (e.g. docs/benchmarks.md), charts beside it.")
def bench(experiment: str, quick: bool, output: Path, bootstrap_servers: str | None, publish: Path | None) -> None:
    """Run an experiment (or `all`) and write <experiment>.json, .md and .png to --output.

    \b
    Example:
      smartcity bench sink
      smartcity bench all --quick
      smartcity bench all --publish docs/benchmarks.md
    """
    from smartcity.bench.core import BenchContext, machine, markdown, write_result
    from smartcity.bench.registry import available, runner

    known = available()
    if experiment != "all" and experiment not in known:
        raise click.BadParameter(f"unknown experiment {experiment!r}; choose all or one of {', '.join(known)}",
                                 param_hint="'EXPERIMENT'")
    names = list(known) if experiment == "all" else [experiment]
    host = machine()
    ctx = BenchContext(output.resolve(), quick=quick, budget_s=10 if quick else 120, bootstrap=bootstrap_servers,
                       log=lambda m: err.print(f"[dim]{m}[/dim]"))
    results = []
    try:
        for name in names:
            began = time.perf_counter()
            with err.status(f"bench {name}{' (quick)' if quick else ''} ..."):
                result = runner(name)(ctx)
            result.seconds = time.perf_counter() - began
            files = write_result(result, output, host)
            results.append(result)
            out.print(f"[bold]{result.title}[/bold]: " + "; ".join(f"{k} {v}" for k, v in result.headline.items()))
            err.print("  wrote " + ", ".join(str(f) for f in files))
    finally:
        ctx.close()
    if publish is not None:
        publish.parent.mkdir(parents=True, exist_ok=True)
        charts = publish.parent / "bench"
        charts.mkdir(exist_ok=True)
        parts = ["# Benchmarks\n", "Produced by `smartcity bench all --publish docs/benchmarks.md` on the machine "
                 "below. Ratios from one run on one machine are the figures to quote.\n",
                 "| | |\n| --- | --- |\n" + "".join(f"| {k} | {v} |\n" for k, v in host.items())]
        for r in results:
            png = output / f"{r.experiment}.png"
            image = None
            if png.exists():
                (charts / png.name).write_bytes(png.read_bytes())
                image = f"bench/{png.name}"
            parts.append(markdown(r, host, image=image))
        publish.write_text("\n".join(parts))
        err.print(f"wrote {publish}")
