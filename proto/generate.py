"""Regenerate the Python code and the descriptor set from the .proto sources.

Run from the repository root (``make proto``)::

    python -m proto.generate            # writes proto/smartcity/v1/*_pb2.py(i) and proto/smartcity.desc
    python -m proto.generate --out DIR  # writes into DIR instead (used by the staleness test)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "proto" / "smartcity" / "v1").glob("*.proto"))


def generate(out: Path) -> list[Path]:
    """Compile every schema into ``out`` (a folder standing for the repository root)."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    rel = [str(p.relative_to(ROOT)) for p in SOURCES]
    out.mkdir(parents=True, exist_ok=True)
    (out / "proto").mkdir(exist_ok=True)
    args = [
        "protoc",
        f"-I{ROOT}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--descriptor_set_out={out / 'proto' / 'smartcity.desc'}",
        "--include_source_info",
        *rel,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the message above")
    written = [out / "proto" / "smartcity.desc"]
    for r in rel:
        stem = Path(r).with_suffix("")
        written += [out / f"{stem}_pb2.py", out / f"{stem}_pb2.pyi"]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT, help="output root (default: the repository)")
    ns = parser.parse_args(argv)
    for path in generate(ns.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
