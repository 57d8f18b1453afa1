"""The notebooks run top to bottom in a real Jupyter kernel and show what they promise."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _execute(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    """Run notebooks/<name> in a copy of the repository layout under tmp_path (so whatever the
    notebook writes lands there), with the venv's ``python3`` kernel."""
    (tmp_path / "notebooks").mkdir()
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
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


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}: clear the outputs before committing"
            )


def test_what_if_notebook_runs_and_shows_tables_and_charts(tmp_path):
    nb = _execute("what_if.ipynb", tmp_path)
    html = _outputs(nb, "text/html")
    assert any(all(b in t for b in ("Aurora", "Borealis", "Cirrus", "trust")) for t in html), (
        "no table of brands in the notebook's outputs"
    )
    assert any("privacy_first" in t and "baseline" in t for t in html)
    assert len(_outputs(nb, "image/png")) >= 4
    written = {p.name for p in (tmp_path / "results" / "what_if").iterdir()}
    assert {
        "timeseries.parquet",
        "summary.csv",
        "manifest.json",
        "trust.png",
        "report.pdf",
    } <= written
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert errors == []


def test_calibration_notebook_answers_its_question_from_computed_results(tmp_path):
    """notebooks/04: calibration, Sobol indices and a verdict under parameter uncertainty; the
    answer is computed from the results, whose files the notebook wrote."""
    import pandas as pd

    nb = _execute("04_calibrate_and_test_sensitivity.ipynb", tmp_path)
    tags = [c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code"]
    assert any("parameters" in t for t in tags)
    results = tmp_path / "results" / "notebook04"
    params = pd.read_csv(results / "calibration" / "parameters.csv")
    assert set(params["parameter"]) == {"journey.channel_switching", "journey.research_days"}
    assert (params["low"] <= params["high"]).all()
    indices = pd.read_csv(results / "sensitivity" / "indices.csv")
    assert set(indices["output"]) == {"aurora_trust", "transparency_trust_gain"}
    answer = _outputs(nb, "text/markdown")[-1]
    assert answer.startswith("**Answer.**")
    assert "across plausible parameters" in answer
    assert any(p in answer for p in indices["parameter"])
