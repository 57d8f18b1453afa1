"""Reading scenario files: TOML, ``extends``, validation, and errors a user can act on.

A scenario file may start from another with ``extends = "other.toml"``: a path relative to the
file's folder or, when no such file is there and the value is a bare name, a bundled scenario
(``extends = "baseline"`` or ``"baseline.toml"``, as on the command line: `scenario_path`).
Files are merged parent first:

* tables merge key by key, recursively;
* ``[[brands]]`` merge by ``name``: a child entry naming an existing brand overrides only the keys
  it sets (``[brands.policy]`` included); a new name is appended, in order;
* every other list (``events``, ``data_collection``, ...) is replaced by the child's;
* ``name`` is the child's own ``name``, or else the child's file stem (never the parent's);
* a child that sets ``policy_from_day`` (and no ``policy_before``) gets ``policy_before``: the
  parent's brand policies, in force until that day (docs/ODD.md, "Policy changes at a known
  moment").

Validation is strict about TOML types (a quoted "0.5" is not a number; an integer is accepted
where a number is expected). Every problem is reported at once as a `ScenarioErrors`: pydantic's,
and those of the rules across keys (`sim.scenario.schema.RULES`), which run again on the file's
values when pydantic stopped them, each skipping only values that are themselves bad. Each error
names the file that sets the value, the field path
(``brands[1] (name="Beta").policy.transparency``), the value and what is allowed, derived from
the schema's bounds, units and choices.
"""

from __future__ import annotations

import copy
import difflib
import numbers
import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ..core.errors import NO_VALUE, ScenarioError, ScenarioErrors, toml_literal
from . import Scenario
from .paramdoc import interval, literal_values
from .schema import INVALID, RULES, Get

EXTENDS = "extends"
MERGE_BY_NAME = ("brands",)
POLICY_FROM_DAY, POLICY_BEFORE = "policy_from_day", "policy_before"
OVERRIDES = " (with simulation overrides)"  # how values given as overrides are attributed

Layer = tuple[str, dict[str, Any]]  # (file as shown to the user, its table without `extends`)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
def load_scenario(path: str | Path, **simulation_overrides: Any) -> Scenario:
    """Read, merge ``extends`` and validate a scenario file.

    ``simulation_overrides`` replace keys of ``[simulation]`` (days, consumers, replications,
    seed); ``None`` values are ignored, so CLI options that were not given can be passed as is.
    Raises `ScenarioError` (one problem: missing file, TOML syntax, ``extends``) or
    `ScenarioErrors` (every validation problem at once). A bare name such as ``"baseline"`` that
    is not a file here is a bundled scenario (`bundled_scenarios`).
    """
    path = scenario_path(path)
    layers = _layers(path)
    data = _merge_layers(layers)
    _fill_policy_before(data, layers)
    overrides = {
        k: int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v
        for k, v in simulation_overrides.items()
        if v is not None
    }  # numpy integers from a design or a sweep are integers too
    if overrides:
        section = data.setdefault("simulation", {})
        if isinstance(section, dict):
            section.update(overrides)
        layers = [(f"{path}{OVERRIDES}", {"simulation": dict(overrides)}), *layers]
    return validate_scenario(data, layers)


def with_simulation(scenario: Scenario, **simulation: Any) -> Scenario:
    """`Scenario.with_overrides`: a copy with `simulation` fields replaced (None values are
    ignored), re-validated; a value out of range (a command's ``--days 0``, ``--seed -1``)
    raises `ScenarioErrors` naming the scenario, the field, the value and what is allowed, as a
    file's would, instead of pydantic's error."""
    try:
        return scenario.with_overrides(**simulation)
    except ValidationError as exc:
        given = {k: v for k, v in simulation.items() if v is not None}
        data = scenario.model_dump(mode="python")
        data["simulation"].update(given)
        label = f"scenario {scenario.name!r}{OVERRIDES}"
        layers = [(label, {"simulation": given}), (label, data)]
        errors = [_scenario_error(err, data, layers) for err in exc.errors()]
        raise ScenarioErrors(errors, file=label) from None


