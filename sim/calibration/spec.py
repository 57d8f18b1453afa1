"""Calibration and sensitivity files: what to vary, what to measure, and how it is checked.

Both are TOML files validated like scenarios: unknown keys are errors and every error names the
file, the field, the value and what is allowed (exit code 2). The file's own keys and values are
checked first, every unknown key and bad value at once (a rule within one table, such as ``low``
below ``high``, once that table's values are valid); the checks against its scenario (paths, bounds, metrics,
brands, days) run once those pass, and stop at the first problem. A calibration file::

    scenario = "../scenarios/baseline.toml"   # relative to this file, or a bundled name
                                               # ("baseline"): as `extends` (scenario_reference)
    replications = 4                           # per candidate, common random numbers
    days = 365                                 # optional overrides of the scenario's [simulation]
    consumers = 10000
    trials = 200                               # Optuna trials
    noise_scaled = true                        # optional: widen each target's scale by its
                                               # Monte Carlo noise (sim.calibration.fit)
    [confirm]                                  # optional: the estimate is the best of the `top`
    top = 8                                    # trials re-measured on `replications` fresh
    replications = 16                          # replications (top = 0: the best trial)
    [[parameters]]
    path = "trust.negative_weight"             # any dotted scenario path, as in sweeps
    low = 1.0
    high = 6.0
    prior = "uniform"                          # or "loguniform"
    [[start]]                                  # optional: points tried first (trials 0, 1, ...),
    trust.negative_weight = 2.5                # e.g. an earlier fit's estimate; a parameter a
                                               # point leaves out is drawn as in any trial
    [[targets]]
    evidence = "showrooming_digital"           # a named figure of `omnitrust evidence`, or:
    [[targets]]
    name = "aurora_trust_late"
    metric = "trust"
    brand = "Aurora"                           # default "all"
    channel = "all"
    days = [300, 365]                          # [first, last) day; default the whole horizon
    statistic = "mean"                         # mean | sum | last | max
    value = 0.52
    low = 0.50                                 # the band: a fit inside it counts as met
    high = 0.54

``[[validation]]`` entries have the fields of a target; they are measured at the estimate and
reported separately, never fitted. A sensitivity file has the same ``scenario``, ``[[parameters]]``
and sizes, ``method = "sobol" | "morris"``, ``samples = N`` and ``[[outputs]]``: the fields of a
target without value and band, plus an optional ``scenario`` (default the file's) and
``reference`` (another scenario file: the output is then scenario minus reference, with the same
parameters and random numbers in both). Every scenario named in either kind of file is found as
``extends`` finds its parent (`sim.scenario.loading.scenario_reference`): a file of that name next
to this file, else the bundled scenario of that name (``"baseline"`` or ``"baseline.toml"``).
"""

from __future__ import annotations

import math
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from ..analysis.evidence import TARGETS as EVIDENCE
from ..core.errors import ScenarioError, UserError, toml_literal
from ..experiments.design import format_validation_error, known_metrics, set_path
from ..scenario import Scenario
from ..scenario.loading import load_scenario, scenario_reference

POINT_BAND = 0.05
"""A published figure given as one number is met within +-5% of it (override with low/high)."""

Statistic = Literal["mean", "sum", "last", "max"]


