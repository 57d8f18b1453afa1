"""Calibrate parameters to published figures: Optuna finds the fit, pyabc gives the posterior.

``calibrate("calibration/baseline.toml", out="results/cal")`` does, in the results folder:

1. **Fit** (Optuna, TPE sampler, SQLite storage ``optuna.db``): each trial proposes parameter
   values, the model is run for the file's R replications with common random numbers and scored
   by the distance ``sqrt(sum_i w_i ((m_i - v_i) / s_i)^2 / sum_i w_i)``, where ``m_i`` is the
   model's mean of target i over the replications, ``v_i`` its published value and ``s_i`` its
   scale. The scale accounts for Monte Carlo error as history matching's implausibility does
   (Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015): ``s_i = sqrt(h_i^2 + sigma_i^2 /
   R)``, with ``h_i`` half the band (the observation's uncertainty) and ``sigma_i`` the median,
   over the candidates of the first batch, of the standard deviation of target i across a
   candidate's replications (so ``sigma_i^2 / R`` is the variance of ``m_i``). A target whose
   mean is noisier than its band then no longer dominates the distance with its noise. The
   scales are computed once, when the first batch has been evaluated (before any trial is
   scored), stored in the study (``optuna.db``, study attribute ``noise_scales``) and used
   unchanged for every trial, the posterior and the recovery: a scale per candidate would reward
   noisy candidates. With R = 1 there is no standard deviation and ``sigma_i = 0``, as for a
   target of which no first-batch candidate has two finite replications (printed, and listed
   in the manifest as ``noise_unmeasured``: see `unmeasured`); with
   ``noise_scaled = false`` in the file ``s_i = h_i`` (sigma is still measured and recorded). 1
   means "on the edge of the bands widened by the noise". Trials are asked in batches of
   ``batch`` (independent of the worker count) and the sampler of trial n is seeded from (seed,
   n), so the proposals are a function of what is stored: killed at any moment and run again, it
   evaluates the trials left running and carries on, with the same numbers as an uninterrupted
   run. The file's ``[[start]]`` points, if any, are trials 0, 1, ... (Optuna's
   ``enqueue_trial``; a parameter a point leaves out is drawn by that trial's sampler), so a fit
   can begin where an earlier one or a hand-made check ended; the sampler learns from them as
   from any trial.
2. **Posterior** (pyabc ABC-SMC, SQLite history ``abc.db``, prior = the file's priors, the same
   distance and scales, median epsilon schedule): ``population`` particles per generation for at
   most ``generations`` generations, stopping early when the tolerance reaches 1 (every target
   within its widened band on average). One generation per pyabc call with NumPy's global seed
   set from (seed, generation), so a rerun resumes at the last finished generation.
3. **Confirmation** (against the winner's curse): the best trial on its own R replications is
   biased towards the targets, since among many noisy trials the smallest distance is partly
   luck. The ``confirm.top`` best trials (default 8) are measured again on
   ``confirm.replications`` fresh replications (default 16; seeds derived from (seed, 17), none
   shared with the fit's) and scored with the same scales; the **estimate** is the one with the
   smallest distance there. Each re-measured trial is stored in the study as it is done
   (attribute ``confirm``), so a rerun resumes; ``top = 0`` takes the best trial as it is. (It
   runs before the posterior, which does not depend on it.) The figures reported at the estimate
   (``fit.csv``'s model, ``validation.csv``) are then measured once more, on as many
   replications from a third base seed (key `ESTIMATE_KEY`), so they do not carry the luck of
   the choice either.
4. **Outputs**: ``parameters.csv`` (estimate, 95% interval = weighted 2.5% and
   97.5% quantiles of the last ABC population), ``fit.csv`` (per target: model at the estimate,
   the mean over step 3's last measurement; posterior-predictive 95% range of the last
   population, within the band or not), ``validation.csv`` (figures kept out of the fit, at the
   estimate, 95% t interval over those replications), ``posterior.parquet``
   (``draws`` equally weighted draws resampled from the last population), ``calibrated.toml``
   (the base scenario with the estimates, self-contained: no ``extends``, see
   `write_calibrated`), ``charts/convergence.png``, ``charts/pairs.png`` and ``manifest.json``
   (with the scales).
   `redraw` draws the charts again from these stored outputs (``--charts-only``).

A study is bound to the settings it began with: the file's fields (except those a resume may
change: `RESUMABLE`), the effective seed, consumers, days and replications, ``--recover`` and
the base scenario's content are stored in the study (attribute ``settings``); run again on the
same folder with any of them changed, it stops (exit code 2) naming the field, the old and the
new value, instead of mixing two studies. A changed ``trials`` is checked against the stored
trials (`check_trials`) and refused the same way unless the resume is an uninterrupted run.

With ``recover=True`` the targets' values are first replaced by pseudo-data: the model's outputs
at a parameter set drawn from the prior (``truth.json``), run with independent seeds, each band
keeping its width; ``recovery.csv`` then says whether each 95% interval covers the truth.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import time
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import ScenarioError, UserError
from ..core.storage import provenance, write_bytes, write_csv, write_json, write_parquet
from ..core.streams import replication_seed
from ..scenario import Scenario
from ..scenario.loading import with_simulation
from .measure import integer_paths, measure, points_to_jobs
from .spec import CalibrationSpec, Loaded, Target, load_calibration

STUDY = "calibration"
SCALES = "noise_scales"  # study attribute: the distance's scales, fixed after the first batch
CONFIRM = "confirm"  # study attribute: the re-measured best trials (per trial number)
SETTINGS = "settings"  # study attribute: what the study was made with (checked on resume)
RESUMABLE = (
    "name", "trials", "validation", "posterior.draws", "posterior.generations", "confirm"
)  # fmt: skip
"""Fields of a calibration file that may change between a run and its resume: ``name`` is not
used by the fit; ``trials`` and ``posterior.generations`` say where the study stops; a changed
``trials`` is accepted only when the stored study is the start of an uninterrupted run with the
new value (`check_trials`: it holds no more trials, its scales came from min(batch, trials)
candidates, and its last batch is whole or not yet scored; e.g. any earlier ``trials`` that is a
multiple of ``batch``), and is otherwise refused with exit code 2; ``validation`` is measured
afresh at the estimate at the end and ``posterior.draws`` resampled afresh from the last
population; ``confirm`` re-measures the trials its stored results do not cover (they are kept
per trial with the replications and seed they were measured with). Every other field changes the
numbers the stored trials and particles were made with."""
LOG = logging.getLogger(__name__)


def distance(model: np.ndarray, targets: list[Target], scales: np.ndarray | None = None) -> float:
    """Weighted root-mean-square of (model - value) / scale; inf if any output is NaN.

    ``scales`` defaults to the half bands (`Target.scale`); `calibrate` passes the noise scales
    of `noise_scales`."""
    v = np.array([t.value for t in targets])
    s = np.array([t.scale for t in targets]) if scales is None else np.asarray(scales, float)
    w = np.array([t.weight for t in targets])
    z = (np.asarray(model, dtype=float) - v) / s
    if not np.isfinite(z).all():
        return math.inf
    return float(np.sqrt(np.sum(w * z**2) / np.sum(w)))


def _sd(runs: np.ndarray) -> np.ndarray:
    """Per column of a (replications, outputs) array, the sample SD (ddof 1) of its finite
    values; NaN where fewer than two are finite."""
    out = np.full(runs.shape[1], np.nan)
    for j in range(runs.shape[1]):
        x = runs[:, j][np.isfinite(runs[:, j])]
        if len(x) >= 2:
            out[j] = float(np.std(x, ddof=1))
    return out


def noise_scales(
    targets: list[Target], runs: list[np.ndarray], noise_scaled: bool = True
) -> dict[str, Any]:
    """The distance's scales from a batch of candidates' per-replication outputs.

    ``runs``: per candidate a (R, targets) array. ``sigma_i`` = median over the candidates of
    the SD of target i across the candidate's replications (0 with R = 1, or where no candidate
    has two finite values: ``sigma_candidates``, the number of candidates the median is over, is
    then 0, see `unmeasured`); ``scale_i = sqrt(h_i^2 + sigma_i^2 / R)`` (``h_i`` if not
    ``noise_scaled``). Returned as a JSON-ready dict (stored in the study and the manifest)."""
    h = np.array([t.scale for t in targets], dtype=float)
    reps = int(runs[0].shape[0])
    sigma = np.zeros(len(targets))
    counts = np.zeros(len(targets), dtype=int)
    if reps > 1:
        sds = np.vstack([_sd(np.asarray(r, dtype=float)) for r in runs])
        for j in range(len(targets)):
            col = sds[:, j][np.isfinite(sds[:, j])]
            counts[j] = len(col)
            sigma[j] = float(np.median(col)) if len(col) else 0.0
    scale = np.sqrt(h**2 + sigma**2 / reps) if noise_scaled else h
    return {
        "noise_scaled": bool(noise_scaled),
        "replications": reps,
        "candidates": len(runs),
        "target": [str(t.name) for t in targets],
        "half_band": [float(x) for x in h],
        "sigma": [float(x) for x in sigma],
        "sigma_candidates": [int(x) for x in counts],
        "scale": [float(x) for x in scale],
    }


def unmeasured(info: dict[str, Any]) -> list[str]:
    """The targets whose noise could not be measured although R > 1: no candidate of the first
    batch had two finite replications of them (the batch failed, or the figure is NaN at these
    sizes), so their sigma is 0 and their scale the half band for the whole study."""
    counts = info.get("sigma_candidates")  # absent in studies made before it was recorded
    if info["replications"] < 2 or counts is None:
        return []
    return [t for t, n in zip(info["target"], counts, strict=True) if n == 0]


def unmeasured_line(name: str) -> str:
    """One line saying that target ``name``'s noise was not measured (see `unmeasured`)."""
    return (
        f"distance scales: target {name!r}: no candidate of the first batch had two finite "
        "replications, so its sigma is 0 and its scale its half band for the whole study "
        "(check that the target is defined at these sizes; to measure it, use a new --out)"
    )


