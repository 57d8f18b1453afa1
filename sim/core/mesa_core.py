"""Mesa's core classes without the rest of Mesa's start-up: ``from ..core.mesa_core import mesa``.

``import mesa`` runs ``mesa/__init__.py``, which imports every part of Mesa: the batch runner (with
tqdm's asyncio support and multiprocessing), the grid spaces (networkx), the experimental
continuous space (scipy.spatial) and the discrete spaces. The model uses three classes,
``mesa.Model``, ``mesa.Agent`` and ``mesa.DataCollector``; the rest cost about 0.5 s of every
command's start-up (``python -X importtime -c "import mesa"``: 1.2 s with pandas, of which networkx
0.27 s, scipy.spatial 0.36 s, the batch runner 0.13 s on this project's 2-core machine).

`load` registers the ``mesa`` package in ``sys.modules`` without running its ``__init__``, imports
the three modules that hold those classes (``mesa.agent``, ``mesa.model``,
``mesa.datacollection``) and binds the classes on the package. The first time anything else is
asked of the package (``mesa.batch_run``, ``mesa.space``, ``mesa.__version__``,
``from mesa import batch_run``) the package's own ``__init__`` runs in place, so from then on
``mesa`` is exactly what ``import mesa`` gives. The classes are Mesa's own (the same objects either
way), so a model built after a plain ``import mesa`` is the same model. When ``mesa`` is already
imported, `load` returns it as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

CORE = {"Agent": "mesa.agent", "Model": "mesa.model", "DataCollector": "mesa.datacollection"}


def load() -> ModuleType:
    """The ``mesa`` package with ``Agent``, ``Model`` and ``DataCollector`` (the rest on demand)."""
    module = sys.modules.get("mesa")
    if module is not None:
        return module
    spec = importlib.util.find_spec("mesa")
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return importlib.import_module("mesa")  # not a regular package: import it whole
    module = importlib.util.module_from_spec(spec)
    sys.modules["mesa"] = module
    try:
        for name, where in CORE.items():
            setattr(module, name, getattr(importlib.import_module(where), name))
    except BaseException:
        sys.modules.pop("mesa", None)
        raise

    def __getattr__(name: str):
        """Anything but the core classes: run Mesa's own ``__init__`` (once), then look again."""
        if name.startswith("__") and name not in ("__version__", "__all__"):
            raise AttributeError(name)  # copy, pickle and inspect probe dunders: no full load
        del module.__getattr__
        spec.loader.exec_module(module)
        return getattr(module, name)

    module.__getattr__ = __getattr__
    return module


mesa = load()
