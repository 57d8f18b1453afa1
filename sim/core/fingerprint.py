"""The model's fingerprint: a hash of the source of the code that decides a run's numbers.

Kept apart from `sim.core.storage` (which loads pandas and pyarrow) because the kernels' compile
cache is keyed by it too (`sim.core.jit`), and a process that only simulates should not pay for
those imports.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

# The code that decides a run's numbers (its source is hashed into the provenance and keys the
# saved warm-ups): these modules and every module of these packages, as paths relative to the
# `sim` package. Whole packages, so that a module the kernels import (block order of the float
# sums in core/blocks.py, the constants, the parameter tables of scenario/paramdoc.py, the
# loader that fills policy_before) cannot be left out; tests/test_store_invalidation.py checks
# that everything `sim.model` imports is here.
MODEL_MODULES = ("runner.py",)
MODEL_PACKAGES = ("core", "scenario", "state", "mechanisms", "model")


def model_sources() -> list[Path]:
    """The source files hashed by `model_fingerprint`, in a fixed order."""
    root = Path(__file__).resolve().parents[1]
    files = [root / m for m in MODEL_MODULES]
    for package in MODEL_PACKAGES:
        files += sorted((root / package).glob("*.py"))
    return files


@functools.cache
def model_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) of the source of the modules that decide the numbers, so a
    stored run made by other model code is never mistaken for a current one."""
    return _digest(model_sources())


def _digest(paths: list[Path]) -> str:
    """SHA-256 (first 16 hex digits) of the files' names (relative to the package) and bytes."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def kernel_sources() -> list[Path]:
    """The files whose source keys the kernels' compile cache (`sim.core.jit`): the package's
    ``__init__`` and `model_sources`, which hold every module a kernel module imports."""
    root = Path(__file__).resolve().parents[1]
    return [root / "__init__.py", *model_sources()]


def _stamps(paths: list[Path]) -> tuple[tuple[int, int], ...]:
    out = []
    for path in paths:
        st = path.stat()
        out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


@functools.cache
def kernel_snapshot() -> tuple[str, tuple[tuple[int, int], ...]]:
    """The kernels' cache key (SHA-256 of `kernel_sources`, first 16 hex digits) and the files'
    time stamps and sizes, taken once, when `sim` is first imported: the key names the source
    this process found, before it imported any of the model's modules."""
    paths = kernel_sources()
    stamps = _stamps(paths)
    return _digest(paths), stamps


def kernel_sources_changed() -> list[Path]:
    """The files of `kernel_sources` edited (time stamp or size) since `kernel_snapshot`."""
    paths = kernel_sources()
    _, then = kernel_snapshot()
    try:
        now = _stamps(paths)
    except OSError:  # a file removed: everything is suspect
        return paths
    return [p for p, a, b in zip(paths, then, now, strict=True) if a != b]