def apply_overrides(
    scenario: Scenario, overrides: dict[str, Any], source: str = "overrides"
) -> Scenario:
    """A copy of ``scenario`` with values set at dotted paths, re-validated.

    Paths are those of experiment files (`set_path`): ``"brands.Aurora.policy.transparency"``,
    ``"world.attack_pressure"``, ``"simulation.consumers"``. A path that does not exist raises
    `ScenarioError`; a value out of range raises `ScenarioErrors` naming ``source``.
    """
    if not overrides:
        return scenario
    data = scenario.model_dump(mode="python")
    for path, value in overrides.items():
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)  # numpy integers from a grid are integers too
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = float(value)
        try:
            set_path(data, path, value)
        except KeyError as exc:
            raise ScenarioError(f"{source}: path {path!r}: {exc.args[0]}") from None
    return validate_scenario(data, source)


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at the dotted ``path`` of a scenario dict (brands addressed by name).

    Raises ``KeyError`` with a message naming the allowed keys when the path does not exist.
    """
    parts = path.split(".")
    cur: Any = data
    walked: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(cur, list):
            names = [b.get("name") for b in cur if isinstance(b, dict)]
            if part not in names:
                raise KeyError(
                    f"no {'.'.join(walked)} entry named {part!r}; "
                    f"allowed: {', '.join(map(str, names))}"
                )
            if last:
                raise KeyError(f"{path!r} names a whole {walked[-1]} entry; name a field in it")
            cur = cur[names.index(part)]
        elif isinstance(cur, dict):
            if part not in cur:
                where = ".".join(walked) or "the scenario"
                raise KeyError(
                    f"{part!r} is not a field of {where}; allowed: {', '.join(sorted(cur))}"
                )
            if last:
                cur[part] = value
                return
            cur = cur[part]
        else:
            raise KeyError(f"{'.'.join(walked)} is a value, not a section")
        walked.append(part)


def bundled_scenarios() -> dict[str, Path]:
    """The scenarios shipped with the package (the repository's ``scenarios/`` folder, linked as
    ``sim/scenarios`` and packaged as data), by name."""
    from importlib.resources import files

    folder = Path(str(files("sim") / "scenarios"))
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def scenario_path(path: str | Path, folder: Path = Path(".")) -> Path:
    """``path`` (relative to ``folder``), or the bundled scenario it names when it is a bare name
    (``baseline`` or ``baseline.toml``, no folder part) and no file of exactly that name exists
    there (a ``baseline.toml`` there is not ``baseline``: in calibration/ it is a calibration file,
    and a name that meant the bundled scenario must not change meaning when a file appears).

    The one resolver of scenario names: the command line's arguments (relative to the current
    folder) and every name written in a file (`scenario_reference`: ``extends``, a calibration's
    ``scenario``, an experiment's ``base``, relative to the file that says it) go through it, so a
    file of that name wins over the bundled one.
    """
    path = Path(path)
    here = folder / path
    if here.is_file() or path.parent != Path("."):  # (a folder of that name is not a scenario)
        return here
    return bundled_scenarios().get(path.stem if path.suffix == ".toml" else path.name, here)


def scenario_reference(value: str, file: str | Path, field: str) -> Path:
    """The scenario file that ``value``, read from ``field`` of ``file``, names.

    The one resolver of scenario names written in files: a scenario's ``extends``, a calibration
    or sensitivity file's ``scenario`` (and an output's ``scenario`` and ``reference``), an
    experiment's ``base``. As on the command line (`scenario_path`) but relative to the folder of
    ``file``: a file of that name there wins; else a bare name (``"baseline"`` or
    ``"baseline.toml"``) is the bundled scenario; a folder of that name is not a scenario. The
    path is normalised (``calibration/../scenarios/baseline.toml`` ->
    ``scenarios/baseline.toml``), absolute only if ``file`` is or the scenario is bundled.

    Raises `ScenarioError` naming ``file``, ``field`` and ``value``, where it looked and the
    bundled names when no such file exists.
    """
    target = scenario_path(value, Path(file).parent)
    if ".." in target.parts:  # shown and recorded without ``..``, as the OS resolves it (symlinks)
        resolved = target.resolve()
        target = resolved if target.is_absolute() else Path(os.path.relpath(resolved))
    if target.is_file():
        # an experiment, calibration or sensitivity file named here: the error names this line
        _not_another_kind_of_file(_read_toml(target), target, (Path(file), field, value))
        return target
    bare = Path(value).parent == Path(".")
    close = difflib.get_close_matches(Path(value).stem, list(bundled_scenarios()), n=1)
    raise ScenarioError(
        f"no such scenario file: {target}; looked in {target.parent}"
        + (" and among the bundled scenarios" if bare else "")
        + (f"; did you mean {close[0]!r}?" if bare and close else ""),
        file=file,
        field=field,
        value=value,
        allowed=_REFERENCE_ALLOWED + _bundled_names(),
    )


def load_toml_with_extends(path: str | Path) -> dict[str, Any]:
    """The scenario file at ``path`` as one table, its ``extends`` chain merged and removed."""
    return _merge_layers(_layers(scenario_path(path)))


def validate_scenario(data: dict[str, Any], layers: list[Layer] | str | Path) -> Scenario:
    """Validate a merged scenario table, turning pydantic's errors into `ScenarioErrors`.

    ``layers`` says where values come from: the files of an ``extends`` chain, child first, as
    returned by the loader, or simply the one file name to report.
    """
    if not isinstance(layers, list):
        layers = [(str(layers), data)]
    try:
        return Scenario.model_validate(data, strict=True)
    except ValidationError as exc:
        found = exc.errors()
    # pydantic runs a rule across keys (a model validator) only once every field of its model is
    # valid, and it stops at the rule's first problem. So the rules run again here, on the file's
    # values, each reading only the values that passed: every problem is reported in one pass.
    fields = [err for err in found if not _from_rule(err)]
    bad = [tuple(_locate(tuple(err["loc"]), data).keys) for err in fields]
    broken = [
        {"type": "value_error", "loc": loc, "msg": problem, "input": {}}
        for loc, rule in RULES
        for problem in rule(_rule_getter(data, bad, loc))
    ]
    errors = [_scenario_error(err, data, layers) for err in (fields + broken or found)]
    raise ScenarioErrors(errors, file=_main_file(layers)) from None


def stored_definitions(folder: str | Path) -> dict[str, Any]:
    """The scenarios a results folder stores (``scenarios.json``: name -> definition, as the run
    validated it), raw; empty when the folder has none. An unreadable or damaged file is one
    line naming it (`UserError`)."""
    from ..core.storage import read_json

    path = Path(folder) / "scenarios.json"
    if not path.exists():
        return {}
    data = read_json(path, "the scenarios' definitions")
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ScenarioError(
            "not the scenarios' definitions (a JSON object of scenario name -> definition is "
            "expected); the file was changed after the run wrote it: run it again",
            file=path,
        )
    return data


def stored_scenarios(folder: str | Path) -> dict[str, Scenario]:
    """`stored_definitions`, each validated (`scenario_from_record`)."""
    path = Path(folder) / "scenarios.json"
    return {
        name: scenario_from_record(spec, f"{path} [{name}]")
        for name, spec in stored_definitions(folder).items()
    }


def scenario_from_record(spec: Any, where: str) -> Scenario:
    """A scenario stored by a run (``scenarios.json``, a manifest's ``definition``): validated as
    written, so that a hand-edited or damaged record is one line naming ``where`` and the field,
    not pydantic's traceback."""
    try:
        return Scenario.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ScenarioError(
            f"{err['msg']}{more}; the record was changed after the run wrote it: run it again",
            file=where,
            field=".".join(str(k) for k in err["loc"]) or None,
            value=err.get("input", NO_VALUE) if err["loc"] else NO_VALUE,
        ) from None


def deep_merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``child`` laid over ``parent`` (neither is modified): see the module docstring."""
    merged = copy.deepcopy(parent)
    for key, value in child.items():
        old = merged.get(key)
        if key in MERGE_BY_NAME and isinstance(old, list) and isinstance(value, list):
            merged[key] = _merge_by_name(old, value)
        elif isinstance(old, dict) and isinstance(value, dict):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# ---------------------------------------------------------------------------------------------
# Reading and merging
# ---------------------------------------------------------------------------------------------
def _read_toml(path: Path) -> dict[str, Any]:
    """One TOML file as a dict; every way it can fail is a `ScenarioError` naming the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError("no such scenario file" + _bundled_names(), file=path) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", file=path) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason})", file=path) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", text, flags=re.S)
        if m:
            raise ScenarioError(
                f"invalid TOML: {m[1]}", file=path, line=int(m[2]), column=int(m[3])
            ) from None
        raise ScenarioError(f"invalid TOML: {text}", file=path) from None


