"""Numba's one-off set-up, without the parts the model's kernels do not use (issue 14).

The first cached kernel a process loads makes Numba set up its CPU target: it imports its whole
implementation registry (~0.3 s on this project's 2-core machine), two parts of which import
much more than they use:

* ``numba.np.arraymath`` checks for BLAS by importing ``scipy.linalg.cython_blas``, which runs
  ``scipy/linalg/__init__.py``: all of ``scipy.linalg`` and, through SciPy's array-API layer,
  ``numpy.f2py``, ``numpy.testing`` and more (~0.2 s), for two Cython modules that hold the BLAS
  and LAPACK function pointers (~5 ms on their own);
* ``numba.core.typing.cffi_utils`` imports cffi, when installed, and builds a ``cffi.FFI()``,
  which parses C declarations with pycparser (~0.1 s), for calling C functions through cffi from
  compiled code, which no kernel of the model does.

`quick_start` (called by ``omnitrust run`` before it imports the model) registers the
``scipy.linalg`` package without running its ``__init__`` (as `sim.core.mesa_core` does for
``mesa``), so Numba's check imports just the two Cython modules; SciPy's own ``__init__`` runs in
place the first time anything else is asked of ``scipy.linalg`` (``scipy.linalg.solve``,
``from scipy.linalg import norm``, ``import scipy.stats``), so from then on the package is what
``import scipy.linalg`` gives. And it imports Numba's cffi module while ``import cffi`` fails (a
``None`` entry in ``sys.modules``, Python's documented way to block an import), so Numba records
cffi as unavailable, as on a machine without it; the entry is removed at once, so other code can
still import cffi. Numba keeps its BLAS and LAPACK support; the kernels are the same compiled code
from the same cache, so the numbers do not change (`tests/test_startup.py`). Each part is skipped
when what it avoids is already loaded.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def quick_start() -> None:
    """Set up Numba's registries for this process without SciPy's linalg start-up and cffi."""
    lazy_package("scipy.linalg")
    numba_without_cffi()


def lazy_package(name: str) -> ModuleType | None:
    """Register package ``name`` (its parents imported as usual) without running its
    ``__init__``; the first attribute asked of it that it does not have runs the ``__init__`` in
    place. Submodules import as usual. Returns the module, None when it is already imported or
    not a regular installed package (then nothing is done)."""
    if name in sys.modules:
        return None
    parent, _, child = name.rpartition(".")
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:
        return None
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attr: str):
        """Anything the package does not hold yet: run its ``__init__`` (once), look again."""
        if attr.startswith("__") and attr not in ("__all__", "__version__"):
            raise AttributeError(attr)  # copy, pickle and inspect probe dunders: no full load
        del module.__getattr__
        spec.loader.exec_module(module)
        return getattr(module, attr)

    module.__getattr__ = __getattr__
    sys.modules[name] = module
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def numba_without_cffi() -> None:
    """Import Numba's cffi support while ``import cffi`` fails (see the module doc)."""
    if "cffi" in sys.modules or "numba.core.typing.cffi_utils" in sys.modules:
        return
    sys.modules["cffi"] = None  # type: ignore[assignment]
    try:
        import numba.core.typing.cffi_utils  # noqa: F401
    finally:
        if "cffi" in sys.modules and sys.modules["cffi"] is None:
            del sys.modules["cffi"]
