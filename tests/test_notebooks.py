"""The notebooks run top to bottom in a real Jupyter kernel, at a small size injected after their
`parameters` cell, and their answers agree with an independent recomputation of the results."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient
from scipy import stats

import sim

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def _execute(
    name: str, tmp_path: Path, files: dict[str, str] | None = None, **parameters
) -> nbformat.NotebookNode:
    """Run notebooks/<name> in a copy of the repository layout under tmp_path (so whatever the
    notebook writes lands there; ``files``: relative path -> text, written over the copy), with
    ``parameters`` injected after its `parameters` cell (as papermill does) and the venv's
    ``python3`` kernel."""
    (tmp_path / "notebooks").mkdir()
    for folder in ("scenarios", "experiments"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    for rel, text in (files or {}).items():
        (tmp_path / rel).write_text(text)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in parameters.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at + 1, injected)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "notebooks")}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def _outputs(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    return [
        str(out["data"][mime])
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if mime in out.get("data", {})
    ]


def _answer(nb: nbformat.NotebookNode) -> str:
    """The Markdown the last cell displays (the notebook's answer)."""
    last = nb.cells[-1]
    texts = [
        o["data"]["text/markdown"] for o in last.outputs if "text/markdown" in o.get("data", {})
    ]
    assert len(texts) == 1, "the last cell must display the answer as Markdown"
    return texts[0]


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"[+-]?\d[\d,]*\.?\d*", text)]


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}: clear the outputs before committing"
            )


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_open_with_a_question_have_parameters_and_type_no_number(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and "**Question.**" in nb.cells[0].source
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    for cell in nb.cells:
        if cell.cell_type == "markdown":  # numbers in prose come from results (Markdown output)
            assert not re.search(r"\d", cell.source), f"{name}: a number typed in: {cell.source}"
        assert "95% confidence interval" not in cell.source
        if cell.cell_type == "code":  # the public API only: internals move (issue 8)
            assert "from sim." not in cell.source and "import sim." not in cell.source, name


def test_quickstart_answer_matches_a_paired_recomputation(tmp_path):
    small = dict(REPLICATIONS=3, DAYS=60, CONSUMERS=1000)
    nb = _execute("01_quickstart.ipynb", tmp_path, **small)
    assert sum(c.cell_type == "code" for c in nb.cells) == 5 + 1  # five cells + the injected one
    answer = _answer(nb)
    assert "5th-95th percentile" in answer  # the band is what the chart draws
    assert any("Aurora" in t and "Borealis" in t for t in _outputs(nb, "text/html"))
    assert len(_outputs(nb, "image/png")) == 1

    # Independently: the same two scenarios, per-replication last-30-day trust, paired t.
    base = sim.load_scenario(
        ROOT / "scenarios" / "baseline.toml",
        days=small["DAYS"],
        consumers=small["CONSUMERS"],
        replications=small["REPLICATIONS"],
    )
    data = base.model_dump()
    data["name"] = "transparent"
    next(b for b in data["brands"] if b["name"] == "Aurora")["policy"]["transparency"] = 1.0
    r = sim.run([base, sim.Scenario.model_validate(data)], progress=False, workers=1)
    ts = r.timeseries
    sel = ts[(ts["brand"] == "Aurora") & (ts["metric"] == "trust") & (ts["channel"] == "all")]
    sel = sel[sel["day"] > sel["day"].max() - 30]
    per = sel.groupby(["scenario", "replication"], observed=True)["value"].mean().unstack(0)
    d = (per["transparent"] - per["baseline"]).to_numpy()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    for value in (d.mean(), d.mean() - half, d.mean() + half):
        assert f"{value:+.4f}" in answer


# the policy-choice notebook's parameters for a small run (its sweep into results/pc)
POLICY_CHOICE_SMALL = {"REPLICATIONS": 2, "DAYS": 150, "CONSUMERS": 800, "OUT": "results/pc"}


def _aurora_net_value(out: Path) -> pd.DataFrame:
    """Aurora's net value in every stored run of the sweep in ``out`` (its results table)."""
    t = pd.read_parquet(out / "results.parquet")
    return t[(t["brand"] == "Aurora") & (t["metric"] == "net_value")]


def test_policy_choice_recommendation_matches_the_regret_of_the_runs(tmp_path):
    nb = _execute("02_client_policy_choice.ipynb", tmp_path, **POLICY_CHOICE_SMALL)
    answer = _answer(nb)
    # Independently from the stored table of every run: mean net value per policy and world,
    # regret = best in that world minus the policy's, then the largest regret per policy.
    t = _aurora_net_value(tmp_path / "results" / "pc")
    mean = t.groupby(["world", "policy"])["value"].mean().unstack("policy")
    max_regret = mean.rsub(mean.max(axis=1), axis=0).max().sort_values()
    assert set(max_regret.index) == {
        "data_maximalist",
        "transparent_personalization",
        "privacy_first",
    }
    best, second = max_regret.index[:2]
    assert answer.startswith(f"**Recommendation: {best.replace('_', ' ')}.**")
    eur = re.findall(r"EUR ([\d,]+)", answer)
    assert eur[0] == f"{max_regret[best]:,.0f}" and eur[1] == f"{max_regret[second]:,.0f}"
    # where each one's largest regret occurs, by the world's name (max_regret.csv's label)
    for p in (best, second):
        regret = mean.max(axis=1) - mean[p]
        if regret.max() > 0:
            assert f"in the {regret.idxmax()} world" in answer, answer
    assert len(_outputs(nb, "image/png")) == 1


def test_policy_choice_of_one_world_reads_naturally(tmp_path):
    # review issue: with the experiment file cut down to one world the answer said "Across the
    # 1 worlds ... (in the (one world) world) ... in 1 of the 1 worlds"
    text = (ROOT / "experiments" / "client_policy_choice.toml").read_text()
    one = text.split("[worlds.ordinary]")[0] + "[robustness]" + text.split("[robustness]")[1]
    assert "[worlds.calm]" in one and "[worlds.hostile]" not in one
    nb = _execute(
        "02_client_policy_choice.ipynb",
        tmp_path,
        files={"experiments/client_policy_choice.toml": one},
        **POLICY_CHOICE_SMALL,
    )
    answer = _answer(nb)
    t = _aurora_net_value(tmp_path / "results" / "pc")
    assert set(t["world"]) == {"calm"}
    mean = t.groupby("policy")["value"].mean().sort_values(ascending=False)
    best, second = mean.index[:2]  # in one world the best is the minimax-regret policy
    assert answer.startswith(
        f"**Recommendation: {best.replace('_', ' ')}.** In the calm world, the only one swept, "
        "its largest regret on Aurora's net value is EUR 0 over 150 days (it is never beaten), "
        f"against EUR {mean[best] - mean[second]:,.0f} (in the calm world) for "
        f"{second.replace('_', ' ')}, the next most robust policy. It is the best policy "
        f"there; its net value there is EUR {mean[best]:,.0f}."
    ), answer
    assert "one world)" not in answer and "worlds" not in answer, answer


def test_breach_war_game_answer_matches_the_paired_runs(tmp_path):
    nb = _execute(
        "03_breach_war_game.ipynb",
        tmp_path,
        REPLICATIONS=3,
        DAYS=140,  # the scheduled breach is on day 120
        CONSUMERS=600,
        OUT="results/war",
    )
    answer = _answer(nb)
    folder = tmp_path / "results" / "war"
    runs = pd.read_parquet(folder / "runs.parquet")
    trust = runs[(runs["brand"] == "Aurora") & (runs["metric"] == "trust")]
    per = trust.pivot(index="replication", columns="scenario", values="window")
    diffs = per.sub(per["as_planned"], axis=0).drop(columns="as_planned")
    means = diffs.mean()
    closest = means.idxmax()  # the response with the most trust other than the reference
    # The reference is a response too: when every other one ends below it, it keeps the most
    # trust (review: at this size every difference was negative, and the answer still said
    # "fast candid credit monitoring keeps the most trust in Aurora: -0.0351 against as planned")
    keeps = "as_planned" if means.max() <= 0 else closest
    said = f"**{keeps.replace('_', ' ')}**" + (" (the reference)" if keeps == "as_planned" else "")
    assert f"{said} keeps the most trust in Aurora" in answer, answer
    for other in ["as_planned", *diffs.columns]:  # and no other response is said to
        if other != keeps:
            assert f"**{other.replace('_', ' ')}** keeps" not in answer, answer
            assert f"**{other.replace('_', ' ')}** (the reference) keeps" not in answer, answer
    if keeps == "as_planned":
        assert f"no other response beats it; the closest, {closest.replace('_', ' ')}, " in answer
    d = diffs[closest].to_numpy()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    for value in (d.mean(), d.mean() - half, d.mean() + half):
        assert f"{value:+.4f}" in answer
    assert {"levels.csv", "differences.csv", "losses.csv", "risk.csv"} <= {
        p.name for p in folder.iterdir()
    }
    assert len(_outputs(nb, "image/png")) == 2  # trust, loss exceedance


def test_the_policy_choice_experiment_uses_the_levers_of_the_bundled_scenarios():
    """experiments/client_policy_choice.toml names three policies after scenario files; each
    must set exactly the Aurora levers in which that file differs from the baseline."""
    import tomllib

    spec = tomllib.loads((ROOT / "experiments" / "client_policy_choice.toml").read_text())
    base = sim.load_scenario(ROOT / "scenarios" / "baseline.toml").brands[0].policy.model_dump()
    for name, levers in spec["policies"].items():
        scenario = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
        aurora = next(b for b in scenario.brands if b.name == "Aurora").policy.model_dump()
        changed = {f"brands.Aurora.policy.{k}": v for k, v in aurora.items() if v != base[k]}
        assert levers == changed, name


def test_calibration_notebook_answers_its_question_from_computed_results(tmp_path):
    """notebooks/04: calibration, Sobol indices and a verdict under parameter uncertainty; the
    answer is computed from the results, whose files the notebook wrote."""
    import pandas as pd

    nb = _execute("04_calibrate_and_test_sensitivity.ipynb", tmp_path)
    tags = [c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code"]
    assert any("parameters" in t for t in tags)
    results = tmp_path / "results" / "notebook04"
    params = pd.read_csv(results / "calibration" / "parameters.csv")
    assert set(params["parameter"]) == {"journey.research_days", "population.digital_affinity"}
    assert (params["low"] <= params["high"]).all()
    outside = ~params["estimate"].between(params["low"], params["high"])
    indices = pd.read_csv(results / "sensitivity" / "indices.csv")
    assert set(indices["output"]) == {"aurora_trust", "transparency_trust_gain"}
    answer = _outputs(nb, "text/markdown")[-1]
    assert answer.startswith("**Answer.**")
    assert "across plausible parameters" in answer
    # a verdict under parameter uncertainty needs at least 20 draws (docs/CALIBRATION.md)
    import re

    draws = int(re.search(r"across (\d+) parameter draws", answer).group(1))
    assert ("too few draws to tell" in answer) == (draws < 20), answer
    assert any(p in answer for p in indices["parameter"])
    # an estimate outside its own interval is said, naming the parameter; otherwise nothing is
    caveat = "lies outside its posterior interval"
    assert (caveat in answer) == bool(outside.any()), answer
    for name in params.loc[outside, "parameter"]:
        assert f"The estimate of {name}" in answer or f", {name}" in answer
