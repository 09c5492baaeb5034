"""The distribution: every room installs under ``smartcity.*`` and nothing else lands at the top level
of site-packages; a wheel works from any directory, beside proto-plus (which owns ``import proto``)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _python_packages(folder: Path) -> set[str]:
    """Dotted names (relative to ``folder``) of every directory holding Python modules."""
    found = set()
    for path in folder.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        found.add(".".join(path.parent.relative_to(folder).parts))
    return found


def test_every_room_is_listed_and_mapped() -> None:
    packages = set(SETUPTOOLS["packages"])
    package_dir = SETUPTOOLS["package-dir"]
    assert all(name.startswith("smartcity.") for name in packages)
    for name, folder in package_dir.items():
        for sub in _python_packages(REPO / folder):
            dotted = f"{name}.{sub}" if sub else name
            assert dotted in packages, f"{folder}/{sub.replace('.', '/')} holds modules but {dotted} is not packaged"
    rooms = {p.split(".")[1] for p in packages}
    assert rooms == {n.split(".")[1] for n in package_dir}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (a build leaves ``build/`` behind in its source tree)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in SETUPTOOLS["package-dir"].values():
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(source)], check=True, timeout=600)
    (built,) = out.glob("smartcity_platform-*.whl")
    return built


def test_wheel_holds_only_the_smartcity_namespace_and_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"smartcity"}
    assert "smartcity/__init__.py" not in names  # a namespace: other distributions may add to it
    for data in ("smartcity/flows/prefect.yaml", "smartcity/proto/smartcity.desc", "smartcity/data/city/stops.csv"):
        assert data in names, data
    assert any(n.startswith("smartcity/data/samples/") for n in names)


@pytest.mark.slow
def test_wheel_beside_proto_plus_works_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, smartcity = venv / "bin" / "python", venv / "bin" / "smartcity"
    wanted = ["-c", str(REPO / "constraints.txt"), str(wheel), "proto-plus"]
    # the wheel and its declared dependencies only (nothing from the test environment); uv resolves and
    # installs them in seconds where pip takes minutes, and pip is the fallback
    fast = subprocess.run([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", str(python), *wanted],
                          capture_output=True, text=True, timeout=600) if importlib.util.find_spec("uv") else None
    if fast is None or fast.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
                       check=True, timeout=1200)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMARTCITY_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    env.pop("PREFECT_API_URL", None)

    def run(*args: str, timeout: float = 600) -> str:
        done = subprocess.run(args, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    probe = ("import proto, smartcity.proto, smartcity.cli.main; print(proto.Message.__module__); "
             "print(smartcity.proto.__file__)")
    module, location = run(str(python), "-c", probe).split()
    assert module.startswith("proto")  # proto-plus still owns `import proto`
    assert str(REPO) not in location and "site-packages" in location
    assert "Example:" in run(str(smartcity), "--help")
    run(str(smartcity), "simulate", "--to", "files", "--duration", "10m", "--output", "events")
    assert any((elsewhere / "events").iterdir())
    out = run(str(smartcity), "demo", "--lake", "lake", "--history-days", "0", timeout=1200)
    assert (elsewhere / "lake" / "smartcity.duckdb").is_file(), out
    assert list((elsewhere / "lake" / "reports").glob("smartcity-report-*.html")), out
    run(str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "smartcity-platform")
    assert run(str(python), "-c", "import proto; print(proto.Message.__name__)").strip() == "Message"
