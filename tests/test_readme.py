"""The README and the docs tell the truth: CI runs the README's test command, and the outputs they
quote are what the commands print (where the output is deterministic: error messages and table
headers; the numbers of full-size runs are quoted with their command and commit instead)."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from sim.cli import main

from .conftest import ROOT, SCENARIOS

README = (ROOT / "README.md").read_text()
EXPERIMENTS_MD = (ROOT / "docs" / "EXPERIMENTS.md").read_text()


def quoted_block(text: str, command: str) -> list[str]:
    """The lines of the ```text block that quotes ``$ <command>``, after the command line(s)."""
    for block in re.findall(r"```text\n(.*?)```", text, flags=re.S):
        if f"$ {command}" in block:
            lines = block.splitlines()
            start = next(i for i, line in enumerate(lines) if line.startswith(f"$ {command}"))
            while lines[start].endswith("\\"):
                start += 1
            return lines[start + 1 :]
    raise AssertionError(f"no quoted output of `{command}`")


def matches(quoted: str, printed: str) -> bool:
    """A quoted line matches a printed one; ``...`` in the quote stands for any text."""
    pattern = ".*".join(re.escape(part) for part in quoted.split("..."))
    return re.fullmatch(pattern, printed) is not None


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.split("# README test command:\n", 1)[1].strip().splitlines()[0]
    assert command in README
    # .ci/run names only test files that exist
    for name in re.findall(r"tests/\w+\.py", ci):
        assert (ROOT / name).is_file(), name


def test_test_dependencies_are_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0].lower()
        for d in project["dependencies"] + _test_extra(project)
    }
    imported = set()
    for path in (ROOT / "tests").glob("*.py"):
        for module in re.findall(r"^\s*(?:import|from) (\w+)", path.read_text(), flags=re.M):
            imported.add(module.lower())
    third_party = imported - {"sim", "tests", "__future__"} - set(_stdlib())
    aliases = {"yaml": "pyyaml", "importlinter": "import-linter", "pil": "pillow"}
    missing = {m for m in third_party if aliases.get(m, m) not in declared}
    assert not missing, f"imported by tests but not declared in pyproject.toml: {missing}"


def _test_extra(project: dict) -> list[str]:
    """The test extra, with the extras it pulls in (``omnitrust[name]``) expanded."""
    extras = project["optional-dependencies"]
    out = []
    for dep in extras["test"]:
        m = re.fullmatch(r"omnitrust\[(\w+)\]", dep)
        out += extras[m.group(1)] if m else [dep]
    return out


def _stdlib():
    import sys

    return sys.stdlib_module_names


def test_readme_validation_error_example(tmp_path, capsys, monkeypatch):
    (tmp_path / "bad.toml").write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        '[[brands]]\nname = "Aurora"\n[brands.policy]\n'
        "emails_per_week = -1\ntransparncy = 0.5\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "bad.toml"])
    captured = capsys.readouterr()
    printed = (captured.out + captured.err).strip().splitlines()
    quoted = quoted_block(README, "omnitrust validate bad.toml")
    assert code == 2
    assert len(printed) == len(quoted), printed
    for q, p in zip(quoted, printed, strict=True):
        assert matches(q, p), (q, p)


BAD_EXPERIMENTS = {
    "design.method = 'random'": '[design]\nmethod = "random"\n',
    "unknown key 'colour'": 'colour = "red"\n',
    "no brands entry named 'Zed'": '[design.factors]\n"brands.Zed.policy.transparency" = [0.1]\n',
    "design point 1": '[design.factors]\n"brands.Aurora.policy.security_investment" = [0.5, 1.5]\n',
}


@pytest.mark.parametrize("key", list(BAD_EXPERIMENTS))
def test_experiments_md_quoted_error_lines(tmp_path, capsys, monkeypatch, key):
    quoted = [
        line
        for line in re.findall(
            r"^omnitrust sweep: error: exp\.toml: .*$", EXPERIMENTS_MD, flags=re.M
        )
        if key in line
    ]
    assert len(quoted) == 1, key
    (tmp_path / "exp.toml").write_text(
        f'name = "t"\nbase = "{(SCENARIOS / "baseline.toml").as_posix()}"\n' + BAD_EXPERIMENTS[key]
    )
    monkeypatch.chdir(tmp_path)
    code = main(["sweep", "exp.toml", "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert quoted[0] in err, (quoted[0], err)


def test_readme_compare_output_headers(tmp_path, capsys):
    quoted = quoted_block(README, "omnitrust compare scenarios/baseline.toml")
    header = next(line for line in quoted if line.startswith("Differences vs baseline"))
    columns = quoted[quoted.index(header) + 1].split()
    pairing = next(line for line in quoted if line.startswith("Pairing:"))
    code = main(
        [
            "compare",
            str(SCENARIOS / "baseline.toml"),
            str(SCENARIOS / "transparent_personalization.toml"),
            "--replications",
            "3",
            "--days",
            "30",
            "--consumers",
            "500",
            "--focus-brand",
            "Aurora",
            "--workers",
            "1",
            "--no-progress",
            "--no-charts",
            "--bootstrap",
            "100",
            "--out",
            str(tmp_path / "tp"),
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert header in out
    assert out[out.index(header) + 1].split() == columns
    rows = out[out.index(header) + 2 : out.index(header) + 8]
    assert [r.split()[2] for r in rows] == [
        q.split()[2] for q in quoted[quoted.index(header) + 2 :][:6]
    ]
    prefix = pairing.split(" 0.")[0]
    assert any(line.startswith(prefix) for line in out), prefix


def test_readme_quotes_the_recorded_mutation_score():
    """The mutation score in the README is the one benchmarks/mutation.py recorded, with its
    count, and the record adds up (every mutant has an outcome; equivalents carry a reason)."""
    rec = json.loads((ROOT / "benchmarks" / "results" / "mutation.json").read_text())
    assert rec["complete"], "a run that was stopped part-way"
    results = rec["results"]
    assert len(results) == rec["mutants"]
    outcomes = [r["outcome"] for r in results]
    assert set(outcomes) <= {"killed", "survived", "invalid", "stale"}
    assert outcomes.count("killed") == rec["killed"]
    equivalent = [r for r in results if r["equivalent"]]
    assert all(r["outcome"] == "survived" for r in equivalent)
    assert len(equivalent) == rec["equivalent"]
    scored = rec["mutants"] - rec["equivalent"] - rec["invalid"] - rec["stale"]
    figure = f"{rec['killed']} of {scored} mutants killed ({rec['killed'] / scored:.0%})"
    assert figure in " ".join(README.split()), figure
    assert rec["command"].split()[1] == "benchmarks/mutation.py"
    assert rec["command"] in README


def test_readme_says_what_the_means_of_a_run_shorter_than_30_days_cover():
    # review: the README said summary.csv and the printed table hold means "of the last 30
    # days", with no word for a shorter run, whose means the code takes over all its days
    import pandas as pd

    from sim.analysis.summary import summarise

    rows = [
        ("s", rep, day, "Aurora", "all", "trust", float(day)) for rep in (0, 1) for day in range(10)
    ]
    ts = pd.DataFrame(
        rows, columns=["scenario", "replication", "day", "brand", "channel", "metric", "value"]
    )
    s = summarise(ts)
    assert s["window_days"].tolist() == [10] and s["mean"].tolist() == [4.5]  # days 0..9: 4.5
    text = " ".join(README.split())
    csv = text[text.index("`summary.csv` (") :].split("), `manifest.json`")[0]
    assert "shorter than 30 days" in csv and "window_days" in csv, csv
    printed = text[text.index("printed table gives trust") :].split(". ")[0]
    assert "shorter run" in printed, printed
