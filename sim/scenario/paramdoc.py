"""The parameter tables of docs/PARAMETERS.md, generated from the scenario schema.

Every scenario parameter carries its default, unit, allowed range, definition, source or
rationale, and basis (how the default was set: `sim.scenario.schema.BASES`) in its pydantic field
(`sim.scenario.schema.P`). `parameters_markdown` turns that metadata into one Markdown table per
section, so the documentation cannot drift from the code: tests/test_docs.py checks that the text
between the markers of docs/PARAMETERS.md equals this function's output, `replace_generated`
rewrites it, and tests/test_params_basis.py checks that no parameter lacks any of them.
"""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from . import (
    Brand,
    BreachEvent,
    MediaStoryEvent,
    Policy,
    Scenario,
    ThirdPartyLeakEvent,
)
from .schema import BASES

BEGIN = "<!-- BEGIN GENERATED PARAMETER TABLES -->"
END = "<!-- END GENERATED PARAMETER TABLES -->"

SECTIONS = (
    "simulation",
    "world",
    "population",
    "journey",
    "trust",
    "consent",
    "outreach",
    "incidents",
    "costs",
)
_MAX_INT64 = 2**63 - 1

CALIBRATION_FILE = "calibration/baseline.toml"
"""The bundled calibration: the parameters it fits say ``basis="fitted"`` in the schema (their
defaults are its estimates, see docs/CALIBRATION.md)."""

CALIBRATION_COMMAND = (
    f"omnitrust calibrate {CALIBRATION_FILE} --out results/calibration-fit --workers 2"
)
"""The command of the committed fit, as docs/CALIBRATION.md ("The fit of the bundled defaults")
gives it (its outputs were copied to docs/calibration/); quoted in the basis cell of every
fitted parameter that no later fit set (a parameter's `fit`, `BREACH_FIT_COMMAND`)."""

BREACH_FIT_COMMAND = (
    "omnitrust calibrate calibration/breach.toml --out results/breach-fit --workers 2"
)
"""The eighth fit (round 25): the two breach shocks fitted again after the TOLD fix, the other
parameters of the bundled fit held at its estimate; its outputs are in docs/calibration/eighth/."""


def fitted_paths(root: Path | None = None) -> set[str]:
    """The dotted paths fitted by the bundled calibration (brand names replaced by ``*``)."""
    path = (root or Path(__file__).resolve().parents[2]) / CALIBRATION_FILE
    if not path.is_file():
        return set()
    paths = set()
    for p in tomllib.loads(path.read_text()).get("parameters", []):
        parts = str(p.get("path", "")).split(".")
        if parts[0] == "brands" and len(parts) > 2:
            parts[1] = "*"
        paths.add(".".join(parts))
    return paths


def basis(field: FieldInfo) -> str:
    """How a default was set, as its field declares it (`sim.scenario.schema.BASES`); a fitted
    one names the command of the fit. "" for a field without a basis (event fields, which have
    no model default)."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    how = str(extra.get("basis", ""))
    if how == "fitted":
        return f"fitted (`{extra.get('fit', CALIBRATION_COMMAND)}`)"
    return how


def _number(v: Any) -> str:
    """A default or a bound, written compactly (0.0025, 250000, 1e+09, 2^63 - 1)."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return "2^63 - 1" if v == _MAX_INT64 else str(v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.is_required():
        return "required"
    else:
        value = field.default
    if value == {}:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(f"`{x}`" for x in value) if value else "(none)"
    if isinstance(value, str):
        return f"`{value}`"
    return _number(value)


def literal_values(annotation: Any) -> tuple[str, ...] | None:
    """The allowed values of a Literal (or of a list of a Literal), else None."""
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    return None


def interval(field: FieldInfo) -> str:
    """The allowed range from the field's ge/gt/le constraints, in interval notation ("" if none)."""
    low = high = None
    low_open = False
    for m in field.metadata:
        if getattr(m, "ge", None) is not None:
            low = m.ge
        if getattr(m, "gt", None) is not None:
            low, low_open = m.gt, True
        if getattr(m, "le", None) is not None:
            high = m.le
    if low is None and high is None:
        return ""
    left = ("(" if low_open else "[") + (_number(low) if low is not None else "-inf")
    right = (_number(high) if high is not None else "inf") + ("]" if high is not None else ")")
    return f"{left}, {right}"


def _range(field: FieldInfo) -> str:
    """The allowed values: the field's own ``range`` text (for values no bound describes, such
    as tables keyed by brand), its Literal choices, or the interval of its bounds."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("range"):
        return str(extra["range"])
    choices = literal_values(field.annotation)
    if choices is not None:
        prefix = "any of " if typing.get_origin(field.annotation) is list else "one of "
        return prefix + ", ".join(f"`{c}`" for c in choices)
    return interval(field)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("\n", " ").strip()


def _table(
    model: type[BaseModel],
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> str:
    rows = [
        "| key | default | unit | range | basis | source or rationale |",
        "|---|---|---|---|---|---|",
    ]
    for key, field in model.model_fields.items():
        if key in skip or (only is not None and key not in only):
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        unit = str(extra.get("unit", ""))
        source = str(extra.get("source", "") or field.description or "")
        if field.description and extra.get("source") and field.description not in source:
            source = f"{field.description} {source}"
        rows.append(
            f"| `{key}` | {_cell(_default(field))} | {_cell(unit)} | "
            f"{_cell(_range(field))} | {basis(field)} | {_cell(source)} |"
        )
    return "\n".join(rows)


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def parameters_markdown() -> str:
    """Markdown tables of every scenario parameter: key, default, unit, range, source."""
    legend = "\n".join(f"- **{name}**: {meaning}." for name, meaning in BASES.items())
    parts: list[str] = [
        "### Basis\n\nThe basis column says how each default was set, as the schema declares it "
        f"(`BASES` in `sim/scenario/schema.py`):\n\n{legend}"
    ]
    for section in SECTIONS:
        model = Scenario.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        parts.append(f"### `[{section}]`\n\n{_doc(model)}\n\n{_table(model)}")
    parts.append(
        f"### `[[brands]]`\n\n{_doc(Brand)} One `[[brands]]` table per brand; "
        f"the policy levers are in `[brands.policy]` below.\n\n"
        f"{_table(Brand, skip=('policy',))}"
    )
    parts.append(f"### `[brands.policy]`\n\n{_doc(Policy)}\n\n{_table(Policy)}")
    parts.append(
        "### Policy change (top-level keys)\n\nWhen the brands' policies of a scenario take "
        "effect, and what they follow before (docs/ODD.md, 'Policy changes at a known moment'). "
        "Written at the top of the file, next to `extends`.\n\n"
        f"{_table(Scenario, only=('policy_from_day', 'policy_before'))}"
    )
    for event in (BreachEvent, ThirdPartyLeakEvent, MediaStoryEvent):
        kind = typing.get_args(event.model_fields["kind"].annotation)[0]
        parts.append(
            f'### `[[events]]` with `kind = "{kind}"`\n\n{_doc(event)}\n\n'
            f"{_table(event, skip=('kind',))}"
        )
    return "\n\n".join(parts) + "\n"


def replace_generated(text: str) -> str:
    """``text`` (a PARAMETERS.md) with the part between the markers replaced by fresh tables."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"markers {BEGIN!r} and {END!r} not found")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{parameters_markdown()}\n{END}{tail}"