class CalibrationError(UserError):
    """A bad calibration or sensitivity file (exit code 2, message only)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Parameter(_Strict):
    """One uncertain input: a dotted scenario path, its range and its prior over the range."""

    path: str = Field(..., min_length=1)
    low: float
    high: float
    prior: Literal["uniform", "loguniform"] = "uniform"

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.prior == "loguniform" and self.low <= 0:
            raise ValueError(f"prior = 'loguniform' needs low > 0 (got {self.low})")
        return self


class Output(_Strict):
    """A quantity the model produces: a named evidence figure, or a metric reduced over days."""

    name: str | None = None
    evidence: str | None = None
    metric: str | None = None
    brand: str = "all"
    channel: str = "all"
    days: tuple[int, int] | None = None
    statistic: Statistic = "mean"

    @model_validator(mode="after")
    def _one_kind(self) -> Output:
        if (self.evidence is None) == (self.metric is None):
            given = "both" if self.evidence is not None else "neither"
            raise ValueError(
                f"{given} given: give exactly one of `evidence = NAME` or `metric = NAME`"
            )
        if self.evidence is not None and self.evidence not in EVIDENCE:
            raise ValueError(f"unknown evidence {self.evidence!r}; allowed: {', '.join(EVIDENCE)}")
        if self.metric is not None and self.metric not in known_metrics():
            raise ValueError(
                f"unknown metric {self.metric!r}; allowed: {', '.join(sorted(known_metrics()))}"
            )
        if self.days is not None and not 0 <= self.days[0] < self.days[1]:
            raise ValueError(f"days = {list(self.days)}: need 0 <= first < last")
        if self.name is None:
            self.name = self.evidence or "_".join(
                x for x in (self.metric, self.brand, self.channel, self.statistic) if x != "all"
            )
        return self


class Target(Output):
    """An output with the value it should take and the band within which the fit counts as met."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    weight: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _band(self) -> Target:
        if self.evidence is not None:
            published = EVIDENCE[self.evidence]
            if self.value is None:
                self.value = (published.low + published.high) / 2
            if self.low is None and self.high is None:
                if published.low < published.high:
                    self.low, self.high = published.low, published.high
                else:
                    half = POINT_BAND * abs(self.value)
                    self.low, self.high = self.value - half, self.value + half
        if self.value is None or self.low is None or self.high is None:
            raise ValueError("a metric target needs `value`, `low` and `high`")
        if not self.low < self.high:
            raise ValueError(f"empty band: low ({self.low}) must be below high ({self.high})")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value ({self.value}) must lie in its band [{self.low}, {self.high}]")
        return self

    @property
    def scale(self) -> float:
        """Half the band, h: with ``noise_scaled = false`` a model value this far from ``value``
        scores 1; otherwise the distance's scale is sqrt(h^2 + sigma^2 / R) (`fit.noise_scales`)."""
        return (self.high - self.low) / 2


class ScenarioOutput(Output):
    """A sensitivity output: optionally on another scenario, or a difference to a reference."""

    scenario: str | None = None
    reference: str | None = None


class Posterior(_Strict):
    """ABC-SMC settings (pyabc) for the posterior around the fit."""

    population: int = Field(40, ge=5, le=100_000)
    generations: int = Field(4, ge=1, le=100)
    draws: int = Field(1000, ge=10, le=1_000_000)


class Confirm(_Strict):
    """Re-measuring the best trials before the estimate is chosen (against the winner's curse)."""

    top: int = Field(8, ge=0, le=10_000)  # trials re-measured; 0: the estimate is the best trial
    replications: int = Field(16, ge=1, le=10_000)  # fresh replications per re-measured trial


class _Common(_Strict):
    name: str | None = None
    scenario: str = Field(..., min_length=1)
    replications: int = Field(4, ge=1, le=10_000)
    days: int | None = Field(None, ge=1, le=3650)
    consumers: int | None = Field(None, ge=10, le=20_000_000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    parameters: list[Parameter] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _unique_paths(self) -> _Common:
        paths = [p.path for p in self.parameters]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"parameter paths must be unique; repeated: {', '.join(dup)}")
        return self


