"""Results on disk: atomic writes and provenance.

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, so a killed run leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

_UMASK = os.umask(0)
os.umask(_UMASK)

PACKAGES = ("omnitrust", "mesa", "numpy", "numba", "pandas", "pyarrow", "pydantic", "scipy")


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
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in model_sources():
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide the numbers."""
    out = {"python": platform.python_version(), "model_fingerprint": model_fingerprint()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def command_line(argv: list[str] | None = None) -> str:
    """The command as a user types it: ``omnitrust run ...`` whether it was started as the
    ``omnitrust`` script or as ``python -m sim`` (whose argv[0] is the path of
    ``sim/__main__.py``, a detail of one machine's checkout); other programs keep argv[0]."""
    argv = list(sys.argv if argv is None else argv)
    if argv:
        first = Path(argv[0])
        if first.name == "omnitrust" or (
            first.name == "__main__.py" and first.parent.name == "sim"
        ):
            argv[0] = "omnitrust"
    return " ".join(argv)


def provenance(**fields: Any) -> dict[str, Any]:
    """A provenance record: the given fields plus versions, command line and time."""
    return {
        **fields,
        "versions": versions(),
        "command": command_line(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
        },
    }


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return _atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_json(path: Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return write_bytes(
        path, (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode()
    )


def write_parquet(path: Path, frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> Path:
    """Write ``frame`` as Parquet atomically, with ``meta`` (JSON) in the file's key-value metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if meta is not None:
        existing = table.schema.metadata or {}
        table = table.replace_schema_metadata(
            {**existing, b"omnitrust": json.dumps(meta, default=str).encode()}
        )
    return _atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write ``frame`` as CSV atomically."""
    return write_bytes(path, frame.to_csv(index=False).encode())


def read_parquet_meta(path: Path) -> dict[str, Any]:
    """The omnitrust provenance stored in a Parquet file written by `write_parquet`."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(b"omnitrust")
    return json.loads(raw) if raw else {}
