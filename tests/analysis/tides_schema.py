"""A validator for TIDES tables against the vendored Frictionless table schemas: every column is a field
of the table's schema with a compatible type, required fields are never null, enumerations, minimum and
maximum hold, and the primary key is unique."""

from __future__ import annotations

import json
from importlib import resources

import polars as pl

TYPES = {
    "string": (pl.String,),
    "integer": (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64),
    "number": (pl.Float32, pl.Float64, pl.Int32, pl.Int64),
    "boolean": (pl.Boolean,),
    "date": (pl.Date,),
    "datetime": (pl.Datetime,),
}


def schema(table: str) -> dict:  # type: ignore[type-arg]
    files = resources.files("smartcity.analysis.tides") / "schemas" / f"{table}.schema.json"
    return json.loads(files.read_text())


def problems(table: str, frame: pl.DataFrame) -> list[str]:
    """What in ``frame`` breaks the TIDES ``table`` schema (empty: valid)."""
    spec = schema(table)
    fields = {f["name"]: f for f in spec["fields"]}
    out = [f"{c}: not a field of {table}" for c in frame.columns if c not in fields]
    for name, field in fields.items():
        constraints = field.get("constraints", {})
        if name not in frame.columns:
            if constraints.get("required"):
                out.append(f"{name}: required, missing")
            continue
        column = frame[name]
        if not isinstance(column.dtype, TYPES[field["type"]]):
            out.append(f"{name}: {column.dtype} is not a TIDES {field['type']}")
        if constraints.get("required") and column.null_count():
            out.append(f"{name}: required, {column.null_count()} nulls")
        values = column.drop_nulls()
        if "enum" in constraints and not set(values.unique().to_list()) <= set(constraints["enum"]):
            out.append(f"{name}: {sorted(set(values.unique().to_list()) - set(constraints['enum']))} not in its enum")
        if "minimum" in constraints and len(values) and values.min() < constraints["minimum"]:
            out.append(f"{name}: {values.min()} below {constraints['minimum']}")
        if "maximum" in constraints and len(values) and values.max() > constraints["maximum"]:
            out.append(f"{name}: {values.max()} above {constraints['maximum']}")
        if constraints.get("unique") and values.n_unique() != len(values):
            out.append(f"{name}: not unique")
    key = spec.get("primaryKey")
    keys = [key] if isinstance(key, str) else list(key or [])
    if keys and all(k in frame.columns for k in keys) and frame.select(keys).is_duplicated().any():
        out.append(f"primary key {keys}: duplicated")
    return out
