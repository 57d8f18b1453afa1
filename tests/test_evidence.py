"""`omnitrust evidence`: the model's figures next to the published ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.evidence import TARGETS
from sim.cli import main

from .conftest import SCENARIOS


def test_evidence_command_reports_every_target(tmp_path, capsys):
    out = tmp_path / "evidence.csv"
    code = main(
        [
            "evidence",
            str(SCENARIOS / "baseline.toml"),
            "--consumers",
            "3000",
            "--replications",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table["target"]) == list(TARGETS)
    for name in TARGETS:
        assert name in printed
    values = table.set_index("target")["model"]
    shares = values[["multichannel_share", "store_only_share", "online_only_share"]]
    assert np.isclose(shares.sum(), 1.0, atol=1e-9)  # the three channel groups partition buyers
    assert 0 < values["breach_stopped_dealing"] < 1
    assert values["breach_abnormal_churn"] > 0  # exposed customers leave more than others


def test_evidence_rejects_unknown_brand(capsys):
    code = main(["evidence", str(SCENARIOS / "baseline.toml"), "--brand", "Nobody"])
    assert code == 2
    assert "Nobody" in capsys.readouterr().err
