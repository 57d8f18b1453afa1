"""Spin the warm-up up once, branch every scenario that shares it (docs/ODD.md, "Policy changes at a
known moment"; docs/PERFORMANCE.md).

The warm-up (``simulation.warmup_days`` days before day 0) depends on the scenario only through
what it runs under: every section, the brands with the policies they follow before
``policy_from_day`` (`Scenario.before_change`), and the replication's seed. It does not depend on
the scenario's name, its horizon (``simulation.days``), its scheduled events (they happen from day
0 on), its replication count, or the policies that take effect at ``policy_from_day``. Scenarios
that agree on the rest share their warm-up: `warmup_key` hashes exactly that (with the model code,
`sim.core.storage.model_fingerprint`, and the versions of NumPy and Numba), `capture` saves the
state of a model at day 0 (`WarmState`) and ``TrustModel(..., warm_start=state)`` continues from a
copy of it, giving the numbers of a model that ran its own warm-up, to the last bit
(tests/test_warmup_branching.py).

`WarmupCache` keeps states in memory (this process: repeated `sim.compare` calls in a notebook
reuse them) and on disk: ``<results folder>/warmups/<key>.pkl`` for `omnitrust run`, `compare`
and `sweep` (a resumed or repeated command skips its warm-ups), else the user cache
(``$OMNITRUST_CACHE_DIR``, else ``$XDG_CACHE_HOME/omnitrust``, else ``~/.cache/omnitrust``).
Each folder holds at most ``OMNITRUST_CACHE_MAX_MB`` (default 2048) megabytes of states, the
oldest files go first. Files are pickles
written atomically by this code; ``OMNITRUST_WARMUP_CACHE=off`` turns the disk caches off and
``OMNITRUST_BRANCH=off`` turns branching off altogether (each run spins its own warm-up up).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.storage import model_fingerprint, write_bytes
from ..scenario import Scenario

if TYPE_CHECKING:
    from .market import TrustModel

FORMAT = 1
"""Version of the saved state's layout (part of the key: a new layout never reads an old file)."""

# What an `Incidents` object was built from (the scenario and the lever table); everything else in
# it is state and travels with the warm-up. `events` is the one input a shared warm-up may differ
# in, so the branch keeps its own.
INCIDENTS_CONFIG = frozenset(
    {
        "seed",
        "warmup",
        "inc",
        "world",
        "n",
        "brands",
        "events",
        "brand_index",
        "security_cost_per_day",
    }
)
MODEL_ARRAYS = ("_counts", "_purchases", "_revenue", "_stocks", "_trust_hist", "_market")
BRAND_STATE = ("records_held", "subscribers", "trust", "consent_rate", "revenue", "net_value")
BRAND_STATE_ALL = (*BRAND_STATE, "breaches")

_OFF = {"0", "off", "no", "false"}


def branching_enabled() -> bool:
    """False when ``OMNITRUST_BRANCH`` is off/0/no/false: every run spins its own warm-up up."""
    return os.environ.get("OMNITRUST_BRANCH", "on").strip().lower() not in _OFF


def disk_cache_enabled() -> bool:
    """False when ``OMNITRUST_WARMUP_CACHE`` is off/0/no/false (memory only)."""
    return os.environ.get("OMNITRUST_WARMUP_CACHE", "on").strip().lower() not in _OFF


def user_cache_dir() -> Path:
    """Where warm-ups of runs without a results folder are kept (see the module docstring)."""
    if os.environ.get("OMNITRUST_CACHE_DIR"):
        return Path(os.environ["OMNITRUST_CACHE_DIR"]) / "warmups"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omnitrust" / "warmups"


