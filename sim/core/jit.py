"""Numba's ``njit`` for the model's kernels, with their compile cache keyed by the model's code.

Numba keys a cached kernel by its own source file (time stamp and size). But a kernel freezes,
when it is compiled, the module globals it reads (the flag bits and tables of
`sim.state.population`, the block size of `sim.core.blocks`) and the functions it inlines or
calls from other modules (T1's `trust_of`, from `sim.mechanisms.trust`, is inlined into the
journey's kernels). An edit to one of those used to leave the kernels that use it stale: the old
rule ran from the cache while the provenance showed the new code's fingerprint. Measured: with
``trust_of`` multiplied by 0.99 in a copy of the package, 20 days of a 2,000-consumer baseline
gave the unedited sums of evidence (r 8902.90, s 5471.73) from the warm cache, and 8821.87 /
5371.27 compiled afresh.

So `njit` puts every kernel's cache in a folder named by `kernel_key`, a hash of the source of
the package's ``__init__`` and of every module `sim.core.fingerprint.model_sources` lists, which
hold everything a kernel module imports (`tests/test_kernel_cache.py` follows the imports),
taken when `sim` is first imported: after any edit of the model's code the kernels are compiled
once into a new folder (the README's cold-cache figure). A file of those edited after that, while
this process runs, would have this process compile code the key does not describe: from then on
its kernels are compiled without the cache (a warning says so; a new process uses it again).
Where no folder can be written, the kernels are compiled without the cache, never into Numba's
own per-file one.

Where (``<key>``: `kernel_key`):

* ``<Numba's cache_dir>/omnitrust-<key>`` if the user set one (``NUMBA_CACHE_DIR`` or
  ``.numba_config.yaml``) and it can be written;
* else ``sim/__pycache__/kernels/<key>`` next to the sources, as Numba would have put them, or
  ``$XDG_CACHE_HOME/omnitrust/kernels/<key>`` (``~/.cache/...``) where the package's folder
  cannot be written.

In each of those folders only the `KEEP` most recently used keys stay.

Numba's ``CACHE_DIR`` is set only while a kernel is decorated (its cache's place is fixed then),
so other code's cached functions in the same process are cached where Numba would put them.

``OMNITRUST_KERNEL_CACHE=by-file`` leaves the cache to Numba, keyed by each kernel's own file: for
a tool that removes stale caches itself, as `benchmarks/mutation.py` does for a mutant's module
and every module importing it, so that only those kernels recompile.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
from numba.core import config

from .errors import UserError
from .fingerprint import kernel_snapshot, kernel_sources, kernel_sources_changed

__all__ = ["KEEP", "cache_folder", "kernel_key", "kernel_sources", "njit", "prune"]

ENV = "OMNITRUST_KERNEL_CACHE"
"""``by-file``: Numba's own cache keying (see the module docstring); unset or ``model``: by the
model's code."""

KEEP = 4
"""Kernel folders (model versions) kept in a folder of them, the most recently used; ~7 MB each."""

_KERNELS = re.compile(r"[0-9a-f]{16}")
_NUMBA_DIR = re.compile(r"omnitrust-[0-9a-f]{16}")
_LOCK = threading.Lock()  # Numba's CACHE_DIR is changed while a kernel is decorated
_checked: set[str] = set()  # modules whose first kernel saw the sources unchanged
_edited: list[Path] = []  # kernel sources edited while this process runs: no cache from then on


def kernel_key() -> str:
    """The kernels' cache key: SHA-256 (first 16 hex digits) of `kernel_sources` as they were
    when `sim` was imported (`sim.core.fingerprint.kernel_snapshot`)."""
    return kernel_snapshot()[0]


def _mode() -> str:
    mode = os.environ.get(ENV, "") or "model"
    if mode not in ("model", "by-file"):
        raise UserError(f"{ENV} = {mode!r}: allowed: by-file, model (the default), or unset")
    return mode


def prune(
    folder: Path, current: Path, keep: int = KEEP, pattern: re.Pattern = _KERNELS
) -> list[Path]:
    """Mark ``current`` (in ``folder``) used now and delete all but the ``keep`` most recently
    used of ``folder``'s subfolders named as ``pattern`` says (others are left alone); return
    those deleted. Best effort: a folder another process removes meanwhile is skipped, and a
    process still loading from a deleted folder compiles what it misses."""
    with contextlib.suppress(OSError):
        os.utime(current)
    stamped = []
    for path in folder.iterdir():
        if pattern.fullmatch(path.name):
            try:
                if path.is_dir():
                    stamped.append((path == current, path.stat().st_mtime, path))
            except OSError:
                continue
    stamped.sort(reverse=True, key=lambda t: (t[0], t[1]))
    gone = [path for _, _, path in stamped[keep:]]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


def _user_kernels() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omnitrust" / "kernels"


def _candidates():
    """(folder of kernel folders, this key's folder, the names pruned there), in order."""
    key = kernel_key()
    if config.CACHE_DIR:
        yield Path(config.CACHE_DIR), Path(config.CACHE_DIR) / f"omnitrust-{key}", _NUMBA_DIR
    kernels = Path(__file__).resolve().parents[1] / "__pycache__" / "kernels"
    yield kernels, kernels / key, _KERNELS
    try:
        kernels = _user_kernels()
    except (RuntimeError, KeyError):  # no home folder (an unknown user without HOME)
        return
    yield kernels, kernels / key, _KERNELS


@functools.cache
def cache_folder() -> Path | None:
    """Where the kernels are cached (see the module docstring); None: no folder can be written,
    the kernels are compiled without the cache. Decided once per process."""
    for parent, folder, pattern in _candidates():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not os.access(folder, os.W_OK | os.X_OK):
                continue
        except OSError:
            continue
        with contextlib.suppress(OSError):
            prune(parent, folder, pattern=pattern)
        return folder
    return None


def _sources_unchanged(module: str) -> bool:
    """Whether the key still describes the model's source, checked at each module's first
    kernel; after one edit, never again in this process."""
    if not _edited and module not in _checked:
        _checked.add(module)
        changed = kernel_sources_changed()
        if changed:
            _edited.extend(changed)
            root = Path(__file__).resolve().parents[2]
            names = ", ".join(str(p.relative_to(root)) for p in changed[:3])
            warnings.warn(
                f"{names} changed after this process imported sim: its kernels are compiled "
                "without Numba's cache from now on (a new process uses the cache again)",
                stacklevel=3,
            )
    return not _edited


def njit(**options: Any) -> Callable[[Callable], Any]:
    """``numba.njit(**options)``, its cache (``cache=True``) in `cache_folder`."""

    def decorate(fn: Callable) -> Any:
        if not options.get("cache") or _mode() == "by-file":
            return numba.njit(**options)(fn)
        with _LOCK:
            folder = cache_folder()
            if folder is None or not _sources_unchanged(fn.__module__):
                return numba.njit(**{**options, "cache": False})(fn)
            previous = config.CACHE_DIR
            config.CACHE_DIR = str(folder)
            try:
                return numba.njit(**options)(fn)
            finally:
                config.CACHE_DIR = previous

    return decorate
