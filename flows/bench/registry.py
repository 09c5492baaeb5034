"""The experiments ``smartcity bench`` knows, in the order ``bench all`` runs them."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from flows.bench.core import BenchContext, Result

EXPERIMENTS: dict[str, tuple[str, str]] = {
    "producer": ("flows.bench.producer", "smartcity's producer vs Kafka's ProducerPerformance"),
    "sink": ("flows.bench.sink", "smartcity ingest vs a bare Kafka read; memory with a backlog"),
}


def available() -> dict[str, str]:
    out = {}
    for name, (module, text) in EXPERIMENTS.items():
        if importlib.util.find_spec(module) is not None:
            out[name] = text
    return out


def runner(name: str) -> Callable[[BenchContext], Result]:
    return importlib.import_module(EXPERIMENTS[name][0]).run
