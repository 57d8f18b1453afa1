"""Numba's compile cache cannot run a stale kernel: every kernel is cached in a folder named by the
hash of the model's code (`sim.core.jit`), and that hash covers every module a kernel imports.

Numba itself keys a cached kernel by its own file only, while a kernel freezes the globals and
the inlined functions of the modules it imports: an edit of T1 in `sim/mechanisms/trust.py` was
run stale by the journey's kernels (the measurement is in `sim.core.jit`'s docstring).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import sim_imports

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"


SOURCES = sorted(p for p in SIM.rglob("*.py") if "__pycache__" not in p.parts)


def _uses_numba_jit(tree: ast.AST) -> list[int]:
    """Lines where ``nb.njit``/``numba.njit``/``numba.jit`` (or ``from numba import njit``)
    appear: a kernel compiled past `sim.core.jit.njit`."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("njit", "jit")
            and isinstance(node.value, ast.Name)
            and node.value.id in ("nb", "numba")
        ):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "numba"
            and any(a.name in ("njit", "jit") for a in node.names)
        ):
            lines.append(node.lineno)
    return lines


def test_every_kernel_is_compiled_through_sim_core_jit():
    bypass = {
        path.relative_to(SIM).as_posix(): lines
        for path in SOURCES
        if path.name != "jit.py" and (lines := _uses_numba_jit(ast.parse(path.read_text())))
    }
    assert not bypass, f"kernels compiled past sim.core.jit.njit (file: lines): {bypass}"


def test_the_key_covers_every_module_a_kernel_module_imports():
    from sim.core.jit import kernel_sources

    kernels = {p.resolve() for p in SOURCES if "@njit(" in p.read_text()}
    names = {p.relative_to(SIM.resolve()).as_posix() for p in kernels}
    assert {"mechanisms/trust.py", "mechanisms/journey.py", "core/blocks.py"} <= names
    seen, todo = set(kernels), list(kernels)
    while todo:
        for module in sim_imports(todo.pop(), SIM):
            if module not in seen:
                seen.add(module)
                todo.append(module)
    hashed = {p.resolve() for p in kernel_sources()}
    missing = sorted(p.relative_to(SIM.resolve()).as_posix() for p in seen - hashed)
    assert not missing, f"kernel modules import code the cache key does not hash: {missing}"


PROBE = """
import json, sys
import numba
from numba.core.dispatcher import Dispatcher
before = numba.config.CACHE_DIR
import sim.model  # every kernel module
from sim.core.jit import cache_folder, kernel_key
paths = {}
for name, module in list(sys.modules.items()):
    if name.startswith("sim."):
        for attr, value in vars(module).items():
            if isinstance(value, Dispatcher) and value._cache is not None:
                path = getattr(value._cache, "_cache_path", None)
                paths[f"{name}.{attr}"] = path
print(json.dumps({"folder": str(cache_folder()), "key": kernel_key(), "paths": paths,
                  "before": before, "after": numba.config.CACHE_DIR}))
"""


