"""Experiment files: a base scenario, levers and world uncertainties varied over a design.

An experiment is a TOML file validated like a scenario (unknown keys are errors; every error names
the file, the field, the value and what is allowed). Example (experiments/security_vs_attack.toml)::

    name = "security_vs_attack"
    base = "../scenarios/baseline.toml"      # relative to this file, or a bundled name such
                                             # as "baseline" (as `extends`: scenario_reference)
    replications = 3                         # per design point
    # seed, days, consumers: optional overrides of the base's [simulation]
    metrics = ["trust", "net_value", "breach_cost"]   # rows of the tidy table (default: headline)

    [design]
    method = "grid"                          # or "lhs" (Latin hypercube, scipy.stats.qmc)
    # samples = 20; seed = 1                 # lhs only
    [design.factors]
    "brands.Aurora.policy.security_investment" = [0.2, 0.5, 0.8]     # explicit values
    "world.attack_pressure" = { low = 0.5, high = 3.0, levels = 3 }  # range (lhs: low/high)

    [policies.status_quo]                    # optional: named policies (sets of overrides)
    [policies.secure]
    "brands.Aurora.policy.security_investment" = 0.9
    [worlds.calm]                            # optional: named worlds (sets of overrides)
    "world.attack_pressure" = 0.5

    [robustness]                             # outcome judged for regret
    metric = "net_value"
    brand = "Aurora"
    direction = "max"                        # "max": more is better; "min": less is better

Design points are policies x worlds x factor samples (each part optional). Paths are dotted keys
into the scenario; a brand is addressed by name (``brands.Aurora.policy.transparency``).
"""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..core.errors import UserError
from ..scenario import Scenario
from ..scenario.loading import set_path  # noqa: F401  (the one dotted-path setter; re-exported)
from .store import HEADLINE

Value = float | int | bool | str


class ExperimentError(UserError):
    """A bad experiment file (exit code 2, message only)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Factor(_Strict):
    """One varied input: explicit ``values``, or a range ``low``..``high`` (``levels`` points on
    a grid; uniform for a Latin hypercube)."""

    values: list[Value] | None = Field(None, min_length=1)
    low: float | None = None
    high: float | None = None
    levels: int | None = Field(None, ge=2, le=1000)

    @model_validator(mode="after")
    def _one_form(self) -> Factor:
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give either `values = [...]` or `low` and `high`")
        if self.values is not None and (self.low is not None or self.high is not None):
            raise ValueError("give either `values` or `low`/`high`, not both")
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self


class Design(_Strict):
    """How factor values are combined: a full ``grid`` or a seeded Latin hypercube (``lhs``)."""

    method: Literal["grid", "lhs"] = "grid"
    samples: int | None = Field(None, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0)
    factors: dict[str, Factor] = Field(default_factory=dict)

    @field_validator("factors", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: {"values": x} if isinstance(x, list) else x for k, x in v.items()}
        return v

    @model_validator(mode="after")
    def _complete(self) -> Design:
        if self.method == "lhs":
            if self.samples is None:
                raise ValueError("method = 'lhs' needs `samples` (number of design points)")
        else:
            for path, f in self.factors.items():
                if f.values is None and f.levels is None:
                    raise ValueError(
                        f"grid factor {path!r} needs `values` or `levels` with low/high"
                    )
        return self


class Robustness(_Strict):
    """The outcome compared across policies for regret."""

    metric: str = "net_value"
    brand: str | None = None
    direction: Literal["max", "min"] = "max"


class Experiment(_Strict):
    """An experiment file (see the module docstring)."""

    name: str = Field(..., min_length=1, max_length=128)
    description: str = ""
    base: str = Field(..., min_length=1)
    replications: int = Field(3, ge=1, le=100_000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    days: int | None = Field(None, ge=1, le=3650)
    consumers: int | None = Field(None, ge=10, le=20_000_000)
    metrics: list[str] = Field(default_factory=lambda: list(HEADLINE), min_length=1)
    design: Design = Field(default_factory=Design)
    policies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    worlds: dict[str, dict[str, Any]] = Field(default_factory=dict)
    robustness: Robustness = Field(default_factory=Robustness)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, v: list[str]) -> list[str]:
        known = known_metrics()
        for m in v:
            if m not in known:
                raise ValueError(f"unknown metric {m!r}; allowed: {', '.join(sorted(known))}")
        return v

    @field_validator("robustness")
    @classmethod
    def _known_metric(cls, v: Robustness) -> Robustness:
        if v.metric not in known_metrics():
            raise ValueError(
                f"unknown metric {v.metric!r}; allowed: {', '.join(sorted(known_metrics()))}"
            )
        return v


def known_metrics() -> set[str]:
    """Every metric name of a run's tidy table."""
    from ..mechanisms.metrics import EVENT_COUNTERS, MARKET_SHARES, STOCKS

    return {*EVENT_COUNTERS, *STOCKS, *MARKET_SHARES, "purchases", "revenue", "net_value"}


