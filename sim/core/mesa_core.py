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

``mesa.model`` names its logger with ``mesa.mesa_logging.create_module_logger()``, which finds the
calling module through ``inspect.stack()``: that reads the source line of every frame on the stack
(the whole import chain) and scans ``sys.modules`` for each frame's file, ~0.045 s of CPU of the
run command's start-up (docs/PERFORMANCE.md, fourth round) for the name ``"mesa.model"``. While `load` imports the core modules the function is
replaced by one that takes the caller's module name from its frame (the same logger, registered
under the same name); Mesa's own function is put back as soon as they are imported. Likewise
``mesa.model`` decorates ``Model.__init__`` with ``mesa.mesa_logging.method_logger``, which names
the class through ``inspect.getouterframes(inspect.currentframe())[1][3]``: the same reading of
every frame's source and scan of ``sys.modules``, 0.05-0.09 s of the run command's start-up
(docs/PERFORMANCE.md, sixth round), for the name ``"Model"``. While `load` imports the core
modules ``mesa.mesa_logging`` sees an ``inspect`` whose ``getouterframes`` lists the frames without
their source lines (each frame's ``function`` is the same; ``code_context`` is None, as Python
gives for ``context=0``); its own ``inspect`` is put back afterwards.

`Agent` is the project's ``mesa.Agent``: the same class but for where it counts ``unique_id``.
Mesa (up to 3.3 at least) counts each model's agents in the class attribute
``mesa.Agent._ids``, a ``defaultdict`` keyed by the model itself (``Agent.__init__`` does
``self.unique_id = next(self._ids[model])``), so every model that ever made an agent stays
referenced by the class and is never collected, with its arrays (~6 MB per 50,000 consumers:
``python benchmarks/model_lifetime.py``) and its thread team (`sim.core.team`). `Agent._ids` is `MODEL_IDS`, the same counting keyed weakly;
Mesa's ``self._ids`` lookup finds it first, so the ids are Mesa's (1, 2, ... per model, one
sequence for all of a model's agents of these classes) and a dropped model is collected.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import itertools
import sys
import weakref
from collections.abc import Mapping
from contextlib import contextmanager
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
        with _quick_module_logger():
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


@contextmanager
def _quick_module_logger():
    """While the block runs, ``mesa.mesa_logging.create_module_logger()`` without a name takes the
    calling module's ``__name__`` from the caller's frame instead of ``inspect.stack()`` (see the
    module docstring); modules that imported it by name in the block get Mesa's function back."""
    try:
        logging_module = importlib.import_module("mesa.mesa_logging")
        original = logging_module.create_module_logger
    except (ImportError, AttributeError):  # a Mesa without it: nothing to speed up
        yield
        return

    def create_module_logger(name=None):
        if name is None:
            name = sys._getframe(1).f_globals["__name__"]
        return original(name)

    logging_module.create_module_logger = create_module_logger
    inspect_module = getattr(logging_module, "inspect", None)
    if isinstance(inspect_module, ModuleType):  # `method_logger` names the class from its caller
        quick = ModuleType(inspect_module.__name__, inspect_module.__doc__)
        quick.__dict__.update(vars(inspect_module))
        quick.getouterframes = _outer_frames
        logging_module.inspect = quick
    try:
        yield
    finally:
        logging_module.create_module_logger = original
        if isinstance(inspect_module, ModuleType):
            logging_module.inspect = inspect_module
        for where in CORE.values():
            imported = sys.modules.get(where)
            if getattr(imported, "create_module_logger", None) is create_module_logger:
                imported.create_module_logger = original


def _outer_frames(frame, context: int = 1) -> list[inspect.FrameInfo]:
    """``inspect.getouterframes(frame)`` without the source lines: each entry's frame, file name
    (the code's), line number and function are what ``inspect`` gives; ``code_context`` and
    ``index`` are None, as for ``context=0``. ``inspect`` looks up each frame's source file, which
    for a frame of the import machinery (``<frozen importlib._bootstrap>``) means trying every
    module in ``sys.modules``."""
    frames = []
    while frame is not None:
        frames.append(
            inspect.FrameInfo(
                frame, frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name, None, None
            )
        )
        frame = frame.f_back
    return frames


mesa = load()


class ModelIds(weakref.WeakKeyDictionary):
    """Each model's ``unique_id`` counter (``itertools.count(1)``, as Mesa's own), the model held
    weakly: what ``mesa.Agent._ids`` is, without keeping every model alive (see the module
    docstring). A model that already has a counter in Mesa's own ``_ids`` (an agent of a plain
    ``mesa.Agent`` class was made for it first) goes on with that one, so its ids stay unique; an
    agent of a plain ``mesa.Agent`` class made after ours would start again at 1 in Mesa's
    counter: a model's own agent classes should derive from `Agent`."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            pass
        mesas = getattr(mesa.Agent, "_ids", None)
        if isinstance(mesas, Mapping) and mesas is not self and model in mesas:
            counter = mesas[model]
        else:
            counter = itertools.count(1)
        self[model] = counter
        return counter


MODEL_IDS = ModelIds()
"""The ``unique_id`` counters of every model whose agents derive from `Agent`."""


class Agent(mesa.Agent):
    """``mesa.Agent`` whose ``unique_id`` counter does not keep its model alive: Mesa 3.3's
    ``Agent.__init__`` reads ``self._ids[model]``, which finds `MODEL_IDS` here (the ids are the
    same). A Mesa that counts elsewhere (Mesa's main branch assigns them in
    ``Model.register_agent`` since mesa/mesa#3180) never reads this attribute, and the class is plain ``mesa.Agent``;
    tests/test_lifetime.py fails if the installed Mesa keeps a dropped model alive otherwise."""

    _ids = MODEL_IDS
