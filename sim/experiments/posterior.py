"""Parameter uncertainty in experiments: each replication draws its parameters from a posterior.

``compare(..., posterior="results/cal/posterior.parquet")`` (and ``sweep``) give replication k of
every scenario the parameter set ``draw_index(seed, k)`` of the posterior (written by
``omnitrust calibrate``: one column per dotted scenario path, one row per draw). The draw depends
only on the base seed and k, so scenarios stay paired (replication k of A and of B share both their
random numbers and their parameters) and the numbers do not depend on the executor. Intervals
across replications then hold what we do not know about the parameters as well as Monte Carlo
noise, and `verdicts` says whether a difference keeps its sign across plausible parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import UserError
from ..core.streams import replication_seed
from ..scenario import Scenario
from .design import set_path

HOLDS_SHARE = 0.95
"""A verdict holds across plausible parameters when at least this share of the draws agree."""
MIN_DRAWS = 20
"""...and there are at least this many draws (replications): the fewest for which 95% agreement
still allows one draw to disagree; with 2 draws, 100% agreement says next to nothing."""


def holds(share: float, draws: int) -> bool:
    """Whether a verdict holds across plausible parameters: `HOLDS_SHARE` of at least
    `MIN_DRAWS` draws agree."""
    return share >= HOLDS_SHARE and draws >= MIN_DRAWS


def holds_words(share: float, draws: int) -> str:
    """How the printed verdicts say `holds`."""
    if draws < MIN_DRAWS:
        return f"too few draws to tell (needs at least {MIN_DRAWS} replications)"
    if holds(share, draws):
        return "holds across plausible parameters"
    return "does NOT hold across plausible parameters"


def posterior_caveat(path: str | Path) -> str | None:
    """A warning when the posterior's own calibration says its draws do not fit the evidence:
    the ``manifest.json`` next to it (``omnitrust calibrate``'s) gives a final ABC tolerance
    above 1, i.e. its accepted particles miss the targets by more than their half bands on
    average (distances are in units of a target's scale, docs/CALIBRATION.md). None when the
    manifest is absent or the tolerance is within 1."""
    import json

    try:
        m = json.loads(Path(path).with_name("manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or m.get("kind") != "calibration":
        return None
    eps = (m.get("abc") or {}).get("final_epsilon")
    if not isinstance(eps, int | float) or eps <= 1.0:
        return None
    return (
        f"caution: this posterior's final ABC tolerance is {eps:.3g} (above 1: its draws miss "
        "the calibration targets by more than their bands), so its draws are a spread of "
        "parameters, not parameters the evidence supports; see docs/CALIBRATION.md"
    )


class Posterior:
    """Posterior draws read from a Parquet file: ``table`` (one column per scenario path)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(
                f"--posterior = {self.path}: no such file (give the posterior.parquet written "
                "by `omnitrust calibrate`)"
            )
        try:
            table = pd.read_parquet(self.path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
            raise UserError(f"--posterior = {self.path}: not a Parquet table ({exc})") from None
        table = table.drop(columns=[c for c in ("draw", "weight") if c in table.columns])
        bad = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
        if table.empty or not len(table.columns) or bad:
            raise UserError(
                f"--posterior = {self.path}: needs at least one row and only numeric columns "
                f"named by scenario paths (non-numeric: {', '.join(bad) or 'none'})"
            )
        self.table = table.reset_index(drop=True)

    @property
    def paths(self) -> list[str]:
        return list(self.table.columns)

    def draw_index(self, seed: int, replication: int) -> int:
        """The row used by replication ``replication`` of base seed ``seed``."""
        rng = np.random.default_rng([replication_seed(seed, replication) % 2**63, 0x706F7374])
        return int(rng.integers(len(self.table)))

    def draw(self, seed: int, replication: int) -> dict[str, float]:
        row = self.table.iloc[self.draw_index(seed, replication)]
        return {p: float(row[p]) for p in self.paths}

    def apply(self, scenario: Scenario, seed: int, replication: int) -> Scenario:
        """``scenario`` with replication ``replication``'s parameter draw set."""
        try:
            return with_parameters(scenario, self.draw(seed, replication))
        except (KeyError, ValueError) as exc:
            raise UserError(
                f"--posterior = {self.path}: cannot apply to scenario {scenario.name!r}: {exc}"
            ) from None

    def describe(self) -> dict:
        return {
            "path": str(self.path),
            "draws": len(self.table),
            "parameters": self.paths,
            "caution": posterior_caveat(self.path),
        }


def with_parameters(
    scenario: Scenario, point: dict[str, float], integers: Sequence[str] = ()
) -> Scenario:
    """``scenario`` with the dotted ``point`` values set (paths in ``integers`` rounded)."""
    if not point:
        return scenario
    data = scenario.model_dump(mode="python")
    for path, value in point.items():
        set_path(data, path, round(value) if path in integers else float(value))
    return Scenario.model_validate(data)


def verdicts(
    runs: pd.DataFrame, reference: str, scenarios: list[str], metrics, brands
) -> pd.DataFrame:
    """Per scenario (not the reference), brand and metric: the paired per-replication differences
    (each replication one parameter draw) summarised as mean, 2.5-97.5% range over draws, share
    of draws agreeing with the mean's sign, whether that share reaches `HOLDS_SHARE` over at
    least `MIN_DRAWS` draws (``holds``) and that in words (``verdict``: holds, does NOT hold, or
    too few draws to tell, which ``holds`` = False alone does not say)."""
    keys = ["brand", "metric", "replication"]
    ref = runs[runs["scenario"] == reference][[*keys, "value"]]
    rows = []
    for scenario in scenarios:
        if scenario == reference:
            continue
        cur = runs[runs["scenario"] == scenario][[*keys, "value"]]
        m = cur.merge(ref, on=keys, suffixes=("", "_ref"))
        m = m[m["metric"].isin(metrics) & m["brand"].isin(brands)]
        for (brand, metric), g in m.groupby(["brand", "metric"], sort=True):
            d = (g["value"] - g["value_ref"]).to_numpy()
            mean = float(d.mean())
            share = float(np.mean(np.sign(d) == np.sign(mean)))
            rows.append(
                {
                    "scenario": scenario,
                    "brand": brand,
                    "metric": metric,
                    "draws": len(d),
                    "diff": mean,
                    "range_low": float(np.quantile(d, 0.025)),
                    "range_high": float(np.quantile(d, 0.975)),
                    "share_same_sign": share,
                    "holds": holds(share, len(d)),
                    "verdict": holds_words(share, len(d)),
                }
            )
    return pd.DataFrame(rows)


def verdict_lines(table: pd.DataFrame, reference: str, source: Path) -> list[str]:
    """The printed verdicts under parameter uncertainty, one line per row of `verdicts`."""
    lines = [
        f"Verdicts under parameter uncertainty (each replication draws its parameters from "
        f"{source}; range = 2.5-97.5% of the per-draw differences):"
    ]
    caveat = posterior_caveat(source)
    if caveat:
        lines.append(f"  {caveat}")
    for r in table.itertuples():
        word = "higher" if r.diff > 0 else "lower" if r.diff < 0 else "unchanged, off"
        lines.append(
            f"  {r.scenario} vs {reference}, {r.brand} {r.metric}: {word} by {abs(r.diff):.4g} "
            f"(range {r.range_low:.4g} to {r.range_high:.4g}); {r.share_same_sign:.0%} of "
            f"{r.draws} draws agree: {holds_words(r.share_same_sign, r.draws)}"
        )
    return lines