_REFERENCE_ALLOWED = (
    'a path relative to this file\'s folder, e.g. "baseline.toml", or the name of a bundled '
    'scenario, e.g. "baseline"'
)


def _bundled_names() -> str:
    """``"; bundled names: a, b, ..."`` (empty when the package ships none)."""
    names = ", ".join(bundled_scenarios())
    return f"; bundled names: {names}" if names else ""


def _layers(path: Path) -> list[Layer]:
    """The file and its ``extends`` ancestors, child first, each without its ``extends`` key."""
    layers: list[Layer] = []
    chain: list[Path] = []
    current = path
    while True:
        chain.append(current)
        raw = _read_toml(current)
        if current == path:  # an ancestor was checked by `scenario_reference`, naming `extends`
            _not_another_kind_of_file(raw, current)
        parent = raw.pop(EXTENDS, None)
        layers.append((str(current), raw))
        if parent is None:
            return layers
        if not isinstance(parent, str) or not parent:
            raise ScenarioError(
                "must name another scenario file",
                file=current,
                field=EXTENDS,
                value=parent,
                allowed=_REFERENCE_ALLOWED,
            )
        target = scenario_reference(parent, current, EXTENDS)
        if any(target.resolve() == seen.resolve() for seen in chain):
            cycle = " -> ".join(str(p) for p in [*chain, target])
            raise ScenarioError(
                f"extends cycle: {cycle}", file=current, field=EXTENDS, value=parent
            )
        current = target


