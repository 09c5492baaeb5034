"""Regenerate the Python code and the descriptor set from the .proto sources.

The folder ``proto/`` installs as ``smartcity.proto``, so the schemas are compiled under that name:
their file names are ``smartcity/proto/smartcity/v1/<name>.proto`` and the generated modules know
themselves as ``smartcity.proto.smartcity.v1.<name>_pb2``. Message names (``smartcity.v1.BusTelemetry``)
and the wire format do not depend on this.

Run from a checkout (``make proto``)::

    python -m smartcity.proto.generate            # writes proto/smartcity/v1/*_pb2.py(i) and proto/smartcity.desc
    python -m smartcity.proto.generate --out DIR  # writes into DIR instead (used by the staleness test)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
SOURCES = sorted((PROTO_DIR / "smartcity" / "v1").glob("*.proto"))
IMPORT_PATH = Path("smartcity", "proto")  # what PROTO_DIR is called once installed


def generate(out: Path) -> list[Path]:
    """Compile every schema into ``out`` (a folder standing for ``proto/``); the files written."""
    import grpc_tools
    from grpc_tools import protoc

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smartcity-protoc-") as tmp:
        include, gen = Path(tmp) / "include", Path(tmp) / "gen"
        (include / IMPORT_PATH).parent.mkdir(parents=True)
        (include / IMPORT_PATH).symlink_to(PROTO_DIR, target_is_directory=True)
        gen.mkdir()
        rel = [IMPORT_PATH / p.relative_to(PROTO_DIR) for p in SOURCES]
        args = [
            "protoc",
            f"-I{include}",
            f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
            f"--python_out={gen}",
            f"--pyi_out={gen}",
            f"--descriptor_set_out={out / 'smartcity.desc'}",
            "--include_source_info",
            *map(str, rel),
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed; see the message above")
        written = [out / "smartcity.desc"]
        for r in rel:
            for suffix in ("_pb2.py", "_pb2.pyi"):
                made = gen / r.parent / f"{r.stem}{suffix}"
                target = out / r.relative_to(IMPORT_PATH).parent / made.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(made, target)
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=PROTO_DIR, help="output folder (default: proto/ itself)")
    ns = parser.parse_args(argv)
    for path in generate(ns.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