def scales_table(info: dict[str, Any]) -> pd.DataFrame:
    """The scales of `noise_scales` as a table: target, half_band, sigma, sigma_candidates (how
    many candidates sigma is the median over; 0: not measured) and scale."""
    keys = ("target", "half_band", "sigma", "sigma_candidates", "scale")
    return pd.DataFrame({k: info[k] for k in keys if k in info})


class Calibration:
    """The outcome of `calibrate`: tables (DataFrames), paths and the manifest.

    Attributes:
        parameters: parameter, estimate, low, high (95% posterior interval), prior bounds.
        fit: target, value, low, high, model (at the estimate), model_low, model_high
            (posterior-predictive), within.
        validation: the same columns for the figures kept out of the fit (may be empty).
        posterior: equally weighted posterior draws, one column per parameter path.
        scales: per target: half_band, sigma (Monte Carlo SD of one replication),
            sigma_candidates (the first-batch candidates sigma is the median over; 0 with R > 1:
            not measured, sigma = 0) and the distance's scale, fixed after the first batch.
        trials: every Optuna trial: number, distance, the parameter values, the best distance
            so far and, for the trials re-measured before the estimate was chosen, the distance
            on the fresh replications (``confirm_distance``; NaN for the others).
        recovery: with ``recover``: parameter, truth, low, high, covered (else None).
        out: the results folder; manifest: provenance.
    """

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    def title(self) -> str:
        """The calibration's name (the file's ``name``, else its file name) and the scenario it
        fits: ``journey (of baseline)``."""
        m = self.manifest
        name = m["spec"].get("name") or Path(m["file"]).stem
        return f"{name} (of {m['scenario']['name']})"

    def report(self) -> str:
        """A plain-text report: parameters, fit, validation and (if any) recovery."""

        def fmt(df: pd.DataFrame) -> str:
            return df.to_string(index=False, float_format=lambda v: f"{v:.4g}")

        m = self.manifest
        parts = [
            f"Calibration {self.title()}: {m['trials']} trials x "
            f"{m['replications']} replications; ABC-SMC {m['abc']['generations']} generations "
            f"of {m['abc']['population']} particles, final tolerance "
            f"{m['abc']['final_epsilon']:.3g}; results in {self.out}",
            "",
            f"Parameters (estimate = {self.estimate_caption()}; 95% interval from the ABC "
            "posterior):",
            fmt(self.parameters),
            "",
            self.scales_caption(),
            fmt(self.scales),
            "",
            f"Fit ({int(self.fit['within'].sum())} of {len(self.fit)} targets within their band):",
            fmt(self.fit),
        ]
        if len(self.validation):
            parts += [
                "",
                f"Validation, not fitted ({int(self.validation['within'].sum())} of "
                f"{len(self.validation)} within their band):",
                fmt(self.validation),
            ]
        if self.recovery is not None:
            covered = int(self.recovery["covered"].sum())
            parts += [
                "",
                f"Recovery: {covered} of {len(self.recovery)} 95% intervals cover the true value",
                fmt(self.recovery),
            ]
        return "\n".join(parts)

    def estimate_caption(self) -> str:
        """How the estimate was chosen."""
        c = self.manifest.get("confirm")
        if not c:
            return "best trial"
        return (
            f"best of the {len(c['trials'])} best trials re-measured on {c['replications']} "
            f"fresh replications: trial {c['chosen']}; the fit's model figures are measured "
            f"again at the estimate on {c['replications']} replications of a third seed, so "
            "they do not carry the luck of the choice"
        )

    def scales_caption(self) -> str:
        """What the scales table is."""
        m = self.manifest
        how = (
            "scale = sqrt(half_band^2 + sigma^2 / R)"
            if m["noise_scaled"]
            else "scale = half_band (noise_scaled = false)"
        )
        return (
            f"Distance scales ({how}; sigma = median SD over replications of the first "
            f"{m['noise_candidates']} candidates, R = {m['replications']}):"
        )

    def _repr_html_(self) -> str:
        """The notebook view: parameters with intervals, the fit and the validation."""
        within = int(self.fit["within"].sum())
        parts = [
            f"<b>Calibration</b> {html.escape(self.title())} ({self.out})",
            f"<p>Parameters: estimate = {self.estimate_caption()}, 95% interval from the ABC "
            "posterior</p>",
            self.parameters.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
            f"<p>{self.scales_caption()}</p>",
            self.scales.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
            f"<p>Fit: {within} of {len(self.fit)} targets within their band</p>",
            self.fit.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        ]
        if len(self.validation):
            parts += [
                "<p>Validation (not fitted)</p>",
                self.validation.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
            ]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return (
            f"Calibration(parameters={list(self.parameters['parameter'])}, out={str(self.out)!r})"
        )


