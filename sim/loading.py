"""Kept so that ``from sim.loading import load_scenario`` keeps working; the code is in
`sim.scenario.loading`, which code inside the package imports (tests/test_architecture.py)."""

from .scenario.loading import (
    apply_overrides,
    bundled_scenarios,
    load_scenario,
    load_toml_with_extends,
    scenario_json_schema,
    validate_scenario,
)

__all__ = [
    "apply_overrides",
    "bundled_scenarios",
    "load_scenario",
    "load_toml_with_extends",
    "scenario_json_schema",
    "validate_scenario",
]
