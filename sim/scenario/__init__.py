"""Scenarios: a TOML file becomes one validated `Scenario` (layer 2 of docs/ARCHITECTURE.md).

* `sim.scenario.schema`   what a scenario may say: pydantic sections, each field with its unit,
                          range and source (docs/PARAMETERS.md is generated from it);
* `sim.scenario.loading`  reading a file, merging its ``extends`` chain, validating it, and
                          messages that name the file, the field, the value and what is allowed;
* `sim.scenario.paramdoc` the parameter tables of docs/PARAMETERS.md, generated from the schema.

The schema's classes are re-exported here, so ``from sim.scenario import Scenario`` keeps working.
"""

from .schema import (
    Brand,
    BreachEvent,
    Compensation,
    Consent,
    Costs,
    DataType,
    Event,
    EventBase,
    Incidents,
    Journey,
    MediaStoryEvent,
    Outreach,
    P,
    Policy,
    PopulationSpec,
    Scenario,
    Section,
    Simulation,
    ThirdPartyLeakEvent,
    Trust,
    World,
)

__all__ = [
    "Brand",
    "BreachEvent",
    "Compensation",
    "Consent",
    "Costs",
    "DataType",
    "Event",
    "EventBase",
    "Incidents",
    "Journey",
    "MediaStoryEvent",
    "Outreach",
    "P",
    "Policy",
    "PopulationSpec",
    "Scenario",
    "Section",
    "Simulation",
    "ThirdPartyLeakEvent",
    "Trust",
    "World",
]
