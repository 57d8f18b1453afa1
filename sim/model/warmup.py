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
reuse them) and on disk, as ``<key>.npz`` (`state_path`): `omnitrust run`, `compare` and `sweep`
look in the results folder (``<results folder>/warmups/``) first, then in the user cache
(``$OMNITRUST_CACHE_DIR/warmups``, else ``$XDG_CACHE_HOME/omnitrust/warmups``, else
``~/.cache/omnitrust/warmups``), and write a state they spin up to both: a resumed or repeated
command, or the same command into a fresh folder, skips its warm-ups. A state taken from the user
cache (or memory) is also written to the results folder, so the folder holds every warm-up its
runs branched from and resumes without the user cache. `sim.run` without a folder uses the user
cache alone. Each folder holds at most ``OMNITRUST_CACHE_MAX_MB`` (default 2048) megabytes of
states, the oldest files go first.

A file is a NumPy ``.npz`` archive (`dump_state`): the arrays, plus the brands' and incidents'
state and the Mesa random generators' states as tagged JSON (member ``__meta__``; floats as hex,
Python's 128-bit PCG64 state as a JSON integer) with a SHA-256 digest of everything. Loading
one never executes code: no pickle is opened, and the member list is checked before any data is
read (`load_state`: expected names, stored uncompressed, no more bytes than the file). Before a
state reaches a model every array is held to the dtype and shape the scenario implies, index
arrays to their ranges (`sim.model.market.check_warm_state`), so it cannot make the kernels read or
write out of bounds. A damaged, truncated or ill-fitting file is ignored and the warm-up spun up
again. The digest is not keyed: it detects damage, not tampering; someone who edits a file and
recomputes the digest can change the numbers a resumed run continues from, so resume only from
folders whose numbers you trust. Files are written atomically; `prune` removes the temporary
files of killed writers. Pickles of FORMAT 1 (``<key>.pkl``) are never opened; `prune` counts them as the
oldest. ``OMNITRUST_WARMUP_CACHE=off`` turns the disk caches off and ``OMNITRUST_BRANCH=off``
turns branching off altogether (each run spins its own warm-up up).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import math
import os
import re
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.storage import model_fingerprint, write_bytes
from ..mechanisms.incidents import Breach
from ..scenario import Scenario
from ..state.population import Population

if TYPE_CHECKING:
    from .market import TrustModel

FORMAT = 2
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
    targets = {name: getattr(model, name) for name in state.arrays}
    targets["daily_revenue"] = model._daily_revenue[: model.warmup]
    for name, value in {**state.arrays, "daily_revenue": state.daily_revenue}.items():
        # no broadcasting: the model's checks (`check_warm_state`) ran, this is the last guard
        if value.dtype != targets[name].dtype or value.shape != targets[name].shape:
            raise ValueError(f"warm-up state array {name} does not fit the model")
    for name, value in state.arrays.items():
        targets[name][...] = value
    targets["daily_revenue"][...] = state.daily_revenue
    for brand, saved in zip(model.brands, state.brands, strict=True):
        for attr, value in saved.items():
            setattr(brand, attr, value)
    for name, value in copy.deepcopy(state.incidents).items():
        setattr(model.incidents, name, value)
    model.rng.bit_generator.state = state.mesa_rng
    model.random.setstate(state.mesa_random)
    model.day = 0


SUFFIX = ".npz"
"""Saved states are ``<key>.npz``; files of other names (``.pkl`` of FORMAT 1) are never opened."""

_META = "__meta__"  # the archive member holding the JSON metadata (as uint8 bytes)
_DATACLASSES = {"Breach": Breach}  # the only objects a state file may name


