"""The parameter tables of docs/PARAMETERS.md, generated from the scenario schema.

Every scenario parameter carries its default, unit, allowed range and source in its pydantic field
(`sim.scenario.P`). `parameters_markdown` turns that metadata into one Markdown table per section,
so the documentation cannot drift from the code: tests/test_docs.py checks that the text between the
markers of docs/PARAMETERS.md equals this function's output, and `replace_generated` rewrites it.
"""

from __future__ import annotations

import re
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
"""The bundled calibration: the parameters it fits are marked *fitted* in the tables (their
defaults are its estimates, see docs/CALIBRATION.md)."""

_YEAR = re.compile(r"\b(19|20)\d\d\b")
_ASSUMED = re.compile(r"assum|hand-tuned|rationale|to calibrate", re.IGNORECASE)


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


def basis(path: str, field: FieldInfo, fitted: set[str]) -> str:
    """How a default was set: *fitted* (by the bundled calibration), *sourced* (its source
    cites a publication or regulation, by year) or *assumed* (a stated assumption or rationale).
    A field may say so itself with ``basis`` in its metadata."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if path in fitted:
        return f"fitted (`omnitrust calibrate {CALIBRATION_FILE}`)"
    if extra.get("basis"):
        return str(extra["basis"])
    text = f"{extra.get('source', '')} {field.description or ''}"
    if _ASSUMED.search(text) or not _YEAR.search(text):
        return "assumed"
    return "sourced"


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
    """The allowed values: Literal choices, or the interval of the field's bounds."""
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
    prefix: str | None = None,
    only: tuple[str, ...] | None = None,
) -> str:
    fitted = fitted_paths()
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
        how = basis(f"{prefix}{key}", field, fitted) if prefix is not None else ""
        rows.append(
            f"| `{key}` | {_cell(_default(field))} | {_cell(unit)} | "
            f"{_cell(_range(field))} | {how} | {_cell(source)} |"
        )
    return "\n".join(rows)


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def parameters_markdown() -> str:
    """Markdown tables of every scenario parameter: key, default, unit, range, source."""
    parts: list[str] = []
    for section in SECTIONS:
        model = Scenario.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        parts.append(f"### `[{section}]`\n\n{_doc(model)}\n\n{_table(model, prefix=section + '.')}")
    parts.append(
        f"### `[[brands]]`\n\n{_doc(Brand)} One `[[brands]]` table per brand; "
        f"the policy levers are in `[brands.policy]` below.\n\n"
        f"{_table(Brand, skip=('policy',), prefix='brands.*.')}"
    )
    parts.append(
        f"### `[brands.policy]`\n\n{_doc(Policy)}\n\n{_table(Policy, prefix='brands.*.policy.')}"
    )
    parts.append(
        "### Policy change (top-level keys)\n\nWhen the brands' policies of a scenario take "
        "effect, and what they follow before (docs/ODD.md, 'Policy changes at a known moment'). "
        "Written at the top of the file, next to `extends`.\n\n"
        f"{_table(Scenario, only=('policy_from_day', 'policy_before'), prefix='')}"
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