def _versions() -> dict[str, str]:
    out = {}
    for name in ("numpy", "numba"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def warmup_scenario(scenario: Scenario) -> dict[str, Any]:
    """What the warm-up of ``scenario`` depends on, as JSON data (see the module docstring)."""
    data = scenario.before_change().model_dump(mode="json")
    for key in ("name", "description", "events", "policy_from_day", "policy_before"):
        data.pop(key, None)
    data["simulation"].pop("days", None)
    data["simulation"].pop("replications", None)
    return data


def warmup_key(scenario: Scenario, seed: int) -> str:
    """Hash of everything the warm-up of ``scenario`` with replication seed ``seed`` depends on."""
    blob = json.dumps(
        {
            "format": FORMAT,
            "scenario": warmup_scenario(scenario),
            "seed": int(seed),
            "model_fingerprint": model_fingerprint(),
            "versions": _versions(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class WarmState:
    """A model's state at the end of its warm-up (day 0, before anything is recorded)."""

    key: str
    population: dict[str, np.ndarray]
    arrays: dict[str, np.ndarray]
    daily_revenue: np.ndarray  # the warm-up's rows of `_daily_revenue`
    brands: list[dict[str, Any]]
    incidents: dict[str, Any]
    mesa_rng: Any
    mesa_random: Any

    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self.population.values())) + int(
            sum(a.nbytes for a in self.arrays.values()) + self.daily_revenue.nbytes
        )


def capture(model: TrustModel, key: str | None = None) -> WarmState:
    """The state of ``model`` at day 0 (right after its warm-up), as independent copies."""
    if model.day != 0 or model.steps != 0:
        raise ValueError("a warm-up state is taken at day 0, before the first step")
    return WarmState(
        key=key or warmup_key(model.scenario, model.seed_value),
        population={k: v.copy() for k, v in model.population._asdict().items()},
        arrays={k: getattr(model, k).copy() for k in MODEL_ARRAYS},
        daily_revenue=model._daily_revenue[: model.warmup].copy(),
        brands=[{a: getattr(b, a) for a in BRAND_STATE_ALL} for b in model.brands],
        incidents=copy.deepcopy(
            {k: v for k, v in vars(model.incidents).items() if k not in INCIDENTS_CONFIG}
        ),
        mesa_rng=model.rng.bit_generator.state,
        mesa_random=model.random.getstate(),
    )


def restore(model: TrustModel, state: WarmState) -> None:
    """Put a copy of ``state`` into a freshly built ``model`` (warm-up not run) at day 0; the
    model has already built its population from a copy of ``state.population``."""
    for name, value in state.arrays.items():
        np.copyto(getattr(model, name), value)
    model._daily_revenue[: model.warmup] = state.daily_revenue
    for brand, saved in zip(model.brands, state.brands, strict=True):
        for attr, value in saved.items():
            setattr(brand, attr, value)
    for name, value in copy.deepcopy(state.incidents).items():
        setattr(model.incidents, name, value)
    model.rng.bit_generator.state = state.mesa_rng
    model.random.setstate(state.mesa_random)
    model.day = 0


class WarmupCache:
    """Warm-up states by key: in memory (LRU, at most ``max_bytes``) and in disk folders.

    ``folder`` is where new states are written (``None``: memory only); ``also`` are folders that
    are only read. Disk writes are atomic; a file that cannot be read is ignored (and redone).
    """

    def __init__(self, max_bytes: int = 512 * 2**20):
        self.max_bytes = int(max_bytes)
        self._memory: OrderedDict[str, WarmState] = OrderedDict()
        self.hits = {"memory": 0, "disk": 0}
        self._writes: dict[str, int] = {}

    def get(self, key: str, folders: list[Path] = ()) -> WarmState | None:
        state = self._memory.get(key)
        if state is not None:
            self._memory.move_to_end(key)
            self.hits["memory"] += 1
            return state
        if not disk_cache_enabled():
            return None
        for folder in folders:
            path = Path(folder) / f"{key}.pkl"
            if not path.is_file():
                continue
            try:
                with path.open("rb") as fh:
                    state = pickle.load(fh)
            except Exception:  # noqa: BLE001 - a damaged cache file: spin the warm-up up again
                continue
            if isinstance(state, WarmState) and state.key == key:
                self.hits["disk"] += 1
                self.put(state)
                return state
        return None

    def put(self, state: WarmState, folder: Path | None = None) -> None:
        """Keep ``state`` in memory and, when ``folder`` is given, write it there."""
        self._memory[state.key] = state
        self._memory.move_to_end(state.key)
        while len(self._memory) > 1 and sum(s.nbytes() for s in self._memory.values()) > (
            self.max_bytes
        ):
            self._memory.popitem(last=False)
        if folder is not None and disk_cache_enabled():
            path = Path(folder) / f"{state.key}.pkl"
            try:
                write_bytes(path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # a read-only or full cache folder only costs time
                return
            self._writes[str(folder)] = n = self._writes.get(str(folder), 0) + 1
            if n % 16 == 1:  # listing the folder costs; every 16th write is often enough
                prune(Path(folder))

    def clear(self) -> None:
        self._memory.clear()


def prune(folder: Path) -> None:
    """Delete the oldest state files of ``folder`` until it holds at most
    ``OMNITRUST_CACHE_MAX_MB`` (default 2048) megabytes.

    Another process may prune the same folder (the user cache) at the same time: a file that
    is gone or cannot be removed is skipped, never an error (a finished run must not fail here).
    """
    try:
        limit = float(os.environ.get("OMNITRUST_CACHE_MAX_MB", "2048")) * 2**20
    except ValueError:
        limit = 2048 * 2**20
    files: list[tuple[float, int, str]] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.endswith(".pkl"):
                    continue
                try:
                    info = entry.stat()
                except OSError:  # deleted since the listing
                    continue
                files.append((info.st_mtime, info.st_size, entry.path))
    except OSError:
        return
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= limit:
            break
        total -= size
        try:
            os.unlink(path)
        except OSError:
            continue


CACHE = WarmupCache()
"""The process's warm-up cache (what `sim.run`, `sim.compare` and `sim.sweep` share)."""
