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
hold everything a kernel module imports (`tests/test_kernel_cache.py` follows the imports):
after any edit of the model's code the kernels are compiled once into a new folder (the
README's cold-cache figure), and a stale one is never run.

Where (``<key>``: `kernel_key`):

* ``$NUMBA_CACHE_DIR/omnitrust-<key>`` if Numba's own variable is set;
* else ``sim/__pycache__/kernels/<key>`` next to the sources, as Numba would have put them, or
  ``$XDG_CACHE_HOME/omnitrust/kernels/<key>`` (``~/.cache/...``) where the package's folder
  cannot be written. Of these ``kernels`` folders only the `KEEP` most recently used keys stay.

Numba's ``CACHE_DIR`` is set only while a kernel is decorated (its cache's place is fixed then),
so other code's cached functions in the same process are cached where Numba would put them.

``OMNITRUST_KERNEL_CACHE=by-file`` leaves the cache to Numba, keyed by each kernel's own file: for
a tool that removes stale caches itself, as `benchmarks/mutation.py` does for a mutant's module
and every module importing it, so that only those kernels recompile.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
from numba.core import config

from .errors import UserError
from .fingerprint import model_sources

ENV = "OMNITRUST_KERNEL_CACHE"
"""``by-file``: Numba's own cache keying (see the module docstring); unset or ``model``: by the
model's code."""

KEEP = 4
"""Kernel folders (model versions) kept in a ``kernels`` folder, the most recently used; ~7 MB
each."""

_KEY = re.compile(r"[0-9a-f]{16}")


def kernel_sources() -> list[Path]:
    """The files whose source `kernel_key` hashes, in a fixed order."""
    root = Path(__file__).resolve().parents[1]
    return [root / "__init__.py", *model_sources()]


@functools.cache
def kernel_key() -> str:
    """SHA-256 (first 16 hex digits) of `kernel_sources`, names relative to the package."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in kernel_sources():
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _user_kernels() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omnitrust" / "kernels"


def prune(kernels: Path, current: Path, keep: int = KEEP) -> list[Path]:
    """Mark ``current`` (a folder in ``kernels``) used now and delete all but the ``keep`` most
    recently used key folders of ``kernels`` (other names are left alone); return those
    deleted. A process still loading from a deleted folder compiles what it misses."""
    os.utime(current)
    folders = [p for p in kernels.iterdir() if _KEY.fullmatch(p.name) and p.is_dir()]
    folders.sort(key=lambda p: (p == current, p.stat().st_mtime), reverse=True)
    gone = folders[keep:]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


@functools.cache
def cache_folder() -> Path | None:
    """Where the kernels are cached (see the module docstring); None: where Numba chooses."""
    mode = os.environ.get(ENV, "")
    if mode == "by-file":
        return None
    if mode not in ("", "model"):
        raise UserError(f"{ENV} = {mode!r}: allowed: by-file, model (the default), or unset")
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        return Path(user) / f"omnitrust-{kernel_key()}"
    for kernels in (
        Path(__file__).resolve().parents[1] / "__pycache__" / "kernels",
        _user_kernels(),
    ):
        folder = kernels / kernel_key()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not os.access(folder, os.W_OK):
                continue
            prune(kernels, folder)
        except OSError:
            continue
        return folder
    return None


def njit(**options: Any) -> Callable[[Callable], Any]:
    """``numba.njit(**options)``, its cache (``cache=True``) in `cache_folder`."""

    def decorate(fn: Callable) -> Any:
        folder = cache_folder() if options.get("cache") else None
        if folder is None:
            return numba.njit(**options)(fn)
        previous = config.CACHE_DIR
        config.CACHE_DIR = str(folder)
        try:
            return numba.njit(**options)(fn)
        finally:
            config.CACHE_DIR = previous

    return decorate