# The keys that make a file an experiment (`sim.experiments.design.Experiment` requires
# ``base``), a calibration (`sim.calibration.spec.CalibrationSpec`: ``scenario``, ``parameters``,
# ``targets``) or a sensitivity file (`SensitivitySpec`: ``scenario``, ``parameters``,
# ``outputs``); no scenario has them (tests/test_loading.py checks both).
_OTHER_KINDS = (
    ({"base"}, "an experiment file (a design over a base scenario)", "omnitrust sweep {}"),
    ({"scenario", "parameters", "targets"}, "a calibration file", "omnitrust calibrate {} --out DIR"),
    ({"scenario", "parameters", "outputs"}, "a sensitivity file", "omnitrust sensitivity {} --out DIR"),
)  # fmt: skip
_SCENARIO_SECTIONS = set(Scenario.model_fields) - {"name", "description"}


def _not_another_kind_of_file(
    raw: dict[str, Any], path: Path, referrer: tuple[Path, str, str] | None = None
) -> None:
    """An experiment, calibration or sensitivity file given where a scenario is expected: one
    line that says which command reads it, instead of a line per key it does not share with a
    scenario. When ``path`` was named by ``referrer = (file, field, value)`` (a scenario's
    ``extends``, a calibration file's ``scenario``, an experiment's ``base``), the line names
    that file and field, the place to fix."""
    if raw.keys() & _SCENARIO_SECTIONS:
        return  # a scenario (perhaps with a stray key, reported as such)
    for keys, kind, command in _OTHER_KINDS:
        if not keys <= raw.keys():
            continue
        if referrer is not None:
            file, field, value = referrer
            raise ScenarioError(
                f"{path} is {kind}, not a scenario{' to extend' if field == EXTENDS else ''}; "
                f"it runs with `{command.format(path)}`",
                file=file,
                field=field,
                value=value,
                allowed=_REFERENCE_ALLOWED,
            )
        raise ScenarioError(
            f"this is {kind}, not a scenario; run it with `{command.format(path)}`", file=path
        )


def _merge_layers(layers: list[Layer]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for _, raw in reversed(layers):
        merged = deep_merge(merged, raw)
    child_file, child = layers[0]
    merged["name"] = child.get("name", Path(child_file).stem)
    return merged


def _fill_policy_before(data: dict[str, Any], layers: list[Layer]) -> None:
    """A file that sets ``policy_from_day`` (and no ``policy_before``) over a parent: before the
    change its brands follow the parent's policies, as the parent runs them.

    The file is the child-most layer ``k`` that sets the day, so a file that extends a policy
    change (and sets neither key) inherits it; a ``policy_before`` set at or above ``k`` wins.
    """
    k = next((i for i, (_, raw) in enumerate(layers) if POLICY_FROM_DAY in raw), None)
    if k is None or k + 1 >= len(layers) or any(POLICY_BEFORE in raw for _, raw in layers[: k + 1]):
        return
    parent = _merge_layers(layers[k + 1 :])
    brands = parent.get("brands")
    data[POLICY_BEFORE] = {
        b["name"]: copy.deepcopy(b.get("policy", {}))
        for b in (brands if isinstance(brands, list) else [])
        if isinstance(b, dict) and isinstance(b.get("name"), str)
    }


def _merge_by_name(parent: list[Any], child: list[Any]) -> list[Any]:
    merged = copy.deepcopy(parent)
    index = {e.get("name"): k for k, e in enumerate(merged) if isinstance(e, dict)}
    for entry in child:
        name = entry.get("name") if isinstance(entry, dict) else None
        if name is not None and name in index:
            merged[index[name]] = deep_merge(merged[index[name]], entry)
        else:
            merged.append(copy.deepcopy(entry))
    return merged


# ---------------------------------------------------------------------------------------------
# Turning pydantic errors into located, explained ScenarioErrors
# ---------------------------------------------------------------------------------------------
_BOUND_WORDS = {
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
}
_TYPE_WORDS = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string (in double quotes)",
    "bool_type": "must be true or false",
    "list_type": "must be a list [...]",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table",
    "finite_number": "must be a finite number",
}


