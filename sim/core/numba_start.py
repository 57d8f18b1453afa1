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

`quick_start` (called by ``omnitrust run`` before it imports the model) makes Numba's BLAS check
at once (it imports ``numba.np.arraymath``) while an empty ``scipy.linalg`` package, whose
``__init__`` has not run, stands in ``sys.modules``, so the check imports just the two Cython
modules. It then takes the stand-in out again (out of ``sys.modules`` and of the ``scipy``
namespace): nothing but the check ever sees it, and the first ``import scipy.linalg`` afterwards,
or of any of its submodules (``import scipy.linalg.lapack`` first works as in a plain process),
runs SciPy's real ``__init__``; an import hook then sets the two Cython modules, which stay
imported, as attributes of the real package, as a plain import of them would have. And it imports
Numba's cffi module while ``import cffi`` fails (a ``None`` entry in ``sys.modules``, Python's
documented way to block an import), so Numba records cffi as unavailable, as on a machine without
it; the entry is removed at once, so other code can still import cffi. Numba keeps its BLAS and
LAPACK support; the kernels are the same compiled code from the same cache, so the numbers do not
change (`tests/test_startup.py`). Each part is skipped when what it avoids is already loaded.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType


def quick_start() -> None:
    """Set up Numba's registries for this process without SciPy's linalg start-up and cffi."""
    numba_blas_check_without("scipy.linalg")
    numba_without_cffi()


def numba_blas_check_without(name: str) -> None:
    """Make Numba's BLAS check (importing ``numba.np.arraymath``) while package ``name`` stands
    in ``sys.modules`` without having run its ``__init__``; then take the stand-in out, so the
    next import of ``name`` or of a submodule runs the real one (see the module doc)."""
    if "numba.np.arraymath" in sys.modules:
        return
    stand_in = bare_package(name)
    if stand_in is None:
        return
    parent, _, child = name.rpartition(".")
    try:
        import numba.np.arraymath  # noqa: F401  (its import is the check)
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        if parent and sys.modules[parent].__dict__.get(child) is stand_in:
            delattr(sys.modules[parent], child)
        kept = [k for k, v in vars(stand_in).items() if isinstance(v, ModuleType)]
        if kept:
            sys.meta_path.insert(0, _Reattach(name, kept))


def bare_package(name: str) -> ModuleType | None:
    """Register package ``name`` (its parents imported as usual) without running its
    ``__init__``; its submodules import as usual. Returns the module, None when it is already
    imported or not a regular installed package (then nothing is done)."""
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
    sys.modules[name] = module
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


class _Reattach:
    """Import hook for one package: when it is next imported (for real), set the submodules
    ``children``, imported under the stand-in, as its attributes after its ``__init__`` has run
    (a plain import of them would have set them). Removes itself at its first use."""

    def __init__(self, name: str, children: list[str]) -> None:
        self.name, self.children = name, children

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenAttach(spec.loader, self.name, self.children)
        return spec


class _ThenAttach:
    """A loader that runs ``loader``, then sets the already imported ``children`` on the module
    and gives the module its own loader back."""

    def __init__(self, loader, name: str, children: list[str]) -> None:
        self.loader, self.name, self.children = loader, name, children

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        for child in self.children:
            sub = sys.modules.get(f"{self.name}.{child}")
            if sub is not None and child not in vars(module):
                setattr(module, child, sub)

    def __getattr__(self, attr: str):
        return getattr(self.loader, attr)


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
