"""The results folder of an experiment: one Parquet file per run, a summary per run, a manifest.

Layout of a results folder ``DIR``::

    DIR/manifest.json                      scenarios (hashes, seeds), design, executor, versions,
                                           command, status; written before the first run
    DIR/runs/<scenario>/s<seed>-r<k>.parquet       the daily tidy table of one run (replication k
                                           of a scenario with base seed <seed>); its Parquet
                                           metadata holds run_hash, seed and replication seed
    DIR/summaries/<scenario>/s<seed>-r<k>.parquet  per-run summary rows (brand x metric:
                                           last-30-day mean (all days if
                                           fewer), horizon total, final, minimum),
                                           derived from the run file (rebuilt if missing)
    DIR/*.csv, DIR/*.parquet, DIR/charts/*.png     the final tables and charts

Every file is written atomically (`sim.core.storage`). A run counts as done when its run file exists
and its stored ``run_hash`` and ``replication_seed`` match the run asked for, so rerunning the same
command after a kill resumes with only the missing runs; changing a scenario changes its hash and
its runs are redone.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from ..analysis.outcomes import summarise_run
from ..core.storage import model_fingerprint, read_parquet_meta, write_json, write_parquet
from ..core.streams import replication_seed
from ..scenario import Scenario

HEADLINE = ("trust", "revenue", "net_value", "consent_rate", "subscribers", "breach_cost")
"""The headline metrics of tables and forest plots."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name) or "_"


def run_hash(scenario: Scenario) -> str:
    """Hash of what decides one run's numbers: the scenario less its replication count, and the
    model code (`sim.core.storage.model_fingerprint`)."""
    data = scenario.model_dump(mode="json")
    data["simulation"]["replications"] = 1
    data["model_fingerprint"] = model_fingerprint()
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: replication ``replication`` of ``scenario`` with base ``seed``.

    ``role`` says why the run exists (``main``; ``independent``: the reference again with other
    seeds; ``no_incidents``: the counterfactual of a risk view); ``design`` holds a sweep's
    design values.
    """

    scenario: Scenario
    replication: int
    seed: int
    role: str = "main"
    design: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def run_id(self) -> str:
        return f"{_safe(self.name)}/s{self.seed}-r{self.replication:05d}"

    @cached_property
    def hash(self) -> str:
        return run_hash(self.scenario)

    @property
    def replication_seed(self) -> int:
        return replication_seed(self.seed, self.replication)

    @property
    def task(self) -> tuple[dict, int, int]:
        """The picklable task of `sim.runner.simulate_task`."""
        return (self.scenario.model_dump(mode="json"), self.replication, self.seed)

    def meta(self) -> dict[str, Any]:
        return {
            "run_hash": self.hash,
            "scenario": self.name,
            "replication": self.replication,
            "seed": self.seed,
            "replication_seed": self.replication_seed,
            "role": self.role,
            "design": self.design,
        }


def _series(path: Path, metric: str, scenario: str, replication: int) -> pd.DataFrame:
    table = pq.read_table(
        path,
        columns=["day", "brand", "value"],
        filters=[("metric", "==", metric), ("channel", "==", "all")],
    )
    df = table.to_pandas()
    df["brand"] = df["brand"].astype(str)
    df.insert(0, "replication", replication)
    df.insert(0, "scenario", scenario)
    return df


def read_series(
    root: str | Path, scenarios: list[str], seed: int, replications: int, metric: str
) -> pd.DataFrame:
    """Daily values of one metric of replications ``0..replications-1`` of each scenario with
    base ``seed``, read back from a results folder (as `ResultStore.series`)."""
    root = Path(root)
    return pd.concat(
        [
            _series(root / "runs" / _safe(name) / f"s{seed}-r{k:05d}.parquet", metric, name, k)
            for name in scenarios
            for k in range(replications)
        ],
        ignore_index=True,
    )


class ResultStore:
    """A results folder (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def run_path(self, spec: RunSpec) -> Path:
        return self.root / "runs" / f"{spec.run_id}.parquet"

    def summary_path(self, spec: RunSpec) -> Path:
        return self.root / "summaries" / f"{spec.run_id}.parquet"

    def is_done(self, spec: RunSpec) -> bool:
        """The run file exists and was written for this very run (hash and seed match)."""
        path = self.run_path(spec)
        if not path.exists():
            return False
        try:
            meta = read_parquet_meta(path)
        except Exception:  # noqa: BLE001 - unreadable file: redo the run
            return False
        return (
            meta.get("run_hash") == spec.hash
            and meta.get("replication_seed") == spec.replication_seed
        )

    def write_run(self, spec: RunSpec, ts: pd.DataFrame) -> None:
        """Store one finished run: its daily table, then its summary rows."""
        meta = spec.meta()
        write_parquet(self.run_path(spec), ts, meta)
        write_parquet(self.summary_path(spec), summarise_run(ts), meta)

    def summary(self, spec: RunSpec) -> pd.DataFrame:
        """The summary rows of a done run (rebuilt from the run file if missing or stale)."""
        path = self.summary_path(spec)
        ok = path.exists()
        if ok:
            try:
                meta = read_parquet_meta(path)
            except Exception:  # noqa: BLE001 - unreadable summary: rebuild it from the run file
                meta = {}
            ok = (
                meta.get("run_hash") == spec.hash
                and meta.get("replication_seed") == spec.replication_seed
            )
        if not ok:
            ts = pd.read_parquet(self.run_path(spec))
            write_parquet(path, summarise_run(ts), spec.meta())
        return pd.read_parquet(path)

    def summaries(self, specs: list[RunSpec]) -> pd.DataFrame:
        """One row per run, brand and metric, with the run's identity and design columns."""
        frames = []
        for spec in specs:
            df = self.summary(spec)
            df.insert(0, "seed", spec.seed)
            df.insert(0, "replication", spec.replication)
            df.insert(0, "scenario", spec.name)
            df.insert(0, "role", spec.role)
            for key, value in spec.design.items():
                df[key] = value
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def series(self, specs: list[RunSpec], metric: str) -> pd.DataFrame:
        """Daily values of one metric (channel ``all``) of the given runs, read column-wise."""
        return pd.concat(
            [_series(self.run_path(s), metric, s.name, s.replication) for s in specs],
            ignore_index=True,
        )

    def count_done(self, specs: list[RunSpec]) -> int:
        return sum(self.is_done(s) for s in specs)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json(self.root / "manifest.json", manifest)

    def read_manifest(self) -> dict[str, Any]:
        path = self.root / "manifest.json"
        return json.loads(path.read_text()) if path.exists() else {}