def state_path(folder: str | Path, key: str) -> Path:
    """The file of the state ``key`` in ``folder``."""
    return Path(folder) / f"{key}{SUFFIX}"


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON data; NumPy arrays go to ``arrays`` (the archive) by name.

    Every container is tagged so that decoding gives back the same types: a tuple stays a
    tuple, a dict keeps non-string keys, a NumPy scalar keeps its dtype and bits.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value  # JSON integers have no size limit (the PCG64 state is 128 bits)
    if type(value) is float:
        return {"float": value.hex()}  # exact, and NaN/inf are no JSON numbers
    if isinstance(value, np.ndarray):
        name = f"meta.{len(arrays)}"
        arrays[name] = value
        return {"array": name}
    if isinstance(value, np.generic):
        return {"scalar": value.dtype.str, "hex": value.tobytes().hex()}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return {"list": [_encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    name = type(value).__name__
    if _DATACLASSES.get(name) is type(value):
        return {
            "dataclass": name,
            "fields": {f.name: _encode(getattr(value, f.name), arrays) for f in fields(value)},
        }
    raise TypeError(f"a warm-up state cannot hold a {type(value).__qualname__}")


def _decode(data: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """The inverse of `_encode`; anything it would not have written is a `ValueError`."""
    if data is None or isinstance(data, (bool, str)) or type(data) is int:
        return data
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError(f"unexpected value in a warm-up state: {data!r:.80}")
    if "float" in data and len(data) == 1:
        return float.fromhex(data["float"])
    if "array" in data and len(data) == 1:
        return arrays[data["array"]].copy()
    if "scalar" in data and "hex" in data:
        dtype = np.dtype(data["scalar"])
        if dtype.kind not in "biufc":
            raise ValueError(f"unexpected scalar type {dtype} in a warm-up state")
        return np.frombuffer(bytes.fromhex(data["hex"]), dtype=dtype)[0]
    if "tuple" in data and len(data) == 1:
        return tuple(_decode(v, arrays) for v in data["tuple"])
    if "list" in data and len(data) == 1:
        return [_decode(v, arrays) for v in data["list"]]
    if "dict" in data and len(data) == 1:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in data["dict"]}
    if "dataclass" in data and "fields" in data:
        cls = _DATACLASSES[data["dataclass"]]
        return cls(**{k: _decode(v, arrays) for k, v in data["fields"].items()})
    raise ValueError(f"unexpected value in a warm-up state: {data!r:.80}")


def _digest(meta: bytes, arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of the metadata and of every array (name, dtype, shape, bytes)."""
    h = hashlib.sha256(meta)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def dump_state(state: WarmState) -> bytes:
    """``state`` as the bytes of a NumPy ``.npz`` archive: its arrays, and the rest as JSON
    (member ``__meta__``) with a SHA-256 digest of everything. No pickles (`load_state`)."""
    arrays: dict[str, np.ndarray] = {}
    for name, a in state.population.items():
        arrays[f"population.{name}"] = a
    for name, a in state.arrays.items():
        arrays[f"arrays.{name}"] = a
    arrays["daily_revenue"] = state.daily_revenue
    body = {
        "format": FORMAT,
        "key": state.key,
        "population": list(state.population),
        "arrays": list(state.arrays),
        "brands": _encode(state.brands, arrays),
        "incidents": _encode(state.incidents, arrays),
        "mesa_rng": _encode(state.mesa_rng, arrays),
        "mesa_random": _encode(state.mesa_random, arrays),
    }
    for name, a in arrays.items():
        if a.dtype.hasobject:
            raise TypeError(f"a warm-up state cannot hold the object array {name}")
    meta = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    envelope = json.dumps({"body": body, "digest": _digest(meta, arrays)}).encode()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{_META: np.frombuffer(envelope, dtype=np.uint8)})
    return buffer.getvalue()


_MEMBER = re.compile(r"(population\.\w+|arrays\.\w+|daily_revenue|__meta__|meta\.\d+)\.npy")


def _read_archive(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` archive ``path``, read without pickle and without inflating
    anything: the member list is checked before any data is read (only the names `dump_state`
    writes, only stored members, as `np.savez` writes them, together no larger than the file),
    and each array's header must announce exactly the bytes its member holds. A compressed
    member (a few hundred kilobytes may inflate to gigabytes) is refused unread."""
    size = os.path.getsize(path)
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        names = [m.filename for m in members]
        if len(set(names)) != len(names) or not all(_MEMBER.fullmatch(n) for n in names):
            raise ValueError(f"{path}: not the members of a warm-up state")
        if any(m.compress_type != zipfile.ZIP_STORED or m.compress_size != m.file_size
               for m in members):  # fmt: skip
            raise ValueError(f"{path}: a compressed member (a state is stored uncompressed)")
        if sum(m.file_size for m in members) > size:
            raise ValueError(f"{path}: the members claim more bytes than the file holds")
        arrays = {}
        for member in members:
            with archive.open(member) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"{path}: {member.filename} is of .npy version {version}")
                if dtype.hasobject:
                    raise ValueError(f"{path}: {member.filename} holds objects")
                data = f.read(member.file_size)
            if len(data) != math.prod(shape) * dtype.itemsize:
                raise ValueError(
                    f"{path}: {member.filename} does not hold the bytes its header says"
                )
            array = np.frombuffer(bytearray(data), dtype=dtype)
            array = array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
            arrays[member.filename.removesuffix(".npy")] = array
    return arrays


def load_state(path: str | Path, key: str) -> WarmState:
    """The state saved in ``path`` by `dump_state`, read without pickle and without inflating
    anything (`_read_archive`: a file from elsewhere cannot run code or exhaust memory). Raises
    if the file is damaged (the digest differs), is of another format or holds another key.
    The digest is not keyed: it detects damage, not an edit whose author recomputed it. Whether
    the arrays fit the scenario (dtypes, shapes, index ranges) is checked before they reach a
    model (`sim.model.market.check_warm_state`)."""
    arrays = _read_archive(path)
    envelope = json.loads(arrays.pop(_META).tobytes())
    body = envelope["body"]
    meta = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    if envelope["digest"] != _digest(meta, arrays):
        raise ValueError(f"{path}: the digest does not match (damaged or edited)")
    if body["format"] != FORMAT or body["key"] != key:
        raise ValueError(f"{path}: not the state {key} of format {FORMAT}")
    for name, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{path}: array {name} has dtype {a.dtype}")
    # what `restore` sets must be what `capture` takes: nothing else of the model is touched
    if body["population"] != list(Population._fields) or body["arrays"] != list(MODEL_ARRAYS):
        raise ValueError(f"{path}: not the arrays of a model's state")
    brands = _decode(body["brands"], arrays)
    incidents = _decode(body["incidents"], arrays)
    if not all(isinstance(b, dict) and set(b) <= set(BRAND_STATE_ALL) for b in brands) or not all(
        isinstance(k, str) and not k.startswith("__") and k not in INCIDENTS_CONFIG
        for k in incidents
    ):
        raise ValueError(f"{path}: not the brands' and incidents' state")
    return WarmState(
        key=key,
        population={name: arrays[f"population.{name}"] for name in body["population"]},
        arrays={name: arrays[f"arrays.{name}"] for name in body["arrays"]},
        daily_revenue=arrays["daily_revenue"],
        brands=brands,
        incidents=incidents,
        mesa_rng=_decode(body["mesa_rng"], arrays),
        mesa_random=_decode(body["mesa_random"], arrays),
    )


class WarmupCache:
    """Warm-up states by key: in memory (LRU, at most ``max_bytes``) and in disk folders.

    `get` reads the first folder that holds the key (after memory); `put` writes to the folders it
    is given. Disk writes are atomic; a file that cannot be read, or that does not check out
    (`load_state`), is ignored (and the warm-up is spun up again).
    """

    def __init__(self, max_bytes: int = 512 * 2**20):
        self.max_bytes = int(max_bytes)
        self._memory: OrderedDict[str, WarmState] = OrderedDict()
        self.hits = {"memory": 0, "disk": 0}
        self._writes: dict[str, int] = {}

    def get(
        self,
        key: str,
        folders: Iterable[Path] = (),
        check: Callable[[WarmState], None] | None = None,
    ) -> WarmState | None:
        """The state ``key`` from memory or the first folder that holds a usable file of it;
        ``check`` (e.g. `sim.model.market.check_warm_state` of the scenario) raises for a state
        read from disk that does not fit: that file is ignored like a damaged one."""
        state = self._memory.get(key)
        if state is not None:
            self._memory.move_to_end(key)
            self.hits["memory"] += 1
            return state
        if not disk_cache_enabled():
            return None
        for folder in folders:
            path = state_path(folder, key)
            if not path.is_file():
                continue
            try:
                state = load_state(path, key)
                if check is not None:
                    check(state)
            except Exception:  # noqa: BLE001 - a damaged cache file: spin the warm-up up again
                continue
            self.hits["disk"] += 1
            self.put(state)
            return state
        return None

    def put(
        self, state: WarmState, folder: Path | Iterable[Path] | None = None, *, missing_only=False
    ) -> None:
        """Keep ``state`` in memory and, when ``folder`` (one or several) is given, write it
        there; ``missing_only``: only into the folders that do not hold it yet."""
        self._memory[state.key] = state
        self._memory.move_to_end(state.key)
        while len(self._memory) > 1 and sum(s.nbytes() for s in self._memory.values()) > (
            self.max_bytes
        ):
            self._memory.popitem(last=False)
        if folder is None or not disk_cache_enabled():
            return
        folders = [folder] if isinstance(folder, (str, Path)) else list(folder)
        data = None
        for target in dict.fromkeys(Path(f) for f in folders):
            path = state_path(target, state.key)
            if missing_only and path.is_file():
                continue
            if data is None:
                data = dump_state(state)
            try:
                write_bytes(path, data)
            except OSError:  # a read-only or full cache folder only costs time
                continue
            self._writes[str(target)] = n = self._writes.get(str(target), 0) + 1
            if n % 16 == 1:  # listing the folder costs; every 16th write is often enough
                prune(target)

    def clear(self) -> None:
        self._memory.clear()


STALE_TMP_SECONDS = 3600.0
"""A temporary file of a state being written that is older than this (an hour: writing a state
takes seconds) was left by a killed writer; `prune` deletes it."""


def prune(folder: Path) -> None:
    """Delete the oldest state files of ``folder`` until it holds at most
    ``OMNITRUST_CACHE_MAX_MB`` (default 2048) megabytes.

    Another process may prune the same folder (the user cache) at the same time: a file that
    is gone or cannot be removed is skipped, never an error (a finished run must not fail here).
    The temporary files of writes in progress (``.<key>.npz.*.tmp``, `write_bytes`) count
    towards the limit; those older than `STALE_TMP_SECONDS` were left by a writer that was
    killed and are deleted (a younger one may belong to a writer still at work).
    """
    try:
        limit = float(os.environ.get("OMNITRUST_CACHE_MAX_MB", "2048")) * 2**20
    except ValueError:
        limit = 2048 * 2**20
    files: list[tuple[float, int, str]] = []
    pending = 0  # bytes of writes in progress: counted, never deleted here
    now = time.time()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                temporary = name.startswith(".") and name.endswith(".tmp") and SUFFIX + "." in name
                if not (temporary or name.endswith((SUFFIX, ".pkl"))):  # .pkl: FORMAT 1
                    continue
                try:
                    info = entry.stat()
                except OSError:  # deleted since the listing
                    continue
                if not temporary:
                    files.append((info.st_mtime, info.st_size, entry.path))
                elif now - info.st_mtime > STALE_TMP_SECONDS:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                else:
                    pending += info.st_size
    except OSError:
        return
    total = pending + sum(size for _, size, _ in files)
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