class _Location:
    """Where a pydantic error points: the path shown to the user and the schema behind it."""

    def __init__(self) -> None:
        self.keys: list[str | int] = []  # the path in the file: keys and list indices
        self.shown = ""  # the same path as shown: brands[1] (name="Beta").policy.transparency
        self.field: FieldInfo | None = None  # the field the path ends in, if any
        self.annotation: Any = Scenario  # the type expected at the end of the path
        self.model: type[BaseModel] | None = Scenario  # innermost model on the path

    def key(self, name: str, field: FieldInfo | None, annotation: Any) -> None:
        self.keys.append(name)
        self.shown += f".{name}" if self.shown else name
        self.field, self.annotation = field, annotation

    def index(self, k: int, note: str = "") -> None:
        self.keys.append(k)
        self.shown += f"[{k}]{note}"


def _locate(loc: tuple[str | int, ...], data: dict[str, Any]) -> _Location:
    """Walk pydantic's ``loc`` through the schema and the data (skipping union tags)."""
    where = _Location()
    node: Any = data
    for part in loc:
        annotation = _unwrap(where.annotation)
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            note = f" (name={toml_literal(name)})" if where.keys == ["brands"] and name else ""
            where.index(part, note)
            args = typing.get_args(annotation)
            where.annotation = args[0] if typing.get_origin(annotation) is list and args else Any
            where.field = None
            continue
        members = _union_members(annotation)
        if members and part in members:  # a discriminator tag pydantic inserts: not in the file
            where.annotation = where.model = members[part]
            continue
        model = annotation if _is_model(annotation) else None
        field = model.model_fields.get(part) if model is not None else None
        where.model = model
        where.key(part, field, field.annotation if field is not None else Any)
        node = node.get(part) if isinstance(node, dict) else None
    annotation = _unwrap(where.annotation)
    if _is_model(annotation):
        where.model = annotation
    return where


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> ``X``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _union_members(annotation: Any) -> dict[str, type[BaseModel]]:
    """For a union of models discriminated by ``kind``: tag -> model (else empty)."""
    members: dict[str, type[BaseModel]] = {}
    for member in typing.get_args(annotation):
        if _is_model(member) and "kind" in member.model_fields:
            for tag in literal_values(member.model_fields["kind"].annotation) or ():
                members[tag] = member
    return members


def _allowed(annotation: Any, field: FieldInfo | None) -> str | None:
    """What the schema accepts at a field, in words: type, range, unit or choices."""
    annotation = _unwrap(annotation)
    members = typing.get_args(annotation)
    if len(members) == 2 and type(None) in members:  # an optional field: X | None
        inner = _allowed(next(m for m in members if m is not type(None)), field)
        return f"{inner}; or leave it out" if inner else None
    choices = literal_values(annotation)
    if choices is not None:
        many = typing.get_origin(annotation) is list
        return ("a list of any of: " if many else "one of: ") + ", ".join(choices)
    if _union_members(annotation):
        return "kind one of: " + ", ".join(_union_members(annotation))
    if _is_model(annotation):
        return "a table with keys: " + ", ".join(annotation.model_fields)
    item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None
    if _is_model(item):
        return "a list of tables with keys: " + ", ".join(item.model_fields)
    words = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    kind = words.get(annotation, "a list" if typing.get_origin(annotation) is list else None)
    if kind is None:
        return None
    text = f"allowed: {kind}"
    if field is not None:
        bounds = interval(field)
        if bounds:
            text += f" in {bounds}"
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("unit"):
            text += f", unit: {extra['unit']}"
    return text


