"""PNG charts for benchmark results (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from smartcity.bench.core import Result


def bar_chart(result: Result, path: Path) -> None:
    chart = result.chart
    assert chart is not None
    if chart.kind == "curve":
        _curves(result, path)
        return
    rows = [r for r in result.rows if r.get(chart.y) is not None]
    xs = list(dict.fromkeys(str(r[chart.x]) for r in rows))
    series = list(dict.fromkeys(str(r[chart.series]) for r in rows)) if chart.series else [""]
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    width = 0.8 / len(series)
    for i, s in enumerate(series):
        values = []
        for x in xs:
            match = [r for r in rows if str(r[chart.x]) == x and (not chart.series or str(r[chart.series]) == s)]
            values.append(float(match[0][chart.y]) if match else 0.0)
        if chart.kind == "line":
            ax.plot(xs, values, marker="o", label=s or None)
        else:
            ax.bar([j + i * width - 0.4 + width / 2 for j in range(len(xs))], values, width, label=s or None)
    if chart.kind != "line":
        longest = max(map(len, xs), default=0)
        if longest > 16:
            ax.set_xticks(range(len(xs)), xs, rotation=25, ha="right", rotation_mode="anchor", fontsize=8)
        else:
            ax.set_xticks(range(len(xs)), xs, rotation=15 if longest > 8 else 0)
    ax.set_ylabel(chart.ylabel or chart.y)
    ax.set_xlabel(chart.x)
    if chart.log:
        ax.set_yscale("log")
    if chart.series:
        ax.legend(title=chart.series, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(result.title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _curves(result: Result, path: Path) -> None:
    chart = result.chart
    assert chart is not None
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    for name, points in result.curves.items():
        ax.plot([x for x, _ in points], [y for _, y in points], label=name, drawstyle="steps-post")
    ax.set_xlabel(chart.x)
    ax.set_ylabel(chart.ylabel or chart.y)
    if chart.log:
        ax.set_yscale("log")
    ax.legend(title=chart.series, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(result.title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
