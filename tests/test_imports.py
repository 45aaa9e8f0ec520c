"""The house's import rules, checked in fresh interpreters: importing changes nothing in the process, weights_tools
stands without the engine, and the kernel loader stands without minidream."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENGINE = ("minidream.engine.net", "minidream.dreaming.deepdream", "minidream.dreaming.objectives", "minidream.dreaming.zooming",
          "minidream.models.classification", "minidream.models.loading")


def _run(code):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_THREAD_TIMEOUT", "OPENBLAS_CORETYPE", "MINIDREAM_KEEP_MEMORY")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_minidream_changes_no_setting_and_loads_no_engine():
    out = _run("import os, sys, minidream\n"
               "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), 'numpy' in sys.modules,"
               " sorted(m for m in sys.modules if m.startswith('minidream')))")
    assert out == "None False ['minidream']"


def test_public_names_load_on_first_use():
    out = _run("import minidream\nprint(callable(minidream.dream), callable(minidream.layer_table),"
               " minidream.Net.__name__, minidream.objectives.L2.__name__)")
    assert out == "True True Net L2"
    # No callable package any more: minidream.layer_table lists a model's layers, minidream.engine.ops is the ops.
    assert _run("import minidream\nprint(hasattr(minidream, 'layers'))") == "False"


@pytest.mark.parametrize("module", ["weights_tools", "weights_tools.convert", "weights_tools.summary",
                                    "weights_tools.fetch"])
def test_weights_tools_does_not_load_the_engine(module):
    out = _run(f"import os, sys, {module}\nprint(os.environ.get('OPENBLAS_THREAD_TIMEOUT'),"
               f" sorted(m for m in sys.modules if m in {ENGINE!r}))")
    assert out == "None []"


def test_the_kernel_loader_imports_nothing_from_minidream():
    source = (ROOT / "kernels" / "__init__.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+minidream", source, re.M)
    out = _run("import sys, minidream.kernels\nprint(sorted(m for m in sys.modules if m.startswith('minidream')))")
    assert out == "['minidream', 'minidream.kernels']"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
@pytest.mark.parametrize("numpy_first", [False, True])
def test_tune_cpu_applies_in_either_import_order(numpy_first):
    code = ("import os, minidream\nr = minidream.tune_cpu()\n"
            "print(r['keep_freed_memory'], r['blas_kernels'] in (None, 'Haswell'), minidream.tune_cpu() == r,"
            " os.environ.get('OPENBLAS_THREAD_TIMEOUT'), os.environ.get('OPENBLAS_CORETYPE') == r['blas_kernels'])\n"
            "import numpy as np\na = np.random.default_rng(0).standard_normal((300, 200), dtype=np.float32)\n"
            "print(np.allclose(a @ a.T, a.astype(np.float64) @ a.T.astype(np.float64), rtol=1e-4, atol=1e-3))")
    out = _run(("import numpy\n" if numpy_first else "") + code)
    # The kernel choice (AMD Zen 4 only) is left in OPENBLAS_CORETYPE for child processes; products stay right.
    assert out == "True True True None True\nTrue"


def _folder_imports():
    """{(folder A, folder B)} where a module of A imports one of B: minidream's subpackages, its top-level modules
    (as "minidream/NAME.py") and weights_tools."""
    import ast

    def unit(parts):
        if parts[0] != "minidream" or len(parts) == 1:
            return parts[0]
        return f"minidream/{parts[1]}" if (ROOT / "minidream" / parts[1]).is_dir() else f"minidream/{parts[1]}.py"

    def module_parts(dotted):  # the longest prefix of a dotted name that is a module or package of this tree
        parts = dotted.split(".")
        while parts and not ((ROOT.joinpath(*parts).with_suffix(".py")).exists() or ROOT.joinpath(*parts).is_dir()):
            parts = parts[:-1]
        return parts

    edges = set()
    for path in [*ROOT.glob("minidream/**/*.py"), *ROOT.glob("weights_tools/**/*.py")]:
        source = unit(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = module_parts(name) if name.startswith(("minidream.", "weights_tools")) else []
                if parts and unit(parts) not in (source, "minidream") and parts != ["minidream", "__init__"]:
                    edges.add((source, unit(parts)))
    return edges


def test_no_two_folders_import_each_other_and_the_top_stays_small():
    """The folders are layers: an import between two folders goes one way only, and no chain of them comes back."""
    import graphlib

    edges = _folder_imports()
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    assert [(a, b) for a, b in edges if (b, a) in edges] == []
    list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a longer circle
    assert len(list((ROOT / "minidream").glob("*.py"))) <= 8
