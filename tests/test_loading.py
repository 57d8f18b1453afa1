"""Scenario files in, clear errors out: `extends` merging, and one located error per problem."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from sim.core.errors import ScenarioError, ScenarioErrors
from sim.loading import load_scenario, load_toml_with_extends, scenario_json_schema

from .conftest import ROOT

PARENT = """
name = "parent"
description = "the parent"
[simulation]
days = 100
consumers = 500
[population]
fundamentalist = 0.2
pragmatist = 0.7
unconcerned = 0.1
[[brands]]
name = "Alpha"
presence = 2.0
[brands.policy]
transparency = 0.3
security_investment = 0.4
data_collection = ["contact", "purchase_history", "location"]
[[brands]]
name = "Beta"
[brands.policy]
transparency = 0.6
[[events]]
kind = "breach"
day = 10
brand = "Alpha"
records_share = 0.5
data_types = ["contact"]
[[events]]
kind = "media_story"
day = 20
severity = 0.3
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def one_brand(extra: str = "") -> str:
    return f'[[brands]]\nname = "Alpha"\n{extra}'


# ---------------------------------------------------------------------------------------------
# extends
# ---------------------------------------------------------------------------------------------
def test_child_overrides_brand_policy_by_name_and_keeps_the_rest(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    child = write(
        tmp_path,
        "child.toml",
        'extends = "parent.toml"\n[[brands]]\nname = "Alpha"\n'
        "[brands.policy]\ntransparency = 0.9\n",
    )
    s = load_scenario(child)
    alpha, beta = s.brands
    assert alpha.name == "Alpha" and alpha.policy.transparency == 0.9
    assert alpha.policy.security_investment == 0.4  # untouched policy key of the parent
    assert alpha.presence == 2.0  # untouched brand key of the parent
    assert alpha.policy.data_collection == ["contact", "purchase_history", "location"]
    assert beta.policy.transparency == 0.6
    assert s.simulation.days == 100 and s.population.fundamentalist == 0.2


def test_new_brand_is_appended_and_events_are_replaced(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    child = write(
        tmp_path,
        "child.toml",
        'extends = "parent.toml"\n'
        '[[brands]]\nname = "Gamma"\npresence = 0.5\n'
        '[[events]]\nkind = "media_story"\nday = 5\nseverity = 0.9\n',
    )
    s = load_scenario(child)
    assert [b.name for b in s.brands] == ["Alpha", "Beta", "Gamma"]
    assert s.brands[2].presence == 0.5
    assert len(s.events) == 1 and s.events[0].day == 5 and s.events[0].kind == "media_story"


def test_lists_inside_a_brand_are_replaced_not_merged(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    child = write(
        tmp_path,
        "child.toml",
        'extends = "parent.toml"\n[[brands]]\nname = "Alpha"\n'
        '[brands.policy]\ndata_collection = ["contact"]\n',
    )
    assert load_scenario(child).brands[0].policy.data_collection == ["contact"]


def test_grandparent_chain_merges_in_order_and_paths_are_relative_to_each_file(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "mid").mkdir()
    write(tmp_path / "base", "grand.toml", PARENT)
    write(
        tmp_path / "mid",
        "parent.toml",
        'extends = "../base/grand.toml"\n[simulation]\n'
        'days = 200\n[[brands]]\nname = "Beta"\n[brands.policy]\ntransparency = 0.1\n'
        "emails_per_week = 3.0\n",
    )
    child = write(
        tmp_path,
        "child.toml",
        'extends = "mid/parent.toml"\n[simulation]\n'
        'consumers = 700\n[[brands]]\nname = "Beta"\n[brands.policy]\n'
        "transparency = 0.8\n",
    )
    s = load_scenario(child)
    assert (s.simulation.days, s.simulation.consumers) == (200, 700)
    beta = s.brands[1]
    assert (beta.policy.transparency, beta.policy.emails_per_week) == (0.8, 3.0)
    assert s.brands[0].presence == 2.0


def test_name_is_the_childs_own_or_its_file_stem(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    stem = write(tmp_path, "my_variant.toml", 'extends = "parent.toml"\n')
    named = write(tmp_path, "other.toml", 'extends = "parent.toml"\nname = "Named"\n')
    assert load_scenario(stem).name == "my_variant"
    assert load_scenario(named).name == "Named"
    assert load_scenario(stem).description == "the parent"


def test_merged_table_has_no_extends_key(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    child = write(tmp_path, "child.toml", 'extends = "parent.toml"\n')
    data = load_toml_with_extends(child)
    assert "extends" not in data and data["name"] == "child"


def test_bundled_scenarios_load():
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        assert load_scenario(path).name == path.stem


def test_simulation_overrides_apply_and_none_is_ignored(tmp_path):
    path = write(tmp_path, "s.toml", PARENT)
    s = load_scenario(path, days=30, consumers=None)
    assert (s.simulation.days, s.simulation.consumers) == (30, 500)
    assert load_scenario(path, seed=np.int64(3)).simulation.seed == 3  # e.g. from a design


def test_bad_override_is_reported_as_an_override(tmp_path):
    path = write(tmp_path, "s.toml", PARENT)
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(path, days=0)
    assert "s.toml (with simulation overrides): simulation.days = 0: must be >= 1" in str(
        info.value
    )


# ---------------------------------------------------------------------------------------------
# errors: each names the file, the field path, the value and what is allowed
# ---------------------------------------------------------------------------------------------
BAD = {
    "unknown_key": (
        one_brand("[brands.policy]\ntransparncy = 0.5\n"),
        [
            'brands[0] (name="Alpha").policy.transparncy = 0.5',
            "unknown key",
            "did you mean 'transparency'?",
            "allowed keys",
            "security_investment",
        ],
    ),
    "unknown_section": (
        one_brand() + "[wrold]\nattack_pressure = 1.0\n",
        ["wrold", "did you mean 'world'?", "allowed keys in the scenario"],
    ),
    "wrong_type": (
        one_brand('[brands.policy]\ntransparency = "high"\n'),
        ['brands[0] (name="Alpha").policy.transparency = "high"', "must be a number", "[0, 1]"],
    ),
    "quoted_number": (
        '[simulation]\ndays = "365"\n' + one_brand(),
        ['simulation.days = "365"', "must be an integer", "[1, 3650]"],
    ),
    "out_of_range": (
        one_brand("[brands.policy]\ntransparency = 1.5\n"),
        ["policy.transparency = 1.5", "must be <= 1", "[0, 1]", "unit: level"],
    ),
    "shares_do_not_sum": (
        "[population]\nfundamentalist = 0.5\npragmatist = 0.64\nunconcerned = 0.1\n" + one_brand(),
        ["population", "must sum to 1", "0.5 + 0.64 + 0.1"],
    ),
    "duplicate_brand": (
        one_brand() + '[[brands]]\nname = "Beta"\n' + one_brand(),
        ['brands[2] (name="Alpha").name = "Alpha"', "unique", "repeated: Alpha"],
    ),
    "unknown_event_brand": (
        one_brand() + '[[events]]\nkind = "breach"\nday = 3\nbrand = "Zed"\nrecords_share = 0.2\n'
        'data_types = ["contact"]\n',
        ['events[0].brand = "Zed"', "is not a brand", "Alpha"],
    ),
    "unknown_event_kind": (
        one_brand() + '[[events]]\nkind = "earthquake"\nday = 3\n',
        [
            'events[0].kind = "earthquake"',
            "unknown event kind",
            "breach, third_party_leak, media_story",
        ],
    ),
    "unknown_data_type": (
        one_brand('[brands.policy]\ndata_collection = ["contact", "dna"]\n'),
        ['policy.data_collection[1] = "dna"', "not an allowed value", "cross_site_tracking"],
    ),
    "unknown_choice": (
        one_brand('[brands.policy]\ncompensation = "cash"\n'),
        ['policy.compensation = "cash"', "none, voucher, credit_monitoring"],
    ),
    "missing_brands": (
        "[simulation]\ndays = 10\n",
        ["brands", "required key missing"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_validation_error_names_file_field_value_and_allowed(tmp_path, case):
    text, expected = BAD[case]
    path = write(tmp_path, f"{case}.toml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for part in expected:
        assert part in message, message


def test_every_problem_is_reported_at_once_one_per_line(tmp_path):
    path = write(
        tmp_path,
        "many.toml",
        '[simulation]\ndays = 0\nconsumers = "many"\n'
        + one_brand("[brands.policy]\ntransparency = 1.5\ntransparncy = 0.1\n"),
    )
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(path)
    errors = list(info.value)
    assert [e.field for e in errors] == [
        "simulation.days",
        "simulation.consumers",
        'brands[0] (name="Alpha").policy.transparency',
        'brands[0] (name="Alpha").policy.transparncy',
    ]
    assert [e.value for e in errors] == [0, "many", 1.5, 0.1]
    assert str(info.value).count("\n") == 3
    assert all(line.startswith(f"{path}: ") for line in str(info.value).splitlines())


BREACH = '[[events]]\nkind = "breach"\nday = {day}\nbrand = {brand}\nrecords_share = {share}\n'


def test_rules_across_keys_are_checked_in_the_same_pass_as_the_fields(tmp_path):
    """`omnitrust validate` reports every problem (README): the event's day beyond the horizon
    and its unknown brand are found together with the event's bad fields, not after them."""
    event = BREACH.format(day=400, brand='"Zed"', share=1.5) + 'data_types = ["dna"]\n'
    path = write(tmp_path, "staged.toml", one_brand() + event)
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(path)
    assert [(e.field, e.value) for e in info.value] == [
        ("events[0].records_share", 1.5),
        ("events[0].data_types[0]", "dna"),
        ("events[0].day", 400),  # the default horizon is 365 days (docs/PARAMETERS.md)
        ("events[0].brand", "Zed"),
    ]
    text = str(info.value)
    assert "simulation.days = 365 runs days 0-364" in text and "(brands: Alpha)" in text


def test_section_rules_run_beside_a_bad_field_of_their_section(tmp_path):
    path = write(
        tmp_path,
        "sections.toml",
        "[population]\nfundamentalist = 0.5\npragmatist = 0.64\nunconcerned = 0.1\n"
        "social_degree = -4\n"
        "[trust]\nreturn_threshold = 0.1\nchurn_threshold = 0.3\nhalf_life_days = -1\n"
        + one_brand(),
    )
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(path)
    fields = [e.field for e in info.value]
    assert fields == ["population.social_degree", "trust.half_life_days", "population", "trust"]
    text = str(info.value)
    assert "0.5 + 0.64 + 0.1 = 1.24" in text  # 0.5 + 0.64 + 0.1, by hand
    assert "return_threshold = 0.1 must be at least churn_threshold = 0.3" in text


def test_a_rule_skips_the_values_that_are_themselves_bad(tmp_path):
    """A bad day or a bad brand name is reported once, as itself: the rules that read it say
    nothing about it (no "after the horizon" for a quoted day, no "not a brand" when a brand's
    own name is bad), while the rest of the scenario is still checked."""
    path = write(
        tmp_path,
        "skip.toml",
        one_brand()
        + "[[brands]]\nname = 7\n"
        + BREACH.format(day='"400"', brand='"Zed"', share=0.1)
        + 'data_types = ["contact"]\n'
        + BREACH.format(day=500, brand='"Alpha"', share=0.1)
        + 'data_types = ["contact"]\n',
    )
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(path)
    assert [(e.field, e.value) for e in info.value] == [
        ("brands[1] (name=7).name", 7),
        ("events[0].day", "400"),
        ("events[1].day", 500),
    ]


def test_rules_alone_are_all_reported_and_python_callers_see_the_first(tmp_path):
    from pydantic import ValidationError

    from sim.scenario import Scenario

    text = (
        "policy_from_day = 400\n" + one_brand() + one_brand()
        + BREACH.format(day=3, brand='"Zed"', share=0.1) + 'data_types = ["contact"]\n'
    )  # fmt: skip
    path = write(tmp_path, "rules.toml", text)
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(path)
    assert [e.field for e in info.value] == [
        'brands[1] (name="Alpha").name',
        "events[0].brand",
        "policy_from_day",
        "policy_from_day",
    ]
    assert "repeated: Alpha" in str(info.value) and "(brands: Alpha)" in str(info.value)
    with pytest.raises(ValidationError, match="brand names must be unique; repeated: Alpha"):
        Scenario.model_validate(tomllib.loads(text), strict=True)


def test_error_names_the_file_of_the_chain_that_sets_the_value(tmp_path):
    write(tmp_path, "parent.toml", PARENT.replace("presence = 2.0", "presence = -1.0"))
    child = write(
        tmp_path,
        "child.toml",
        'extends = "parent.toml"\n[[brands]]\nname = "Beta"\n[brands.policy]\ntransparency = 7.0\n',
    )
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(child)
    by_field = {e.field: e.file for e in info.value}
    assert by_field['brands[0] (name="Alpha").presence'] == str(tmp_path / "parent.toml")
    assert by_field['brands[1] (name="Beta").policy.transparency'] == str(child)


def test_toml_syntax_error_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "broken.toml", 'name = "x"\n[brands\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert (err.file, err.line, err.column) == (str(path), 2, 8)
    assert str(err).startswith(f"{path}: line 2, column 8: invalid TOML: Expected ']'")


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="nope.toml: no such scenario file"):
        load_scenario(tmp_path / "nope.toml")


def test_extends_cycle_names_the_chain(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n' + one_brand())
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(a)
    err = info.value
    assert err.field == "extends" and err.value == "a.toml"
    assert f"extends cycle: {a} -> {tmp_path / 'b.toml'} -> {a}" in str(err)


def test_extends_self_is_a_cycle(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "a.toml"\n' + one_brand())
    with pytest.raises(ScenarioError, match="extends cycle"):
        load_scenario(a)


def test_extends_missing_parent_names_the_file_and_the_field(tmp_path):
    child = write(tmp_path, "child.toml", 'extends = "gone.toml"\n' + one_brand())
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert str(info.value).startswith(
        f'{child}: extends = "gone.toml": no such scenario file: {tmp_path / "gone.toml"}; '
        f"looked in {tmp_path} and among the bundled scenarios"
    )


# A copy of a bundled scenario, anywhere, can extend the bundled baseline by name (README,
# "Scenarios": a bare name "works from any folder and in an installed wheel").
@pytest.mark.parametrize("parent", ["baseline.toml", "baseline"])
def test_a_copied_scenario_extends_the_bundled_baseline_by_name(tmp_path, monkeypatch, parent):
    text = (ROOT / "scenarios" / "newsletter_blaster.toml").read_text()
    assert 'extends = "baseline.toml"' in text and "emails_per_week = 7.0" in text
    text = text.replace('extends = "baseline.toml"', f'extends = "{parent}"')
    copy = write(
        tmp_path, "my_news.toml", text.replace("emails_per_week = 7.0", "emails_per_week = 3")
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # neither the file's folder nor the repository
    scenario = load_scenario(copy)
    baseline = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text())
    assert [b.name for b in scenario.brands] == [b["name"] for b in baseline["brands"]]
    assert scenario.brands[0].name == "Aurora" and scenario.brands[0].policy.emails_per_week == 3
    for b in scenario.brands[1:]:  # the other brands as the bundled baseline sets them
        (raw,) = (r for r in baseline["brands"] if r["name"] == b.name)
        assert b.policy.emails_per_week == raw["policy"]["emails_per_week"]
    assert scenario.simulation.days == baseline["simulation"]["days"]
    assert scenario.name == "my_news"


def test_extends_prefers_a_file_next_to_the_scenario_over_the_bundled_one(tmp_path):
    write(tmp_path, "baseline.toml", '[[brands]]\nname = "Local"\n')
    child = write(tmp_path, "child.toml", 'extends = "baseline.toml"\n')
    assert [b.name for b in load_scenario(child).brands] == ["Local"]


def test_a_copied_baseline_that_extends_baseline_by_bare_name_means_the_bundled_one(tmp_path):
    """A user's own baseline.toml saying ``extends = "baseline"`` is not a cycle: the bare name,
    said by that very file, is the bundled baseline."""
    mine = write(tmp_path, "baseline.toml", 'extends = "baseline"\nname = "mine"\n')
    baseline = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text())
    scenario = load_scenario(mine)
    assert scenario.name == "mine"
    assert [b.name for b in scenario.brands] == [b["name"] for b in baseline["brands"]]


def test_a_parent_folder_reference_is_followed_as_the_os_does_through_a_linked_folder(tmp_path):
    """``extends = "../base.toml"`` in a folder reached through a symbolic link is the file the
    OS opens (the link's target's parent), not the link's own parent as text would have it."""
    (tmp_path / "real" / "sub").mkdir(parents=True)
    write(tmp_path / "real", "base.toml", '[[brands]]\nname = "Real"\n')
    write(tmp_path / "real" / "sub", "child.toml", 'extends = "../base.toml"\n')
    (tmp_path / "link").symlink_to(tmp_path / "real" / "sub", target_is_directory=True)
    assert [b.name for b in load_scenario(tmp_path / "link" / "child.toml").brands] == ["Real"]


def test_a_folder_named_like_a_bundled_scenario_does_not_shadow_it(tmp_path):
    """A results folder called ``baseline`` next to the file is not a scenario file: the bare
    name still means the bundled baseline (review: it used to fail saying 'did you mean
    baseline?')."""
    (tmp_path / "baseline").mkdir()
    child = write(tmp_path, "child.toml", 'extends = "baseline"\n')
    baseline = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text())
    assert [b.name for b in load_scenario(child).brands] == [b["name"] for b in baseline["brands"]]


def test_a_repeated_brand_name_is_said_once_not_once_per_repeat(tmp_path):
    child = write(
        tmp_path,
        "child.toml",
        'extends = "baseline"\n[[brands]]\nname = "aurora"\n[[brands]]\nname = "aurora"\n',
    )
    with pytest.raises(ScenarioErrors) as info:
        load_scenario(child)
    text = str(info.value)
    assert text.count("repeated: aurora") == 1
    assert text.count("'Aurora' and 'aurora' differ only in letter case") == 1, text


def test_extends_unknown_name_says_where_it_looked_and_lists_bundled_names(tmp_path):
    child = write(tmp_path, "child.toml", 'extends = "basline"\n' + one_brand())
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    err = info.value
    assert err.field == "extends" and err.value == "basline"
    bundled = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    assert f"looked in {tmp_path} and among the bundled scenarios" in str(err)
    assert "did you mean 'baseline'?" in str(err)
    assert "a bundled scenario" in err.allowed and ", ".join(bundled) in err.allowed


def test_extends_must_be_a_string(tmp_path):
    child = write(tmp_path, "child.toml", "extends = 3\n" + one_brand())
    with pytest.raises(ScenarioError, match=r"child.toml: extends = 3: must name another"):
        load_scenario(child)


# ---------------------------------------------------------------------------------------------
# JSON Schema
# ---------------------------------------------------------------------------------------------
def test_json_schema_accepts_good_files_and_rejects_bad_ones(tmp_path):
    schema = json.loads(json.dumps(scenario_json_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    import tomllib

    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        validator.validate(tomllib.loads(path.read_text()))  # raw files, `extends` included
    good = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text())
    bad_range = json.loads(json.dumps(good))
    bad_range["brands"][0]["policy"]["transparency"] = 1.5
    bad_key = json.loads(json.dumps(good))
    bad_key["brands"][0]["policy"]["transparncy"] = 0.5
    no_brands = {k: v for k, v in good.items() if k != "brands"}
    bad_kind = {**good, "events": [{"kind": "earthquake", "day": 1}]}
    for bad in (bad_range, bad_key, no_brands, bad_kind):
        assert not validator.is_valid(bad), bad
    assert validator.is_valid({"extends": "baseline.toml"})  # a child need not repeat brands


def test_a_file_that_extends_a_policy_change_keeps_the_change_and_its_earlier_policy(tmp_path):
    # a grandchild of the baseline: privacy_first_switch's change, a [world] key of its own, and
    # a further policy after the change; before day 90 the brands run the baseline's policies
    switch = (ROOT / "scenarios" / "privacy_first_switch.toml").as_posix()
    child = write(
        tmp_path,
        "later.toml",
        f'extends = "{switch}"\n[world]\nattack_pressure = 1.5\n'
        '[[brands]]\nname = "Aurora"\n[brands.policy]\nemails_per_week = 1.5\n',
    )
    s = load_scenario(child)
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    assert s.policy_from_day == 90 and s.world.attack_pressure == 1.5
    assert s.brands[0].policy.emails_per_week == 1.5
    assert s.before_change().brands == baseline.brands
    # a policy_before the grandchild sets itself wins over the filled one
    own = write(
        tmp_path,
        "own.toml",
        f'extends = "{switch}"\n[policy_before.Aurora]\ntransparency = 0.3\n',
    )
    assert load_scenario(own).policy_before["Aurora"].transparency == 0.3