def _python(root: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR",)}
    environ.pop("OMNITRUST_KERNEL_CACHE", None)
    environ.update(env, PYTHONPATH=str(root))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


def _probe(root: Path, **env: str) -> dict:
    import json

    return json.loads(_python(root, PROBE, **env).stdout)


def test_every_kernel_is_cached_in_the_folder_of_the_models_code(tmp_path):
    got = _probe(ROOT, NUMBA_CACHE_DIR=str(tmp_path))
    assert got["folder"] == str(tmp_path / f"omnitrust-{got['key']}")
    assert len(got["paths"]) >= 40, "the model's kernels were not found"
    outside = {n: p for n, p in got["paths"].items() if not p.startswith(got["folder"] + os.sep)}
    assert not outside, f"kernels cached outside {got['folder']}: {outside}"
    # Numba's own setting is left as the process had it (other code's caches go where they would)
    assert got["after"] == got["before"] == str(tmp_path)


def test_an_edit_of_any_model_module_moves_the_cache_to_a_new_folder(tmp_path):
    """A copy of the package, then the same copy with T1 edited (a change that only the kernels
    inlining it would see): the kernels' folder must change, and nothing else decides it."""
    copy = tmp_path / "tree"
    shutil.copytree(SIM, copy / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "numba"
    first = _probe(copy, NUMBA_CACHE_DIR=str(cache))
    again = _probe(copy, NUMBA_CACHE_DIR=str(cache))
    trust = copy / "sim" / "mechanisms" / "trust.py"
    source = trust.read_text()
    assert "return (r + prior * weight) / (r + s + weight)" in source
    trust.write_text(source.replace("(r + s + weight)", "(r + s + weight + 0.0)", 1))
    edited = _probe(copy, NUMBA_CACHE_DIR=str(cache))
    assert first["folder"] == again["folder"]
    assert edited["folder"] != first["folder"]
    assert all(p.startswith(edited["folder"]) for p in edited["paths"].values())


def test_by_file_leaves_the_cache_to_numba(tmp_path):
    got = _probe(ROOT, NUMBA_CACHE_DIR=str(tmp_path), OMNITRUST_KERNEL_CACHE="by-file")
    # Numba's own choice with NUMBA_CACHE_DIR set: under that folder, not a key folder
    assert all(p.startswith(str(tmp_path)) and "omnitrust-" not in p for p in got["paths"].values())


def test_a_bad_mode_is_a_user_error(monkeypatch):
    from sim.core import jit
    from sim.core.errors import UserError

    monkeypatch.setenv("OMNITRUST_KERNEL_CACHE", "sometimes")
    with pytest.raises(UserError, match="OMNITRUST_KERNEL_CACHE = 'sometimes'.*by-file"):
        jit.njit(cache=True)(lambda: 1)


# A kernel that inlines T1 (trust_of, in another module) and reads a global of a third module,
# as the journey's kernels do; written into a copy of the package.
PROBE_GLOBAL = "C = 1.0\n"
PROBE_KERNEL = """
from ..core.jit import njit
from ..state import probe_c
from .trust import trust_of

C = probe_c.C


@njit(cache=True)
def probe():
    return C * trust_of(2.0, 1.0, 0.5, 1.0)
"""
CALL = "from sim.mechanisms.probe_k import probe; print(repr(probe()))"


def _tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    shutil.copytree(SIM, copy / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "sim" / "state" / "probe_c.py").write_text(PROBE_GLOBAL)
    (copy / "sim" / "mechanisms" / "probe_k.py").write_text(PROBE_KERNEL)
    return copy


def _edit_t1(root: Path) -> None:
    trust = root / "sim" / "mechanisms" / "trust.py"
    source = trust.read_text()
    old = "return (r + prior * weight) / (r + s + weight)"
    assert old in source
    trust.write_text(source.replace(old, "return 0.99 * (r + prior * weight) / (r + s + weight)"))


# T1 by hand: (r + prior w) / (r + s + w) with r 2, s 1, prior 0.5, w 1
T1 = (2.0 + 0.5 * 1.0) / (2.0 + 1.0 + 1.0)


def test_an_edit_of_an_inlined_function_is_compiled_not_loaded_stale(tmp_path):
    """The measured failure, end to end, in the default place (next to the sources): Numba's
    per-file keying (by-file) runs the unedited T1 from the cache; the model's key does not."""
    root = _tree(tmp_path)
    for mode in ("model", "by-file"):  # both caches warm before the edit
        assert float(_python(root, CALL, OMNITRUST_KERNEL_CACHE=mode).stdout) == pytest.approx(T1)
    key = _python(root, "from sim.core.jit import kernel_key; print(kernel_key())").stdout.strip()
    assert (root / "sim" / "__pycache__" / "kernels" / key).is_dir()
    _edit_t1(root)
    assert float(_python(root, CALL).stdout) == pytest.approx(0.99 * T1)
    stale = float(_python(root, CALL, OMNITRUST_KERNEL_CACHE="by-file").stdout)
    assert stale == pytest.approx(T1), "Numba's own keying should run the stale T1 here"


def test_a_source_edited_while_the_process_runs_is_never_cached(tmp_path):
    """A module imported, then edited, then a kernel reading it compiled: the process compiles
    the code it loaded, so that kernel must not be saved under the edited source's key (a later
    process would load it)."""
    root = _tree(tmp_path)
    script = (
        "import warnings, pathlib\n"
        "import sim.state.probe_c\n"
        "pathlib.Path(sim.state.probe_c.__file__).write_text('C = 2.0\\n')\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        f"    {CALL}\n"
        "print(seen[0].message if seen else 'no warning')\n"
    )
    first = _python(root, script).stdout.splitlines()
    assert float(first[0]) == pytest.approx(T1)  # the C this process imported
    assert "probe_c.py changed after this process imported sim" in first[1]
    assert float(_python(root, CALL).stdout) == pytest.approx(2.0 * T1)  # a new process: C = 2


def test_an_unwritable_numba_folder_falls_back_to_the_keyed_folder(tmp_path):
    root = _tree(tmp_path)
    got = _probe(root, NUMBA_CACHE_DIR="/proc/omnitrust-cannot-write")
    kernels = root / "sim" / "__pycache__" / "kernels" / got["key"]
    assert got["folder"] == str(kernels)
    assert all(p.startswith(str(kernels)) for p in got["paths"].values())


def test_prune_keeps_the_most_recently_used_folders(tmp_path):
    from sim.core.jit import prune

    kernels = tmp_path / "kernels"
    names = [f"{k:016x}" for k in range(6)]
    now = time.time()
    for age, name in enumerate(names):  # names[0] used last, names[5] first
        (kernels / name).mkdir(parents=True)
        os.utime(kernels / name, (now - 100 * (age + 1), now - 100 * (age + 1)))
    (kernels / "notes").mkdir()  # not a key: left alone
    current = kernels / names[5]  # the oldest, in use again now
    gone = prune(kernels, current, keep=3)
    left = sorted(p.name for p in kernels.iterdir())
    assert left == sorted([names[5], names[0], names[1], "notes"])
    assert sorted(p.name for p in gone) == sorted(names[2:5])
