"""Every default parameter has a unit, a range, a definition, a source or rationale, and a
declared basis (how the default was set); docs/PARAMETERS.md says so from the code.

The project's standard (docs/PARAMETERS.md, "How to read this document"): no parameter may carry
only a definition. The schema keeps the definition (pydantic ``description``) apart from the
source or rationale (``source`` metadata), so a parameter whose text only says what it is fails
here by name. The allowed bases are listed below independently of the code's `BASES`.
"""

from __future__ import annotations

import re
import tomllib
import typing
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario import Brand, Policy, Scenario

from .conftest import ROOT

ALLOWED_BASES = {
    "fitted",
    "published",
    "derived",
    "hand-tuned",
    "assumed",
    "convention",
    "user choice",
}
FIT_COMMAND = "omnitrust calibrate calibration/baseline.toml --out results/calibration-fit --workers 2"  # docs/CALIBRATION.md, "The fit of the bundled defaults"
# docs/CALIBRATION.md, "The eighth fit": the two breach shocks fitted again after the TOLD fix
BREACH_FIT = "omnitrust calibrate calibration/breach.toml --out results/breach-fit --workers 2"
REFITTED = {"incidents.disclosure_evidence", "trust.covert_evidence"}


def _extra(field: FieldInfo) -> dict:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


def parameters() -> Iterator[tuple[str, FieldInfo]]:
    """(dotted path, field) of every scenario parameter that has a default."""
    models: list[tuple[str, type[BaseModel]]] = [  # every section, from the schema itself
        (f"{name}.", f.annotation)
        for name, f in Scenario.model_fields.items()
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
    ]
    assert len(models) >= 9, [m for m, _ in models]  # simulation ... costs
    models += [("brands.*.", Brand), ("brands.*.policy.", Policy)]
    for prefix, model in models:
        for key, field in model.model_fields.items():
            if key != "policy" and not field.is_required():
                yield f"{prefix}{key}", field
    for key in ("policy_from_day", "policy_before"):
        yield key, Scenario.model_fields[key]


def _has_range(field: FieldInfo) -> bool:
    bounds = any(
        getattr(m, name, None) is not None for m in field.metadata for name in ("ge", "gt", "le")
    )
    annotation = field.annotation
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    return (
        bounds
        or typing.get_origin(annotation) is typing.Literal
        or bool(_extra(field).get("range"))
    )


def problems(field: FieldInfo) -> list[str]:
    """What the field lacks, in words ([] when nothing)."""
    extra = _extra(field)
    definition = (field.description or "").strip()
    source = str(extra.get("source", "")).strip()
    out = []
    if not str(extra.get("unit", "")).strip():
        out.append("no unit")
    if not _has_range(field):
        out.append("no range")
    if extra.get("basis") not in ALLOWED_BASES:
        out.append(f"basis {extra.get('basis')!r} not declared as one of {sorted(ALLOWED_BASES)}")
    if not definition:
        out.append("no definition (description)")
    if not source or source == definition:
        out.append("only a definition: no source or rationale")
    return out


def test_every_default_has_unit_range_definition_rationale_and_basis():
    found = {path: problems(field) for path, field in parameters()}
    assert len(found) > 100  # every section was read
    bad = {path: p for path, p in found.items() if p}
    assert not bad, "parameters lacking metadata:\n" + "\n".join(
        f"  {path}: {', '.join(p)}" for path, p in sorted(bad.items())
    )


def test_the_check_names_a_parameter_with_only_a_definition():
    """The check above can fail: a field written as the reviewer found `trust.churn_rate` (a
    definition, no rationale, no basis) is reported."""
    from pydantic import Field

    bare = Field(
        0.02,
        ge=0.0,
        le=1.0,
        description="Daily chance that a customer below the churn threshold leaves the brand.",
        json_schema_extra={"unit": "per day", "source": ""},
    )
    assert problems(bare) == [
        f"basis None not declared as one of {sorted(ALLOWED_BASES)}",
        "only a definition: no source or rationale",
    ]