def _seed(seed: int, *key: int) -> int:
    """A 32-bit seed derived from ``seed`` and ``key`` (NumPy's global seed takes 32 bits)."""
    s = seed
    for k in key:
        s = replication_seed(s, k)
    return s % (2**32)


def _prior_draw(spec: CalibrationSpec, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(_seed(seed, 7))
    out = {}
    for p in spec.parameters:
        u = rng.random()
        if p.prior == "loguniform":
            out[p.path] = float(
                math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
            )
        else:
            out[p.path] = float(p.low + u * (p.high - p.low))
    return out


def effective_trials(spec: CalibrationSpec, trials: int | None, file: str | Path) -> int:
    """The trials a run makes: ``trials`` (``--trials``) or the file's. Refused (exit 2) below 1,
    or below the number of the file's ``[[start]]`` points (trials 0, 1, ...), which would drop
    the last points without a word (a file whose own ``trials`` is fewer is refused on reading)."""
    n = spec.trials if trials is None else int(trials)
    if n < 1:
        raise UserError(f"--trials must be at least 1, got {n}")
    if n < len(spec.start):
        raise ScenarioError(
            f"--trials {n} is fewer than the file's {len(spec.start)} [[start]] points "
            f"(trials 0-{len(spec.start) - 1})",
            file=file,
            field="trials",
            value=n,
            allowed=f"--trials at least {len(spec.start)}, or fewer [[start]] tables",
        )
    return n


def calibrate(
    file: str | Path,
    out: str | Path,
    *,
    trials: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    seed: int | None = None,
    consumers: int | None = None,
    replications: int | None = None,
    recover: bool = False,
    progress: bool = True,
) -> Calibration:
    """Calibrate the parameters of a calibration file (see the module docstring).

    Args:
        file: the calibration TOML file.
        out: results folder; running again with the same folder resumes.
        trials: Optuna trials (default: the file's).
        workers, scheduler, client: executor of the replications (see `make_map`); the numbers
            do not depend on it.
        seed: base seed (default: the file's, else the scenario's).
        consumers, replications: override the file's sizes (e.g. a quick demonstration).
        recover: calibrate against pseudo-data made at known values (see the module docstring).
        progress: print progress lines.
    """
    import optuna

    from ..experiments.executors import make_map

    started = time.perf_counter()
    loaded = load_calibration(file)
    spec: CalibrationSpec = loaded.spec
    n_trials = effective_trials(spec, trials, file)
    scenario = with_simulation(loaded.scenario, seed=seed, consumers=consumers)
    seed_ = scenario.simulation.seed
    reps = spec.replications if replications is None else int(replications)
    if reps < 1:
        raise UserError(f"--replications must be at least 1, got {reps}")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    paths = [p.path for p in spec.parameters]
    ints = integer_paths(paths)
    targets = list(spec.targets)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # before anything else is written: a changed file must not be mixed into the stored study
    settings = study_settings(spec, scenario, seed_, reps, recover)
    bind_settings(root, settings, file, spec.scenario, loaded.scenario_file)
    check_trials(root, paths, n_trials, spec.batch, file)
    taskmap = make_map(workers=workers, scheduler=scheduler, client=client)
    say = print if progress else (lambda *a, **k: None)
    manifest_base = dict(
        kind="calibration",
        file=str(file),
        spec=spec.model_dump(mode="json"),
        scenario={
            "path": str(loaded.scenario_file.resolve()),  # a file there, or bundled
            "name": scenario.name,
            "hash": scenario.content_hash(),
        },
        seed=seed_,
        replications=reps,
        consumers=scenario.simulation.consumers,
        days=scenario.simulation.days,
        trials=n_trials,
        recover=recover,
        executor=taskmap.describe(),
    )
    write_json(root / "manifest.json", provenance(**manifest_base, status="running"))
    try:
        truth = None
        if recover:
            truth, targets = _pseudo_data(spec, scenario, root, seed_, reps, taskmap, ints)
            say(f"recover: pseudo-data made at {truth}")

        def evaluate_at(points, n: int, base: int) -> list[np.ndarray]:
            """Per point, the (n, targets) array of the values of replications 0..n-1 of the
            base seed ``base``."""
            return measure(points_to_jobs(scenario, points, targets, ints), n, base, taskmap)

        def evaluate(points: list[dict[str, float]]) -> list[np.ndarray]:
            """Per point, the (replications, targets) array of per-replication values."""
            return evaluate_at(points, reps, seed_)

        study = _optimise(root, spec, paths, targets, evaluate, n_trials, seed_, say)
        noise = study.user_attrs[SCALES]
        scales = np.array(noise["scale"], dtype=float)
        best, model_at, confirmed = _confirm(
            study, spec, paths, targets, scales, evaluate_at, seed_, say
        )
        estimate = {p: float(best.params[p]) for p in paths}
        abc = _posterior(root, spec, paths, targets, evaluate, seed_, say, scales)
        if confirmed is None:  # the best trial's own figures; validation on the fit's seeds
            validation_rows = _validation(spec, scenario, estimate, reps, seed_, taskmap, ints)
        else:  # both measured again on replications the choice never saw
            model_at, validation_rows = _at_estimate(
                spec, scenario, targets, estimate, confirmed["replications"], seed_, taskmap, ints
            )
            confirmed["estimate_distance"] = float(distance(model_at, targets, scales))
    except BaseException:  # Ctrl-C, SIGTERM, an error: stop the runs in progress now
        taskmap.close(cancel=True)
        raise
    finally:
        taskmap.close()

    particles, weights, stats_, epsilons = abc
    low, high = _weighted_quantiles(particles, weights, (0.025, 0.975))
    parameters = pd.DataFrame(
        {
            "parameter": paths,
            "estimate": [estimate[p] for p in paths],
            "low": low,
            "high": high,
            "prior": [p.prior for p in spec.parameters],
            "prior_low": [p.low for p in spec.parameters],
            "prior_high": [p.high for p in spec.parameters],
        }
    )
    plo, phi = _weighted_quantiles(stats_, weights, (0.025, 0.975))
    fit = _fit_table(targets, model_at, plo, phi)
    rng = np.random.default_rng(_seed(seed_, 11))
    idx = rng.choice(len(weights), size=spec.posterior.draws, p=weights / weights.sum())
    posterior = pd.DataFrame(particles[idx], columns=paths)
    posterior.insert(0, "draw", np.arange(len(posterior)))
    trials_df = _trials_table(study, paths, confirmed)
    recovery = None
    if truth is not None:
        recovery = parameters[["parameter", "estimate", "low", "high"]].copy()
        recovery.insert(1, "truth", [truth[p] for p in paths])
        recovery["covered"] = (recovery["low"] <= recovery["truth"]) & (
            recovery["truth"] <= recovery["high"]
        )

    manifest = provenance(
        **manifest_base,
        status="complete",
        estimate=estimate,
        best_distance=float(study.best_trial.value),
        estimate_distance=float(confirmed["estimate_distance"] if confirmed else best.value),
        confirm=confirmed and {k: v for k, v in confirmed.items() if k != "runs"},
        noise_scales=scales_table(noise).to_dict(orient="records"),
        noise_scaled=noise["noise_scaled"],
        noise_candidates=noise["candidates"],
        noise_unmeasured=unmeasured(noise),
        abc={
            "method": "pyabc ABC-SMC, median epsilon, SingleCoreSampler",
            "population": spec.posterior.population,
            "generations": len(epsilons),
            "epsilons": epsilons,
            "final_epsilon": epsilons[-1],
        },
        posterior_draws=spec.posterior.draws,
        truth=truth,
        seconds=round(time.perf_counter() - started, 1),
        tables=["parameters.csv", "fit.csv", "validation.csv", "trials.csv", "posterior.parquet"]
        + (["recovery.csv"] if recovery is not None else []),
    )
    write_csv(root / "parameters.csv", parameters)
    write_csv(root / "fit.csv", fit)
    write_csv(root / "validation.csv", validation_rows)
    write_csv(root / "trials.csv", trials_df)
    write_parquet(root / "posterior.parquet", posterior, {"posterior": manifest})
    if recovery is not None:
        write_csv(root / "recovery.csv", recovery)
    calibrated = write_calibrated(root, loaded, scenario.name, estimate, ints)
    charts = _charts(
        root / "charts",
        trials_df,
        epsilons,
        noise["noise_scaled"],
        posterior[paths],
        estimate,
        truth,
        confirmed["chosen"] if confirmed else None,
    )
    manifest["charts"] = [str(c.relative_to(root)) for c in charts]
    manifest["calibrated"] = calibrated.name
    write_json(root / "manifest.json", manifest)
    return Calibration(
        parameters=parameters,
        scales=scales_table(noise),
        fit=fit,
        validation=validation_rows,
        posterior=posterior,
        trials=trials_df,
        recovery=recovery,
        out=root,
        manifest=manifest,
        charts=charts,
    )


def _charts(
    folder: Path, trials, epsilons, noise_scaled, draws, estimate, truth, chosen
) -> list[Path]:
    """``folder/convergence.png`` and ``folder/pairs.png`` (see `sim.calibration.plots`);
    ``chosen`` is the trial the confirmation chose (None without one)."""
    from . import plots

    return [
        plots.convergence(trials, epsilons, folder / "convergence.png", noise_scaled, chosen),
        plots.pairs(draws, estimate, truth, folder / "pairs.png"),
    ]


def redraw(root: str | Path, charts: str | Path | None = None) -> list[Path]:
    """Draw the charts of the finished calibration in ``root`` again from its stored outputs
    (``manifest.json``, ``trials.csv``, ``posterior.parquet``), without running the model: into
    ``charts`` (default ``root/charts``, where `calibrate` puts them). For a chart whose style or
    labels changed after the fit, e.g. the committed fit in ``docs/calibration``. The numbers
    drawn are exactly the stored ones; the manifest is not rewritten."""
    root = Path(root)
    need = ("manifest.json", "trials.csv", "posterior.parquet")
    missing = [n for n in need if not (root / n).is_file()]
    if missing:
        raise UserError(
            f"--out = {root}: no {', '.join(missing)} there; --charts-only redraws the charts "
            "of a finished calibration folder (it needs " + ", ".join(need) + ")"
        )
    manifest = _stored_manifest(root / "manifest.json")
    paths = [q["path"] for q in manifest["spec"]["parameters"]]  # the file's order
    posterior = _stored_table(root / "posterior.parquet", paths, pd.read_parquet, "a Parquet table")
    trials = _stored_table(root / "trials.csv", list(_TRIALS), pd.read_csv, "a CSV table")
    if "confirm_distance" in trials and not pd.api.types.is_numeric_dtype(
        trials["confirm_distance"]
    ):
        raise UserError(
            f"{root / 'trials.csv'}: column confirm_distance is not numeric (it holds the "
            "distances of the re-measured trials, empty for the others)"
        )
    confirm = manifest.get("confirm") or {}
    if not isinstance(confirm, dict):
        raise UserError(
            f"{root / 'manifest.json'}: confirm = {confirm!r}: not an object (the confirmation "
            "step's record, or null without one)"
        )
    chosen = confirm.get("chosen")
    if chosen is not None and (isinstance(chosen, bool) or not isinstance(chosen, int)):
        raise UserError(
            f"{root / 'manifest.json'}: confirm.chosen = {chosen!r}: not a trial number "
            "(a whole number)"
        )
    distance = trials["distance"].to_numpy(dtype=float)
    if not (np.isfinite(distance) & (distance < 1e8)).any():
        raise UserError(
            f"{root / 'trials.csv'}: column distance holds no finite distance below 1e8 "
            "(a failed trial's marker); redraw needs at least one trial that ran"
        )
    return _charts(
        root / "charts" if charts is None else Path(charts),
        trials,
        manifest["abc"]["epsilons"],
        manifest["noise_scaled"],
        posterior[paths],
        manifest["estimate"],
        manifest.get("truth"),
        chosen,
    )


_TRIALS = ("trial", "distance", "best_so_far")  # the columns of trials.csv the charts draw


def _stored_manifest(path: Path) -> dict:
    """The manifest of a finished calibration, checked for what `redraw` reads from it; a
    `UserError` naming ``path`` and the field when it is not."""
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, OSError) as exc:  # (UnicodeDecodeError and JSONDecodeError are both)
        raise UserError(
            f"{path}: not valid JSON ({exc}); redraw needs the manifest.json "
            "`omnitrust calibrate` wrote"
        ) from None
    if not isinstance(manifest, dict):
        raise UserError(
            f"{path}: not a JSON object; redraw needs the manifest.json `omnitrust calibrate` wrote"
        )
    if manifest.get("kind") != "calibration" or manifest.get("status") != "complete":
        raise UserError(
            f"{path}: kind = {manifest.get('kind')!r}, status = "
            f"{manifest.get('status')!r}: not a finished calibration (allowed: kind "
            "'calibration', status 'complete')"
        )

    def field(name: str, ok, allowed: str):
        node = manifest
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                raise UserError(f"{path}: no field {name} (it must be {allowed})")
            node = node[part]
        if not ok(node):
            raise UserError(f"{path}: {name} = {node!r}: not {allowed}")
        return node

    def numbers(v) -> bool:
        return all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)

    parameters = field(
        "spec.parameters", lambda v: isinstance(v, list) and v, "a list of parameters"
    )
    if not all(isinstance(q, dict) and isinstance(q.get("path"), str) for q in parameters):
        raise UserError(f"{path}: spec.parameters: every parameter needs a path (a string)")
    names = [q["path"] for q in parameters]
    field("abc.epsilons", lambda v: isinstance(v, list) and numbers(v), "a list of numbers")
    field("noise_scaled", lambda v: isinstance(v, bool), "true or false")
    for name in ("estimate", *(("truth",) if manifest.get("truth") is not None else ())):
        field(
            name,
            lambda v: isinstance(v, dict) and set(names) <= set(v) and numbers(v[n] for n in names),
            "a number for each of " + ", ".join(names),
        )
    return manifest


