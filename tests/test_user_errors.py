"""Mistakes a new user makes get a clear exit-2 message instead of a silent surprise."""

from __future__ import annotations

from sim.cli import main

from .conftest import SCENARIOS


def test_event_after_the_horizon_is_an_error(capsys):
    code = main(["run", str(SCENARIOS / "breach_data_maximalist.toml"), "--days", "120"])
    err = capsys.readouterr().err
    assert code == 2
    assert "events[0].day = 120" in err and "0-119" in err and "Traceback" not in err


def test_brand_name_differing_only_in_case_is_an_error(tmp_path, capsys):
    f = tmp_path / "typo.toml"
    f.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        '[[brands]]\nname = "aurora"\n[brands.policy]\ntransparency = 0.9\n'
    )
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "'Aurora' and 'aurora'" in err and str(f) in err


def test_output_folder_that_is_a_file_is_an_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = ["--days", "5", "--consumers", "100", "--out", str(afile)]
    assert main(["run", str(SCENARIOS / "baseline.toml"), *args]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (
        main(["compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "siloed.toml"), *args])
        == 2
    )
    assert "is a file" in capsys.readouterr().err