def _scenario_error(err: Any, data: dict[str, Any], layers: list[Layer]) -> ScenarioError:
    kind, loc, ctx = err["type"], tuple(err["loc"]), err.get("ctx") or {}
    value = err.get("input")
    message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    allowed: str | None = None
    has_value = True

    if kind == "extra_forbidden":
        where = _locate(loc[:-1], data)
        unknown = str(loc[-1])
        keys = list(where.model.model_fields) if where.model is not None else []
        where.key(unknown, None, Any)
        close = difflib.get_close_matches(unknown, keys, n=1, cutoff=0.6)
        message = "unknown key" + (f"; did you mean {close[0]!r}?" if close else "")
        section = where.shown.rsplit(".", 1)[0] if "." in where.shown else "the scenario"
        allowed = f"allowed keys in {section}: {', '.join(keys)}"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        where = _locate(loc, data)
        members = _union_members(_unwrap(where.annotation))
        where.key("kind", None, Any)
        allowed = "kind one of: " + ", ".join(members)
        if kind == "union_tag_invalid":
            value, message = ctx.get("tag"), "unknown event kind"
        else:
            has_value, message = False, "missing key `kind`"
    else:
        where = _locate(loc, data)
        if kind == "missing":
            has_value, message = False, "required key missing"
            allowed = _allowed(where.annotation, where.field)
        elif kind in _BOUND_WORDS:
            bound, op = _BOUND_WORDS[kind]
            message = f"must be {op} {_number(ctx.get(bound))}"
            allowed = _allowed(where.annotation, where.field)
        elif kind in _TYPE_WORDS:
            message = _TYPE_WORDS[kind]
            allowed = _allowed(where.annotation, where.field)
        elif kind == "literal_error":
            message = "not an allowed value"
            allowed = _allowed(where.annotation, where.field)
        elif kind in ("value_error", "assertion_error") and where.field is None:
            # a rule across several keys (a model validator): point at the key it is about
            where, value, has_value = _rule_target(message, where, data)
            message = re.sub(r"^\w+(\[\d+\]\.\w+)? = .*? (?=is (not|after) )", "", message)
        elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
            message = message[0].lower() + message[1:]
    if not has_value or (isinstance(value, dict) and kind not in _TYPE_WORDS):
        value = NO_VALUE
    return ScenarioError(
        message,
        file=_origin(where.keys, data, layers),
        field=where.shown or None,
        value=value,
        allowed=allowed,
    )


def _rule_target(
    message: str, where: _Location, data: dict[str, Any]
) -> tuple[_Location, Any, bool]:
    """For a model-level rule, the key it is about when its message says (else the section).

    Messages that start with a path and a value (``events[0].brand = 'Zed' is not ...``) locate
    themselves; a repeated brand name is located at the later brand that repeats it.
    """
    m = re.match(r"(\w+)\[(\d+)\]\.(\w+) = ", message)
    if m:
        target = _locate((*where.keys, m[1], int(m[2]), m[3]), data)
        return target, _value_at(data, target.keys), True
    m = re.match(r"(\w+) = ('([^']*)')?", message)
    if m and not where.keys and m[1] in Scenario.model_fields:  # a top-level key
        table = data.get(m[1])
        keys = (m[1], m[3]) if isinstance(table, dict) and m[3] in table else (m[1],)
        target = _locate(keys, data)
        return target, _value_at(data, target.keys), True
    m = re.search(r"brand names must be unique; repeated: (.+)$", message)
    brands = data.get("brands")
    if m and isinstance(brands, list):
        repeated = {n.strip() for n in m[1].split(",")}
        seen: set[str] = set()
        for k, b in enumerate(brands):
            name = b.get("name") if isinstance(b, dict) else None
            if name in repeated and name in seen:
                return _locate(("brands", k, "name"), data), name, True
            seen.add(name)
    return where, None, False


def _from_rule(err: Any) -> bool:
    """Whether a pydantic error is a rule's (`sim.scenario.schema.RULES`), raised by the model
    validator of the rule's section."""
    return err["type"] in ("value_error", "assertion_error") and tuple(err["loc"]) in _RULE_LOCS


_RULE_LOCS = {loc for loc, _ in RULES}


