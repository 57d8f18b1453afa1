"""Results on disk: atomic writes and provenance.

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, so a killed run leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

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

from .fingerprint import (  # noqa: F401  (re-exported: storage was their home)
    MODEL_MODULES,
    MODEL_PACKAGES,
    model_fingerprint,
    model_sources,
)

_UMASK = os.umask(0)
os.umask(_UMASK)

PACKAGES = ("omnitrust", "mesa", "numpy", "numba", "pandas", "pyarrow", "pydantic", "scipy")
RESEARCH_PACKAGES = ("optuna", "pyabc", "SALib")
"""Packages that decide a calibration's or a sensitivity study's numbers (Optuna's proposals,
pyabc's ABC-SMC, SALib's samples and bootstrap): recorded with ``versions(research=True)``."""


def versions(research: bool = False) -> dict[str, str]:
    """Versions of Python and of the packages that decide the numbers (``research``: also those
    of a calibration or sensitivity study, `RESEARCH_PACKAGES`)."""
    out = {"python": platform.python_version(), "model_fingerprint": model_fingerprint()}
    for name in PACKAGES + (RESEARCH_PACKAGES if research else ()):
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
    """A provenance record: the given fields plus versions, command line and time. A calibration
    or sensitivity record (``kind``) also gives the versions of the research packages."""
    return {
        **fields,
        "versions": versions(research=fields.get("kind") in ("calibration", "sensitivity")),
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


def read_json(path: Path, what: str) -> Any:
    """The JSON document at ``path`` (``what`` it is, for the message: "the manifest"); a file
    that cannot be read or parsed is a `UserError` naming it, not a traceback (a results folder
    is the user's: a file may be truncated by a full disk or edited by hand)."""
    from .errors import UserError

    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:  # (UnicodeDecodeError and JSONDecodeError included)
        raise UserError(f"{path}: cannot read {what} ({exc})") from None


def read_parquet_meta(path: Path) -> dict[str, Any]:
    """The omnitrust provenance stored in a Parquet file written by `write_parquet`."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(b"omnitrust")
    return json.loads(raw) if raw else {}
