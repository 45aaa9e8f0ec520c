"""Packaging: pyproject.toml alone describes the package, the version is written once (minidream.__version__),
and a build holds the CUDA sources as minidream.kernels and the bundled data."""
import importlib.metadata
import pathlib
import shutil
import subprocess
import sys

import pytest

import minidream

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [[sys.executable, "-m", "minidream", "--version"],
                                     [sys.executable, "-c", "from minidream.cli import main; main()", "--version"]])
def test_version_prints_the_one_version(command):
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"minidream {minidream.__version__}"


def test_the_version_is_written_only_in_minidream_init():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "minidream.__version__"' in pyproject
    assert not (ROOT / "setup.py").exists() and not (ROOT / "setup.cfg").exists()
    try:
        installed = importlib.metadata.version("minidream")
    except importlib.metadata.PackageNotFoundError:
        return
    assert installed == minidream.__version__


def test_the_build_installs_kernels_as_minidream_kernels_with_the_data(tmp_path):
    """What `pip install .` puts in site-packages: setuptools' build_py output and egg_info metadata, built from a
    copy of the sources (the build writes into the folder it builds)."""
    pytest.importorskip("setuptools", minversion="64")  # the build backend, run here without a download
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("minidream", "kernels", "weights_tools"):
        shutil.copytree(ROOT / folder, source / folder, symlinks=True, ignore=skip)
    built = tmp_path / "built"
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", "import setuptools; setuptools.setup()", "-q",
                           "egg_info", "--egg-base", str(tmp_path), "build_py", "--build-lib", str(built)],
                          capture_output=True, text=True, cwd=source)
    assert done.returncode == 0, done.stderr
    names = {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()}
    cuda_sources = {f"minidream/kernels/{p.name}" for p in (ROOT / "kernels").glob("*.cu")}
    assert cuda_sources and cuda_sources <= names
    assert {"minidream/kernels/__init__.py", "minidream/models/data/mini.h5", "weights_tools/data/synset_words.txt",
            "minidream/__main__.py", "weights_tools/__main__.py"} <= names
    assert not (built / "kernels").exists() and not (built / "tests").exists()  # no generic top-level package
    metadata = tmp_path / "minidream.egg-info"
    assert f"Version: {minidream.__version__}\n" in (metadata / "PKG-INFO").read_text()
    assert "minidream = minidream.cli:main" in (metadata / "entry_points.txt").read_text()