def _stored_table(path: Path, columns: list[str], read, kind: str) -> pd.DataFrame:
    """The table ``read`` reads from ``path``, with numeric ``columns``; a `UserError` naming
    ``path`` and the problem when it cannot be read or lacks one."""
    try:
        table = read(path)
    except pd.errors.EmptyDataError:
        raise UserError(
            f"{path}: empty, no table; redraw needs the one `omnitrust calibrate` wrote"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise UserError(
            f"{path}: not {kind} ({type(exc).__name__}: {exc})".replace("\n", " ")
        ) from None
    bad = [c for c in columns if c not in table or not pd.api.types.is_numeric_dtype(table[c])]
    if bad or table.empty:
        raise UserError(
            f"{path}: needs at least one row and numeric columns {', '.join(columns)} "
            f"(missing or not numeric: {', '.join(bad) or 'none'}; rows: {len(table)})"
        )
    return table


# ---------------------------------------------------------------------------------------------
def _open_study(root: Path):
    """The study in ``root/optuna.db`` (created if absent) and its storage."""
    import optuna

    storage = optuna.storages.RDBStorage(f"sqlite:///{(root / 'optuna.db').resolve()}")
    study = optuna.create_study(
        study_name=STUDY, storage=storage, direction="minimize", load_if_exists=True
    )
    return storage, study


_RUN = ("seed", "consumers", "days", "replications")  # compared as effective values


def study_settings(spec: CalibrationSpec, scenario, seed: int, reps: int, recover: bool) -> dict:
    """What a study is bound to (JSON): the file's fields except `RESUMABLE` ones and those
    compared as effective values (seed, sizes: a command-line option may set them; the scenario
    path: its content is compared), the effective values, and the base scenario's content."""
    data = spec.model_dump(mode="json")
    for field in (*RESUMABLE, *_RUN, "scenario"):
        *parents, last = field.split(".")
        node = data
        for part in parents:
            node = node[part]
        node.pop(last, None)
    run = {
        "seed": int(seed),
        "consumers": int(scenario.simulation.consumers),
        "days": int(scenario.simulation.days),
        "replications": int(reps),
        "recover": bool(recover),
    }
    return {"file": data, "run": run, "scenario": scenario.content_hash()}


_ABSENT: Any = "(absent)"


def _submodel(annotation: Any) -> Any:
    """The pydantic model a field's values (or list entries) are, else None."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):  # list[Target], Posterior | None, ...
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _is_default(model: Any, key: str, value: Any) -> bool:
    """Whether ``value`` (JSON) is the default of field ``key`` of the pydantic ``model``."""
    from pydantic import TypeAdapter

    field = getattr(model, "model_fields", {}).get(key)
    if field is None or field.is_required():
        return False
    default = field.get_default(call_default_factory=True)
    return TypeAdapter(field.annotation).dump_python(default, mode="json") == value


def _first_change(
    old: Any, new: Any, path: str = "", model: Any = None
) -> tuple[str, Any, Any] | None:
    """The first (dotted, indexed path, old, new) where two JSON values differ, else None.

    With ``model`` (the pydantic class ``new`` was dumped from), a field missing from ``old``
    (stored by a version without it) counts as unchanged when ``new`` holds its default."""
    if isinstance(old, dict) and isinstance(new, dict):
        fields = getattr(model, "model_fields", {})
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in old and key in new and _is_default(model, key, new[key]):
                continue
            if key not in old or key not in new:
                return sub, old.get(key, _ABSENT), new.get(key, _ABSENT)
            inner = _submodel(fields[key].annotation) if key in fields else None
            found = _first_change(old[key], new[key], sub, inner)
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return path, f"{len(old)} entries", f"{len(new)} entries"
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found = _first_change(a, b, f"{path}[{i}]", model)
            if found:
                return found
        return None
    return None if old == new else (path, old, new)


def bind_settings(
    root: Path,
    settings: dict,
    file: str | Path,
    scenario_path: str = "",
    scenario_file: str | Path | None = None,
) -> None:
    """Store ``settings`` in a new study of ``root``, or check them against the stored ones.

    Raises a `UserError` (exit code 2) naming the file, the first field that differs, its old
    and new value and what to do, so a resumed run never mixes two studies.

    The base scenario is compared by content (``settings["scenario"]``), not by the name the
    file gives it (``scenario_path``, shown; ``scenario_file``: the file it names now): written
    otherwise or resolved from another folder, the same scenario resumes; another one, even
    under the same name, is refused."""
    from ..core.errors import toml_literal

    _, study = _open_study(root)
    stored = study.user_attrs.get(SETTINGS)
    if stored is None:
        if study.get_trials(deepcopy=False):
            raise UserError(
                f"{root / 'optuna.db'}: a study that did not record its settings (made by an "
                "earlier version of omnitrust), so a resume cannot be checked; use a new --out"
            )
        study.set_user_attr(SETTINGS, settings)
        return
    where = f"the study in {root} began with"
    change = _first_change(stored["file"], settings["file"], model=CalibrationSpec)
    if change:
        field, old, new = change
        raise ScenarioError(
            f"{where} {toml_literal(old)}",
            file=file,
            field=field,
            value=new,
            allowed=f"to resume, restore {field} = {toml_literal(old)}, or use a new --out",
        )
    change = _first_change(stored["run"], settings["run"])
    if change:
        field, old, new = change
        source = {
            "seed": "the file's `seed`, --seed or the scenario's [simulation]",
            "consumers": "the file's `consumers`, --consumers or the scenario's [simulation]",
            "days": "the file's `days` or the scenario's [simulation]",
            "replications": "the file's `replications` or --replications",
            "recover": "--recover",
        }[field]
        raise ScenarioError(
            f"{where} {toml_literal(old)}",
            file=file,
            field=field,
            value=new,
            allowed=f"to resume, give {toml_literal(old)} again ({source}), or use a new --out",
        )
    if stored["scenario"] != settings["scenario"]:
        raise ScenarioError(
            f"{where} another scenario (content hash {stored['scenario'][:12]}, now "
            f"{settings['scenario'][:12]}"
            + (f", read from {scenario_file}" if scenario_file is not None else "")
            + ": the scenario file or the model's defaults changed)",
            file=file,
            field="scenario",
            value=scenario_path,
            allowed="to resume, restore the scenario, or use a new --out",
        )


ABANDONED = "abandoned"  # user attribute of a trial whose ask a kill interrupted
START = "start"  # user attribute of a trial made from the file's start point of that index
TRIALS = "trials"  # study attribute: the ``trials`` the study was last run towards


def check_trials(root: Path, paths, n_trials: int, batch: int, file=None) -> None:
    """Refuse (`ScenarioError`, exit code 2) a ``trials`` with which the stored study cannot
    carry on exactly as an uninterrupted run with that ``trials`` would.

    An uninterrupted run asks batches [k batch, min((k + 1) batch, trials)), each from the
    trials of the batches before it, and fixes the scales from the first, min(batch, trials)
    candidates. The stored study is the start of such a run unless (1) it holds more than
    ``trials`` trials, (2) its scales came from another number of candidates (a first run with
    fewer trials than one batch), or (3) its last batch is shorter than that run's and already
    (partly) scored (a first run that stopped at a ``trials`` not a multiple of ``batch``): the
    rest of that batch would be proposed from other trials. A resume with the same ``trials``
    never meets these."""
    from optuna.trial import TrialState

    from ..core.errors import toml_literal

    _, study = _open_study(root)
    kept = sorted(
        (
            t
            for t in _asked(study)
            if not (t.state == TrialState.RUNNING and any(p not in t.params for p in paths))
        ),
        key=lambda t: t.number,
    )
    if not kept:
        return
    asked = len(kept)
    old = study.user_attrs.get(TRIALS)
    began = f"the study in {root} was run with trials = {old}" if old else f"the study in {root}"
    info = study.user_attrs.get(SCALES)
    start = (asked - 1) // batch * batch  # the last batch asked: [start, asked)
    if asked > n_trials:
        why = f"it already holds {asked} trials"
    elif info is not None and info["candidates"] != min(batch, n_trials):
        why = (
            f"its distance scales were fixed from the first {info['candidates']} candidates, "
            f"a run with trials = {n_trials} fixes them from {min(batch, n_trials)}"
        )
    elif asked < min(start + batch, n_trials) and any(
        t.state != TrialState.RUNNING for t in kept[start:]
    ):
        why = (
            f"its last batch (trials {start}-{asked - 1}, batch = {batch}) was scored without "
            f"the trials {asked}-{min(start + batch, n_trials) - 1} a run with trials = "
            f"{n_trials} proposes with it"
        )
    else:
        return
    allowed = (
        f"to resume, give trials = {toml_literal(old)} again (the file's `trials` or --trials)"
        if old
        else "to resume, give the trials the study began with"
    )
    raise ScenarioError(
        f"{began}; {why}, so it cannot carry on as an uninterrupted run",
        file=file,
        field="trials",
        value=n_trials,
        allowed=f"{allowed}, or use a new --out",
    )


def _optimise(root, spec, paths, targets, evaluate, n_trials, seed, say):
    """Run (or resume) the Optuna study until it holds ``n_trials`` finished trials."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState

    check_trials(root, paths, n_trials, spec.batch)
    storage, study = _open_study(root)
    study.set_user_attr(TRIALS, int(n_trials))
    info = study.user_attrs.get(SCALES)
    if info is not None:
        say("distance scales read back from optuna.db (fixed after the first batch)")
        for name in unmeasured(info):
            say(unmeasured_line(name))
    dists = {
        p.path: FloatDistribution(p.low, p.high, log=p.prior == "loguniform")
        for p in spec.parameters
    }
    while True:
        trials = study.get_trials(deepcopy=False)
        # A kill in the middle of `ask` leaves a trial whose parameters were only partly drawn:
        # it is abandoned (failed, marked, left out of every count and table) and asked again
        # with the same sampler seed from the same finished trials, so it draws the same values.
        for t in trials:
            if t.state == TrialState.RUNNING and any(p not in t.params for p in paths):
                storage.set_trial_user_attr(t._trial_id, ABANDONED, True)
                study.tell(t.number, state=TrialState.FAIL)
        trials = _asked(study)
        finished = sum(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in trials)
        running = [t for t in trials if t.state == TrialState.RUNNING]
        if finished >= n_trials and not running:
            return study
        # ask the rest of the batch, then evaluate it. Batches are trials [k batch, (k + 1)
        # batch): a kill may have left part of one asked (none of it told) or part of one told
        # (all of it asked), and either way the batch is completed as it began.
        if running:
            want = min(-len(trials) % spec.batch, max(n_trials - len(trials), 0))
        else:
            want = min(spec.batch, n_trials - finished)
        for _ in range(max(want, 0)):
            number = len(_asked(study))
            waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
            if number < len(spec.start) and not waiting:
                # the file's start point `number` (trials 0, 1, ...); a kill between this and
                # the ask below leaves it waiting, and the ask of the resumed run takes it
                study.enqueue_trial(spec.start[number], user_attrs={START: number})
            study.sampler = optuna.samplers.TPESampler(
                seed=_seed(seed, 3, number), multivariate=True, constant_liar=True
            )
            running.append(study.ask(dists))
        running.sort(key=lambda t: t.number)
        points = [{p: float(t.params[p]) for p in paths} for t in running]
        results = [np.asarray(r, dtype=float) for r in evaluate(points)]
        if info is None:
            # the first batch: fix the scales from it before any trial is scored
            if finished:
                raise UserError(
                    f"{root / 'optuna.db'}: a study without distance scales (made by an "
                    "earlier version of omnitrust); use a new --out"
                )
            info = noise_scales(targets, results, spec.noise_scaled)
            study.set_user_attr(SCALES, info)
            say(
                f"distance scales fixed from the first {len(results)} candidates "
                f"(R = {info['replications']}):\n"
                + scales_table(info).to_string(index=False, float_format=lambda v: f"{v:.4g}")
            )
            for name in unmeasured(info):
                say(unmeasured_line(name))
        scales = np.array(info["scale"], dtype=float)
        for t, runs in zip(running, results, strict=True):
            model = runs.mean(axis=0)
            d = distance(model, targets, scales)
            storage.set_trial_user_attr(t._trial_id, "model", [float(x) for x in model])
            study.tell(t.number, d if math.isfinite(d) else 1e9)
        best = study.best_trial
        say(
            f"trials {finished + len(running)}/{n_trials}: best distance {best.value:.4g} at "
            + ", ".join(f"{p}={best.params[p]:.4g}" for p in paths)
        )


CONFIRM_KEY = 17
"""Base seed of the confirmation's replications: ``_seed(seed, CONFIRM_KEY)``."""
CONFIRM_CHUNK = 2
"""Trials re-measured per call (stored after each): the unit a killed confirmation resumes from;
2 trials x 16 replications keep 32 tasks in flight for the executor."""


def _confirm(study, spec, paths, targets, scales, evaluate_at, seed, say):
    """The estimate's trial, the model's figures there, and the confirmation's record (None with
    ``confirm.top = 0``): the ``top`` best trials re-measured on ``replications`` fresh
    replications (base seed ``_seed(seed, 17)``), the estimate the smallest distance among them
    (ties: the better fit distance, then the earlier trial). A replication whose figure is
    undefined (NaN) makes the trial's distance infinite, as in the fit. Stored per trial as it is
    measured (study attribute `CONFIRM`, keyed by Optuna trial number; the record returned uses
    ``trials.csv``'s numbers), so a rerun measures only what is missing; a stored record made
    with other replications or another seed is measured afresh."""
    from optuna.trial import TrialState

    top, n = spec.confirm.top, spec.confirm.replications
    best = study.best_trial
    if top == 0:
        return best, np.array(best.user_attrs["model"], dtype=float), None
    kept = _kept(study)
    index = {t.number: k for k, t in enumerate(kept)}  # Optuna number -> trials.csv's
    done = [t for t in kept if t.state == TrialState.COMPLETE]
    chosen = sorted(done, key=lambda t: (t.value, t.number))[:top]
    base = _seed(seed, CONFIRM_KEY)
    stored = study.user_attrs.get(CONFIRM) or {}
    runs = (
        dict(stored.get("runs", {}))
        if stored.get("seed") == base and stored.get("replications") == n
        else {}
    )
    todo = [t for t in chosen if str(t.number) not in runs]
    if todo:
        say(
            f"confirming the {len(chosen)} best trials on {n} fresh replications "
            f"({len(chosen) - len(todo)} stored)"
        )
    for i in range(0, len(todo), CONFIRM_CHUNK):
        part = todo[i : i + CONFIRM_CHUNK]
        results = evaluate_at([{p: float(t.params[p]) for p in paths} for t in part], n, base)
        for t, r in zip(part, results, strict=True):
            runs[str(t.number)] = np.asarray(r, dtype=float).tolist()
        study.set_user_attr(CONFIRM, {"seed": base, "replications": n, "runs": runs})
    rows = []
    for t in chosen:
        model = np.asarray(runs[str(t.number)], dtype=float).mean(axis=0)
        d = distance(model, targets, scales)
        rows.append((d if math.isfinite(d) else 1e9, float(t.value), t.number, t, model))
    d, _, _, pick, model = min(rows, key=lambda r: r[:3])
    say(
        f"estimate: trial {index[pick.number]} (distance {d:.4g} on the fresh replications; "
        f"{pick.value:.4g} on its own); the best trial, {index[best.number]}, scores "
        f"{next(r[0] for r in rows if r[2] == best.number):.4g} there"
    )
    record = {
        "top": top,
        "replications": n,
        "seed": base,
        "chosen": index[pick.number],
        "distance": float(d),
        "trials": [
            {"trial": index[r[2]], "fit_distance": r[1], "distance": float(r[0])} for r in rows
        ],
    }
    return pick, model, record


def _posterior(root, spec, paths, targets, evaluate, seed, say, scales):
    """Run (or resume) ABC-SMC; return particles, weights, their outputs and the epsilons."""
    import pyabc

    for name in ("ABC", "pyabc", "History", "Epsilon", "Distance", "Sampler", "Acceptor"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(f"ABC.{name}").setLevel(logging.WARNING)
    keys = [f"p{i}" for i in range(len(paths))]
    prior = pyabc.Distribution(
        **{
            k: (
                pyabc.RV("loguniform", p.low, p.high)
                if p.prior == "loguniform"
                else pyabc.RV("uniform", p.low, p.high - p.low)
            )
            for k, p in zip(keys, spec.parameters, strict=True)
        }
    )
    names = [f"y{i}" for i in range(len(targets))]

    def model(par) -> dict[str, float]:
        (runs,) = evaluate([{p: float(par[k]) for p, k in zip(paths, keys, strict=True)}])
        return dict(zip(names, np.asarray(runs, dtype=float).mean(axis=0).tolist(), strict=True))

    def dist(x, x0) -> float:
        return distance(np.array([x[n] for n in names]), targets, scales)

    observed = {n: float(t.value) for n, t in zip(names, targets, strict=True)}
    path = root / "abc.db"
    db = f"sqlite:///{path.resolve()}"

    def smc():
        # a fresh object per generation: pyabc caches the population it calibrates the next
        # tolerance from, so a reused object would keep the first tolerance for ever
        abc = pyabc.ABCSMC(
            model,
            prior,
            dist,
            population_size=spec.posterior.population,
            sampler=pyabc.sampler.SingleCoreSampler(),
            eps=pyabc.MedianEpsilon(),
        )
        abc.sampler.show_progress = False
        return abc

    history = None
    if path.exists():
        try:
            history = pyabc.History(db)
            history.id = 1
            history.get_all_populations()
        except Exception:  # noqa: BLE001 - a kill before the history was set up: start afresh
            history = None
            path.unlink()
    if history is None:
        history = smc().new(db, observed)  # stores the observed values and the run's settings
    while True:
        pops = history.get_all_populations()
        done = pops[pops["t"] >= 0]
        eps = [float(e) for e in done.sort_values("t")["epsilon"]]
        if len(eps) >= spec.posterior.generations or (eps and eps[-1] <= 1.0):
            break
        abc = smc()
        abc.load(db, 1)
        np.random.seed(_seed(seed, 5, len(eps)))  # noqa: NPY002 - pyabc draws from the global one
        history = abc.run(max_nr_populations=1)
        last = history.get_all_populations()["epsilon"].iloc[-1]
        say(f"ABC generation {len(eps) + 1}: tolerance {last:.4g}")
    frame, w = history.get_distribution(m=0, t=history.max_t)
    particles = frame[keys].to_numpy(dtype=float)
    sw, ss = history.get_weighted_sum_stats(t=history.max_t)
    # get_weighted_sum_stats and get_distribution list the same particles in the same order
    stats_ = np.array([[s[n] for n in names] for s in ss], dtype=float)
    weights = np.asarray(w, dtype=float)
    if not np.allclose(np.sort(weights), np.sort(np.asarray(sw, dtype=float))):
        raise RuntimeError("pyabc returned particles and summary statistics of different sizes")
    return particles, weights, stats_, eps


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> list[np.ndarray]:
    """Per column of ``values``, the weighted quantiles ``qs`` (inverse of the weighted CDF)."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    out = []
    for q in qs:
        col = []
        for j in range(values.shape[1]):
            order = np.argsort(values[:, j], kind="stable")
            cdf = np.cumsum(w[order])
            k = min(int(np.searchsorted(cdf, q, side="left")), len(cdf) - 1)
            col.append(values[order[k], j])
        out.append(np.array(col))
    return out


def _fit_table(targets, model, lo, hi) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target": [t.name for t in targets],
            "value": [t.value for t in targets],
            "low": [t.low for t in targets],
            "high": [t.high for t in targets],
            "model": model,
            "model_low": lo,
            "model_high": hi,
            "within": [t.low <= m <= t.high for t, m in zip(targets, model, strict=True)],
        }
    )


def _validation(spec, scenario, estimate, reps, seed, taskmap, ints) -> pd.DataFrame:
    """Figures kept out of the fit, measured at the estimate (95% t interval over replications)."""
    if not spec.validation:
        return _fit_table([], np.array([]), np.array([]), np.array([]))
    (values,) = measure(
        points_to_jobs(scenario, [estimate], spec.validation, ints), reps, seed, taskmap
    )
    return _t_table(spec.validation, values)


ESTIMATE_KEY = 19
"""Base seed of the figures reported at the estimate: ``_seed(seed, ESTIMATE_KEY)``, shared
neither with the fit's replications (``seed``) nor with the confirmation's (key 17)."""


def _at_estimate(spec, scenario, targets, estimate, n, seed, taskmap, ints):
    """The targets' means (for ``fit.csv``) and the validation table at the estimate, from one
    measurement on ``n`` replications of base ``_seed(seed, ESTIMATE_KEY)``: random numbers that
    neither the fit nor the confirmation saw, so the figures reported at the estimate do not
    carry the luck it was chosen for (a best of ``top`` on the confirmation's replications)."""
    outputs = [*targets, *spec.validation]
    (values,) = measure(
        points_to_jobs(scenario, [estimate], outputs, ints), n, _seed(seed, ESTIMATE_KEY), taskmap
    )
    k = len(targets)
    return np.nanmean(values[:, :k], axis=0), _t_table(spec.validation, values[:, k:])


def _t_table(outputs, values: np.ndarray) -> pd.DataFrame:
    """``_fit_table`` of ``outputs`` at their means over the rows of ``values`` (replications;
    NaN rows left out per output), the range a 95% t interval."""
    from scipy import stats

    reps = len(values)
    mean = np.nanmean(values, axis=0)
    n = np.isfinite(values).sum(axis=0)
    sd = np.nanstd(values, axis=0, ddof=1) if reps > 1 else np.full(len(mean), np.nan)
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    return _fit_table(outputs, mean, mean - half, mean + half)


def _asked(study) -> list:
    """The trials asked so far (running or finished, abandoned asks left out); an enqueued
    start point that was not asked yet (waiting) is not one of them."""
    from optuna.trial import TrialState

    return [
        t
        for t in study.get_trials(deepcopy=False)
        if not t.user_attrs.get(ABANDONED) and t.state != TrialState.WAITING
    ]


def _kept(study) -> list:
    """The study's trials without abandoned asks, by Optuna number: their positions are the
    trial numbers of ``trials.csv`` and the manifest (an uninterrupted run's numbering)."""
    return sorted(_asked(study), key=lambda t: t.number)


def _trials_table(study, paths, confirmed=None) -> pd.DataFrame:
    kept = _kept(study)
    rows = [
        {"trial": k, "distance": t.value, **{p: t.params.get(p) for p in paths}}
        for k, t in enumerate(kept)
        if t.value is not None
    ]
    df = pd.DataFrame(rows).sort_values("trial", ignore_index=True)
    df["best_so_far"] = df["distance"].cummin()
    again = {r["trial"]: r["distance"] for r in (confirmed or {}).get("trials", [])}
    df["confirm_distance"] = [again.get(k, np.nan) for k in df["trial"]]
    return df


def _pseudo_data(spec, scenario, root, seed, reps, taskmap, ints):
    """The truth (drawn from the prior) and targets whose values are the model's at the truth,
    made with independent seeds; kept in truth.json so a resumed run uses the same data."""
    path = root / "truth.json"
    if path.exists():
        saved = json.loads(path.read_text())
        truth, values = saved["truth"], saved["values"]
    else:
        truth = _prior_draw(spec, seed)
        other = replication_seed(seed, -2)
        (runs,) = measure(
            points_to_jobs(scenario, [truth], spec.targets, ints), reps, other, taskmap
        )
        values = [float(v) for v in runs.mean(axis=0)]
        write_json(path, {"truth": truth, "values": values, "seed": other})
    targets = []
    for t, v in zip(spec.targets, values, strict=True):
        h = t.scale
        targets.append(t.model_copy(update={"value": v, "low": v - h, "high": v + h}))
    return truth, targets


# ---------------------------------------------------------------------------------------------
def _toml(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[str]:
    """The lines of a TOML table holding ``tree`` (a `model_dump`: values, tables, lists of
    tables), ``prefix`` being the keys of the table itself: plain values first, then each table
    (``[a.b]``; written even when empty, as an empty ``[policy_before.Aurora]`` means something,
    but not when it holds only tables), then each list of tables (``[[brands]]``). Values are
    written in full, never shortened."""
    from ..core.errors import toml_key, toml_literal

    def tables(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(e, dict) for e in v)

    lines = [
        f"{toml_key(k)} = {toml_literal(v, math.inf)}"
        for k, v in tree.items()
        if not isinstance(v, dict) and not tables(v)
    ]
    for k, v in tree.items():
        header = ".".join(toml_key(p) for p in (*prefix, k))
        if isinstance(v, dict):
            only_tables = v and all(isinstance(x, dict) or tables(x) for x in v.values())
            lines += [*([] if only_tables else ["", f"[{header}]"]), *_toml(v, (*prefix, k))]
        elif tables(v):
            for entry in v:
                lines += ["", f"[[{header}]]", *_toml(entry, (*prefix, k))]
    return lines


def write_calibrated(root: Path, loaded: Loaded, name: str, estimate, ints) -> Path:
    """``root/calibrated.toml``: the base scenario with the estimates, named
    ``<name>_calibrated``, self-contained so that it loads wherever it is copied.

    The scenario is the base scenario file as it loads (every ``extends`` applied; its own
    ``[simulation]``, not the calibration file's sizes) with the estimates set as
    `with_parameters` sets them (paths in ``ints`` rounded). It is written without ``extends``,
    with every value (``exclude_none``: TOML has no None, and no scenario value is None unless
    that is its default), so neither a later edit of the base file nor a later change of a
    schema default changes what it loads as. A header comment names the
    calibration file, the base scenario (path and content hash) and the fitted values. The file
    is kept only if it loads back as the same scenario (equal `Scenario.content_hash`).
    """
    from ..core.errors import toml_literal
    from ..experiments.posterior import with_parameters
    from ..scenario.loading import load_scenario

    rel = loaded.scenario_file  # a file next to the calibration file, or a bundled scenario
    base = load_scenario(rel)  # as load_calibration reads it, without the sizes
    data = with_parameters(base, estimate, ints).model_dump(mode="python")
    data["name"] = f"{name}_calibrated"
    scenario = Scenario.model_validate(data)
    lines = [
        f"# Written by omnitrust calibrate from {loaded.path}: the base scenario with the",
        "# fitted estimates (95% intervals in parameters.csv), every `extends` applied, so that",
        "# this file loads wherever it is copied.",
        f"# Base scenario: {Path(os.path.normpath(rel)).as_posix()}, as it loads (content hash",
        f"#   {base.content_hash()}), with its own [simulation], not the fit's sizes.",
        "# Fitted values:",
        *(
            f"#   {p} = {toml_literal(round(v) if p in ints else float(v))}"
            for p, v in estimate.items()
        ),
        "",
        *_toml(scenario.model_dump(mode="python", exclude_none=True)),
    ]
    path = root / "calibrated.toml"
    write_bytes(path, ("\n".join(lines) + "\n").encode())
    try:
        written = load_scenario(path).content_hash()
    except ScenarioError as exc:  # the writer's fault, not the user's: not a bad-input exit
        path.unlink()
        raise RuntimeError(f"{path} does not load ({exc}): a bug in write_calibrated") from exc
    if written != scenario.content_hash():
        path.unlink()
        raise RuntimeError(
            f"{path} loads as another scenario than the calibrated one (content hash {written}, "
            f"expected {scenario.content_hash()}): a bug in write_calibrated"
        )
    return path