def _flatten(
    tree: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``{"journey": {"research_days": 2.78}}`` as ``{"journey.research_days": 2.78}``.

    TOML keeps a dotted key (``journey.research_days``) and a quoted one
    (``"journey.research_days"``) apart; both name the same parameter, so giving both is an error
    rather than one silently winning."""
    out = {} if out is None else out
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten(value, f"{path}.", out)
        elif path in out:
            raise ValueError(
                f"{path} is given twice, {toml_literal(out[path])} and {toml_literal(value)} (a "
                "dotted key and a quoted one name the same parameter); give it once"
            )
        else:
            out[path] = value
    return out


def _point(value: Any) -> Any:
    """A start point's nested tables (``journey.research_days = 2.78`` in TOML) as dotted paths."""
    if not isinstance(value, dict):
        raise ValueError(
            "not a table (allowed: each point a [[start]] table of parameter paths and numbers)"
        )
    return _flatten(value)


class CalibrationSpec(_Common):
    """A calibration file (see the module docstring)."""

    trials: int = Field(200, ge=1, le=1_000_000)
    batch: int = Field(8, ge=1, le=10_000)
    targets: list[Target] = Field(..., min_length=1)
    validation: list[Target] = Field(default_factory=list)
    posterior: Posterior = Field(default_factory=Posterior)
    confirm: Confirm = Field(default_factory=Confirm)
    noise_scaled: bool = True
    start: list[Annotated[dict[str, Any], BeforeValidator(_point)]] = Field(
        default_factory=list
    )  # points tried first: trials 0, 1, ...

    @field_validator("start", mode="before")
    @classmethod
    def _tables(cls, value: Any) -> Any:
        """``[start]`` (one table) where ``[[start]]`` (an array of tables) was meant."""
        if isinstance(value, dict):
            raise ValueError(
                "one [start] table (allowed: [[start]] tables, double brackets, one per point)"
            )
        return value


class SensitivitySpec(_Common):
    """A sensitivity file (see the module docstring)."""

    method: Literal["sobol", "morris"] = "sobol"
    samples: int = Field(64, ge=2, le=1_000_000)
    levels: int = Field(4, ge=2, le=100)
    bootstrap: int = Field(1000, ge=10, le=100_000)
    outputs: list[ScenarioOutput] = Field(..., min_length=1)


# ---------------------------------------------------------------------------------------------
@dataclass
class Loaded:
    """A validated file: its spec, its path, its base scenario with the size overrides applied
    (and the file it was read from, `scenario_reference`)."""

    spec: Any
    path: Path
    scenario: Scenario
    references: dict[str, Scenario]
    scenario_file: Path  # the base scenario's file: next to this one, or bundled
    aliases: dict[str, str] | None = None  # scenario path in the file -> key ("" = the main one)

    def key(self, rel: str | None) -> str:
        """The key of the scenario file ``rel`` (None or the main file's path: ``""``)."""
        return "" if rel is None else (self.aliases or {}).get(rel, rel)


def schema_field(path: str) -> FieldInfo:
    """The schema field a dotted scenario path names (brands addressed by name)."""
    model: Any = Scenario
    parts = path.split(".")
    i = 0
    field = None
    while i < len(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or parts[i] not in fields:
            raise KeyError(parts[i])
        field = fields[parts[i]]
        ann = field.annotation
        if typing.get_origin(ann) is list:  # a named list entry: skip the name
            (ann,) = typing.get_args(ann)
            i += 1
        model = ann
        i += 1
    assert field is not None
    return field


def bounds(field: FieldInfo) -> tuple[float, float, bool]:
    """``(low, high, low_open)`` of a schema field's ge/gt/le constraints (+-inf if none)."""
    low, high, low_open = -math.inf, math.inf, False
    for m in field.metadata:
        if getattr(m, "ge", None) is not None:
            low = m.ge
        if getattr(m, "gt", None) is not None:
            low, low_open = m.gt, True
        if getattr(m, "le", None) is not None:
            high = m.le
    return float(low), float(high), low_open


def _check_parameters(spec: _Common, scenario: Scenario, source: str) -> None:
    data = scenario.model_dump(mode="python")
    for i, p in enumerate(spec.parameters):
        where = f"parameters[{i}]"
        try:
            set_path(data, p.path, getattr_path(data, p.path))
            field = schema_field(p.path)
        except KeyError as exc:
            raise ScenarioError(
                f"not a parameter of the scenario: {exc.args[0]}",
                file=source,
                field=f"{where}.path",
                value=p.path,
                allowed="a dotted scenario path such as trust.negative_weight or "
                "brands.Aurora.policy.transparency",
            ) from None
        if field.annotation not in (float, int):
            raise ScenarioError(
                f"is a {getattr(field.annotation, '__name__', field.annotation)} field; "
                "only numbers can be calibrated",
                file=source,
                field=f"{where}.path",
                value=p.path,
                allowed="a numeric scenario parameter",
            )
        lo, hi, lo_open = bounds(field)
        allowed = f"within the schema's range of {p.path}: {'(' if lo_open else '['}{lo:g}, {hi:g}]"
        if p.low < lo or (lo_open and p.low <= lo):
            raise ScenarioError(
                "below the schema's range", file=source, field=f"{where}.low", value=p.low,
                allowed=allowed,
            )  # fmt: skip
        if p.high > hi:
            raise ScenarioError(
                "above the schema's range", file=source, field=f"{where}.high", value=p.high,
                allowed=allowed,
            )  # fmt: skip


def _check_start(spec: CalibrationSpec, source: str) -> None:
    """Every start point names parameters of the file, with numbers inside their ranges."""
    params = {p.path: p for p in spec.parameters}
    if len(spec.start) > spec.trials:
        raise ScenarioError(
            f"{len(spec.start)} start points for {spec.trials} trials", file=source,
            field="start", value=f"{len(spec.start)} points",
            allowed=f"at most `trials` ({spec.trials}) points",
        )  # fmt: skip
    for i, point in enumerate(spec.start):
        if not point:
            raise ScenarioError(
                "an empty start point", file=source, field=f"start[{i}]", value={},
                allowed="parameter paths of the file's [[parameters]] with values",
            )  # fmt: skip
        for path, value in point.items():
            where = f"start[{i}].{path}"
            if path not in params:
                raise ScenarioError(
                    "not a parameter of this file", file=source, field=where, value=value,
                    allowed=f"one of the [[parameters]] paths: {', '.join(params)}",
                )  # fmt: skip
            p = params[path]
            number = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and not math.isnan(value)
            )  # nan fails every comparison: not a number, not out of range
            if not number or not p.low <= value <= p.high:
                raise ScenarioError(
                    "not a number" if not number else "outside the parameter's range",
                    file=source, field=where, value=value,
                    allowed=f"a number from the parameter's low to its high, [{p.low:g}, {p.high:g}]",
                )  # fmt: skip


def getattr_path(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a scenario dict (brands by name); KeyError if none."""
    cur: Any = data
    for part in path.split("."):
        if isinstance(cur, list):
            named = {b.get("name"): b for b in cur if isinstance(b, dict)}
            if part not in named:
                raise KeyError(f"no entry named {part!r}; allowed: {', '.join(map(str, named))}")
            cur = named[part]
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            allowed = ", ".join(sorted(cur)) if isinstance(cur, dict) else "(a value)"
            raise KeyError(f"{part!r} is not a field here; allowed: {allowed}")
    return cur


def _check_outputs(outputs: list, key: str, scenarios: dict[str, Scenario], source: str) -> None:
    from ..core.catalogue import CHANNELS

    for i, o in enumerate(outputs):
        where = f"{key}[{i}]"
        for name in (getattr(o, "scenario", None), getattr(o, "reference", None)):
            scn = scenarios.get(name or "", scenarios[""])
            if o.metric is None:
                continue
            brands = [b.name for b in scn.brands]
            if o.brand not in (*brands, "all"):
                raise ScenarioError(
                    f"not a brand of scenario {scn.name!r}", file=source, field=f"{where}.brand",
                    value=o.brand, allowed=f"one of {', '.join(brands)}, all",
                )  # fmt: skip
            if o.channel not in (*CHANNELS, "all"):
                raise ScenarioError(
                    "not a channel", file=source, field=f"{where}.channel", value=o.channel,
                    allowed=f"one of {', '.join(CHANNELS)}, all",
                )  # fmt: skip
            days = scn.simulation.days
            if o.days is not None and o.days[1] > days:
                raise ScenarioError(
                    f"ends after the horizon ({days} days)", file=source, field=f"{where}.days",
                    value=list(o.days), allowed=f"[first, last) with last <= {days}",
                )  # fmt: skip


def _read(path: Path, model: type[BaseModel], kind: str) -> BaseModel:
    if path.is_dir():
        raise CalibrationError(f"{path}: is a directory, not a {kind} file")
    if not path.is_file():
        raise CalibrationError(f"{path}: no such {kind} file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CalibrationError(format_validation_error(str(path), exc, model)) from None


def _scenario(file: Path, spec: _Common) -> Scenario:
    """The scenario ``file`` (from `scenario_reference`) with the spec's size overrides."""
    return load_scenario(file, days=spec.days, consumers=spec.consumers, seed=spec.seed)


def load_calibration(path: str | Path) -> Loaded:
    """Read and validate a calibration file, its scenario, parameters and targets."""
    path = Path(path)
    spec = _read(path, CalibrationSpec, "calibration")
    assert isinstance(spec, CalibrationSpec)
    scenario_file = scenario_reference(spec.scenario, path, "scenario")
    scenario = _scenario(scenario_file, spec)
    _check_parameters(spec, scenario, str(path))
    _check_start(spec, str(path))
    _check_outputs(spec.targets, "targets", {"": scenario}, str(path))
    _check_outputs(spec.validation, "validation", {"": scenario}, str(path))
    names = [t.name for t in [*spec.targets, *spec.validation]]
    dup = sorted({str(n) for n in names if names.count(n) > 1})
    if dup:
        raise CalibrationError(
            f"{path}: target names must be unique; repeated: {', '.join(dup)} (set `name = ...`)"
        )
    return Loaded(spec, path, scenario, {}, scenario_file)


def load_sensitivity(path: str | Path) -> Loaded:
    """Read and validate a sensitivity file, its scenarios, parameters and outputs."""
    path = Path(path)
    spec = _read(path, SensitivitySpec, "sensitivity")
    assert isinstance(spec, SensitivitySpec)
    scenario_file = scenario_reference(spec.scenario, path, "scenario")
    scenario = _scenario(scenario_file, spec)
    scenarios = {"": scenario}
    aliases = {spec.scenario: ""}
    keys = {scenario_file.resolve(): ""}  # each file measured once, however it is written
    for i, o in enumerate(spec.outputs):
        for field, rel in (("scenario", o.scenario), ("reference", o.reference)):
            if rel is None or rel in aliases:
                continue
            target = scenario_reference(rel, path, f"outputs[{i}].{field}")
            key = keys.setdefault(target.resolve(), rel)
            aliases[rel] = key
            if key == rel:
                scenarios[rel] = _scenario(target, spec)
    for rel, scn in scenarios.items():
        _check_parameters(spec, scn, f"{path} (scenario {rel or spec.scenario})")
    by_name = {"": scenario, **{rel: scenarios[key] for rel, key in aliases.items()}}
    _check_outputs(spec.outputs, "outputs", by_name, str(path))
    names = [o.name for o in spec.outputs]
    dup = sorted({str(n) for n in names if names.count(n) > 1})
    if dup:
        raise CalibrationError(
            f"{path}: output names must be unique; repeated: {', '.join(dup)} (set `name = ...`)"
        )
    references = {k: v for k, v in scenarios.items() if k}
    return Loaded(spec, path, scenario, references, scenario_file, aliases)