# ---------------------------------------------------------------------------------------------
def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Field names allowed at ``loc`` (for 'extra key' errors)."""
    cur: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or cur is None:
            continue
        fields = getattr(cur, "model_fields", None)
        if not fields or part not in fields:
            return None
        ann = fields[part].annotation
        cur = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if cur is None:
            args = getattr(ann, "__args__", ())
            cur = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
    fields = getattr(cur, "model_fields", None)
    return sorted(fields) if fields else None


def _dotted(loc: list) -> str:
    """``["targets", 0, "days"]`` as ``targets[0].days``: list positions in brackets, as the
    other messages of the package write them (``parameters[1].path``)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def format_validation_error(
    source: str, exc: ValidationError, model: type[BaseModel], names: dict[tuple, str] | None = None
) -> str:
    """One line per problem: ``source: field = value: message (allowed ...)``.

    ``names`` maps a list location such as ``("brands", 0)`` to a display name (``Aurora``)."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        shown_loc = [names.get(loc[: i + 1], p) if names else p for i, p in enumerate(loc)]
        field = _dotted(shown_loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            extra = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{source}: unknown key {field!r}{extra}")
            continue
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        lines.append(f"{source}: {field}{shown}: {msg}")
    return "\n".join(lines)


def load_experiment(path: str | Path) -> tuple[Experiment, Path]:
    """Read and validate an experiment file; return it and its folder (for relative paths)."""
    path = Path(path)
    if path.is_dir():
        raise ExperimentError(f"{path}: is a directory, not an experiment file")
    if not path.is_file():
        raise ExperimentError(f"{path}: no such experiment file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: not valid TOML: {exc}") from None
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(format_validation_error(str(path), exc, Experiment)) from None
    return exp, path.parent


# ---------------------------------------------------------------------------------------------
def factor_samples(design: Design) -> list[dict[str, Value]]:
    """The factor values of each sample of the design (grid: full product; lhs: seeded LHS)."""
    if not design.factors:
        return [{}]
    paths = list(design.factors)
    if design.method == "grid":
        axes = []
        for f in design.factors.values():
            if f.values is not None:
                axes.append(list(f.values))
            else:
                axes.append([float(v) for v in np.linspace(f.low, f.high, f.levels)])
        return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*axes)]
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(paths), seed=design.seed).random(design.samples)
    out = []
    for row in u:
        point: dict[str, Value] = {}
        for path, f, x in zip(paths, design.factors.values(), row, strict=True):
            if f.values is not None:
                point[path] = f.values[min(int(x * len(f.values)), len(f.values) - 1)]
            else:
                point[path] = float(f.low + x * (f.high - f.low))
        out.append(point)
    return out


class DesignPoint:
    """One scenario of a sweep: its number, policy, world, factor sample and scenario."""

    def __init__(
        self,
        point: int,
        policy: str | None,
        world: str | None,
        sample: int,
        values: dict[str, Value],
        scenario: Scenario,
    ):
        self.point, self.policy, self.world, self.sample = point, policy, world, sample
        self.values, self.scenario = values, scenario

    def columns(self) -> dict[str, Any]:
        """The design columns attached to every row of this point's runs."""
        cols: dict[str, Any] = {"point": self.point}
        if self.policy is not None:
            cols["policy"] = self.policy
        if self.world is not None:
            cols["world"] = self.world
        cols["sample"] = self.sample
        cols.update(self.values)
        return cols


def build_points(exp: Experiment, base: Scenario, source: str) -> list[DesignPoint]:
    """Every design point as a validated scenario; bad paths or values raise `ExperimentError`
    before anything runs."""
    policies: list[tuple[str | None, dict]] = list(exp.policies.items()) or [(None, {})]
    worlds: list[tuple[str | None, dict]] = list(exp.worlds.items()) or [(None, {})]
    samples = factor_samples(exp.design)
    base_data = base.model_dump(mode="python")
    points = []
    for policy, world in itertools.product(policies, worlds):
        for s, values in enumerate(samples):
            data = _copy(base_data)
            overrides = [
                (f"policies.{policy[0]}", policy[1]),
                (f"worlds.{world[0]}", world[1]),
                *((f"design.factors.{p!r}", {p: v}) for p, v in values.items()),
            ]
            for where, mapping in overrides:
                for path, value in mapping.items():
                    try:
                        set_path(data, path, value)
                    except KeyError as exc:
                        raise ExperimentError(
                            f"{source}: {where}: path {path!r}: {exc.args[0]}"
                        ) from None
            i = len(points)
            label = "__".join(x for x in (policy[0], world[0]) if x) or exp.name
            data["name"] = f"{label}__p{i:04d}" if len(samples) > 1 else label
            try:
                scn = Scenario.model_validate(data)
            except ValidationError as exc:
                names = {("brands", k): b.get("name", k) for k, b in enumerate(data["brands"])}
                detail = format_validation_error("scenario", exc, Scenario, names).replace(
                    "scenario: ", ""
                )
                where = ", ".join(
                    f"{p} = {v!r}" for p, v in {**policy[1], **world[1], **values}.items()
                )
                raise ExperimentError(
                    f"{source}: design point {i} ({where}) is not a valid scenario: {detail}"
                ) from None
            points.append(DesignPoint(i, policy[0], world[0], s, values, scn))
    return points


def _copy(data: dict) -> dict:
    import copy

    return copy.deepcopy(data)