def test_the_schema_refuses_a_parameter_without_rationale_or_basis():
    import pytest

    from sim.scenario.schema import P

    with pytest.raises(ValueError, match="basis"):
        P(0.5, "level", description="A lever.", basis="guessed", source="Midpoint.", ge=0, le=1)
    with pytest.raises(ValueError, match="separate source"):
        P(0.5, "level", description="A lever.", basis="assumed", source="", ge=0, le=1)
    with pytest.raises(ValueError, match="separate source"):
        P(0.5, "level", description="A lever.", basis="assumed", source="A lever.", ge=0, le=1)


def test_fitted_means_fitted_by_the_committed_calibration():
    """basis = "fitted" exactly for the parameters of calibration/baseline.toml, whose committed
    outputs are docs/calibration/; each names the working command and its 95% interval."""
    calibration = tomllib.loads((ROOT / "calibration" / "baseline.toml").read_text())
    in_fit = {p["path"] for p in calibration["parameters"]}
    declared = {path for path, field in parameters() if _extra(field).get("basis") == "fitted"}
    assert declared == in_fit
    for path, field in parameters():
        if path in in_fit:
            source = _extra(field)["source"]
            assert FIT_COMMAND in source and "95% interval" in source, path
            assert (BREACH_FIT in source) == (path in REFITTED), path
            assert _extra(field).get("fit") == (BREACH_FIT if path in REFITTED else None), path


def test_parameters_md_basis_cells_and_calibrate_commands_work():
    """Every basis cell of docs/PARAMETERS.md is a declared basis, fitted cells quote the fit's
    command with its --out, and no `omnitrust calibrate FILE` is quoted without --out (exit 2)."""
    text = (ROOT / "docs" / "PARAMETERS.md").read_text()
    generated = text.split("<!-- BEGIN GENERATED PARAMETER TABLES -->", 1)[1]
    cells = set()
    for line in generated.split("<!-- END GENERATED PARAMETER TABLES -->", 1)[0].splitlines():
        parts = [p.strip() for p in line.split(" | ")]
        if line.startswith("| `") and len(parts) >= 6:
            cells.add(parts[4])
    assert f"fitted (`{FIT_COMMAND}`)" in cells
    assert f"fitted (`{BREACH_FIT}`)" in cells
    assert cells <= {
        *ALLOWED_BASES - {"fitted"},
        f"fitted (`{FIT_COMMAND}`)",
        f"fitted (`{BREACH_FIT}`)",
        "",
    }
    assert "assumed" in cells and "published" in cells
    for where, body in (("docs/PARAMETERS.md", text),) + tuple(
        (path, str(_extra(field).get("source", ""))) for path, field in parameters()
    ):
        for m in re.finditer(r"omnitrust calibrate [\w./-]+\.toml([^`]*)`", body):
            assert "--out" in m.group(1), f"{where}: {m.group(0)}"


def test_max_days_rationale_quotes_the_current_mean_journey():
    """journey.max_days's rationale computes its binding chance at research_days's default; a
    refit of research_days must update it (it once said 'the default mean of 2 days')."""
    journey = Scenario.model_fields["journey"].annotation.model_fields
    mean = journey["research_days"].default
    source = _extra(journey["max_days"])["source"]
    assert f"L = {mean:g}" in source
    quoted = float(re.search(r"\^60, ([0-9.]+e-\d+) at the default", source).group(1))
    exact = (1 - 1 / mean) ** 60  # P(L > 60) for L = 1 + floor(ln(1 - u) / ln(1 - 1/mean)), J1
    assert abs(quoted - exact) / exact < 0.05


def test_constants_table_lists_every_constant():
    """docs/PARAMETERS.md, "Constants in the code", names every constant of sim/core/constants.py
    with its value (AWARE = 128 was missing)."""
    import numpy as np

    from sim.core import constants

    text = (ROOT / "docs" / "PARAMETERS.md").read_text()
    table = text.split("## Constants in the code", 1)[1].split("\n## ", 1)[0]
    names = [n for n in vars(constants) if n.isupper() and not n.startswith("_")]
    assert "AWARE" in names
    for name in names:
        value = getattr(constants, name)
        assert isinstance(value, int | float | np.integer | np.floating), name
        assert re.search(rf"\b{name}\b", table), f"{name} not in the constants table"
        assert f"{value:g}" in table, f"{name} = {value:g}: value not in the constants table"