def _rule_getter(data: dict[str, Any], bad: list[tuple], root: tuple[str, ...]) -> Get:
    """A rule's getter over the file's values (``data``, merged), relative to ``root``: a key the
    file leaves out has its schema default; a value at or under a location in ``bad`` (where
    validation failed) is `INVALID`."""

    def get(*path: str | int) -> Any:
        full = (*root, *path)
        if any(full[: len(b)] == b for b in bad):
            return INVALID
        node: Any = data
        annotation: Any = Scenario
        for part in full:
            node, annotation = _step(node, annotation, part)
            if node is INVALID:
                break
        return node

    return get


def _step(node: Any, annotation: Any, part: str | int) -> tuple[Any, Any]:
    """One step of `_rule_getter`: the value at ``part`` of ``node`` and its expected type."""
    annotation = _unwrap(annotation)
    if isinstance(part, int):
        if not isinstance(node, list) or not 0 <= part < len(node):
            return INVALID, None
        item = node[part]
        args = typing.get_args(annotation)
        inner = _unwrap(args[0]) if typing.get_origin(annotation) is list and args else None
        members = _union_members(inner)
        if members:  # an event: its model is the one its `kind` names
            inner = members.get(item.get("kind")) if isinstance(item, dict) else None
        return item, inner
    if isinstance(node, BaseModel):  # a section the file leaves out: the schema's defaults
        return getattr(node, part, INVALID), None
    if not isinstance(node, dict):
        return INVALID, None
    field = annotation.model_fields.get(part) if _is_model(annotation) else None
    if part in node:
        return node[part], (field.annotation if field is not None else None)
    if field is not None and not field.is_required():
        return field.get_default(call_default_factory=True), field.annotation
    return INVALID, None


def _number(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _value_at(data: Any, keys: list[str | int]) -> Any:
    for key in keys:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _origin(keys: list[str | int], data: dict[str, Any], layers: list[Layer]) -> str:
    """The first file of the ``extends`` chain (child first) that sets the key at ``keys``.

    Brands are matched by name (they merge by name); other lists by position (the child's list
    replaces the parent's). When no file sets the key (e.g. a missing key), the child is named.
    """
    for depth in range(len(keys), 0, -1):
        for file, raw in layers:
            if _sets(raw, keys[:depth], data):
                return file
    return _main_file(layers)


def _main_file(layers: list[Layer]) -> str:
    """The file that was loaded (the child of the chain), skipping the overrides layer."""
    return next(file for file, _ in layers if not file.endswith(OVERRIDES))


def _sets(raw: Any, keys: list[str | int], merged: Any) -> bool:
    for key in keys:
        if isinstance(key, int):
            if not isinstance(raw, list) or not isinstance(merged, list) or key >= len(merged):
                return False
            entry = merged[key]
            name = entry.get("name") if isinstance(entry, dict) else None
            if name is not None and all(isinstance(e, dict) for e in raw):
                matches = [e for e in raw if e.get("name") == name]
                if not matches:
                    return False
                raw = matches[0]
            elif key < len(raw):
                raw = raw[key]
            else:
                return False
        else:
            if not isinstance(raw, dict) or key not in raw:
                return False
            raw = raw[key]
            merged = merged.get(key) if isinstance(merged, dict) else None
            continue
        merged = entry
    return True


# ---------------------------------------------------------------------------------------------
# JSON Schema for editors
# ---------------------------------------------------------------------------------------------
def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file, for editors (taplo, Even Better TOML).

    The pydantic schema of `Scenario`, plus the ``extends`` key; ``brands`` is required only in a
    file that extends nothing. Each parameter's unit and source go into its description, so that
    editors show them on hover.
    """
    schema = Scenario.model_json_schema(mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "omnitrust scenario",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    schema["properties"][EXTENDS] = {
        "type": "string",
        "description": "Another scenario file to start from, relative to this one's folder, or "
        "a bundled scenario's name (e.g. \"baseline\") when no such file is there; this file's "
        "tables merge over it ([[brands]] by name, other lists replaced).",
    }
    schema["required"] = [k for k in schema.get("required", []) if k != "brands"]
    schema["if"] = {"not": {"required": [EXTENDS]}}
    schema["then"] = {"required": ["brands"]}
    for definition in [schema, *schema.get("$defs", {}).values()]:
        for prop in definition.get("properties", {}).values():
            unit, source = prop.get("unit"), prop.get("source")
            if unit or source:
                text = " ".join(x for x in (prop.get("description"), source) if x)
                prop["description"] = f"{text} [{unit}]" if unit else text
    return schema
