"""omnitrust dashboard: the two-market model, the command line, and the page in a real browser."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.report import CHROMIUM_ARGS  # the flags the report prints with
from sim.cli import main
from sim.dashboard.market import LeverMarket
from sim.mechanisms.metrics import EV
from sim.model import TrustModel
from sim.scenario.loading import load_scenario

from .conftest import ROOT, SCENARIOS, as_a_terminal_starts_it

SMALL = {"consumers": 600, "days": 20, "warmup_days": 10}
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = ROOT / "docs" / "dashboard.png"


def run(market: LeverMarket) -> LeverMarket:
    while market.running:
        market.step()
    return market


# --- the model behind the page ------------------------------------------------------------------
def test_unchanged_market_is_the_scenario_run_with_the_same_seed():
    market = run(LeverMarket(str(SCENARIOS / "baseline.toml"), transparency=0.95, **SMALL))
    plain = TrustModel(
        str(SCENARIOS / "baseline.toml"),
        seed=market.unchanged.seed_value,
        overrides={f"simulation.{k}": v for k, v in SMALL.items()},
    )
    plain.run()
    assert np.array_equal(market.unchanged.recorder.stocks, plain.recorder.stocks)
    assert market.changed.scenario.brands[0].policy.transparency == 0.95
    assert not np.array_equal(market.changed.recorder.stocks, plain.recorder.stocks)
    assert market.steps == SMALL["days"] and np.isfinite(market.days_per_second)


def test_a_policy_change_past_the_horizon_leaves_the_market_before_it():
    # privacy_first_switch changes Aurora's policy on day 90; over a 20-day horizon its days
    # 0..19 run the baseline's policies, so the unchanged market is the baseline, same seed
    market = run(LeverMarket(str(SCENARIOS / "privacy_first_switch.toml"), seed=4, **SMALL))
    plain = TrustModel(
        str(SCENARIOS / "baseline.toml"),
        seed=4,
        overrides={f"simulation.{k}": v for k, v in SMALL.items()},
    )
    plain.run()
    assert market.unchanged.scenario.brands == load_scenario("baseline").brands
    assert np.array_equal(market.unchanged.recorder.stocks, plain.recorder.stocks)


def test_levers_reach_the_chosen_brand_and_the_world():
    market = LeverMarket(
        brand="Borealis",
        emails_per_week=7.0,
        data_collection="contact only",
        compensation="voucher",
        attack_pressure=4.0,
        **SMALL,
    )
    borealis = next(b for b in market.changed.scenario.brands if b.name == "Borealis")
    assert borealis.policy.emails_per_week == 7.0
    assert borealis.policy.data_collection == ["contact"]
    assert borealis.policy.compensation == "voucher"
    assert market.changed.scenario.world.attack_pressure == 4.0
    aurora = [b for b in market.changed.scenario.brands if b.name == "Aurora"]
    assert aurora == [b for b in market.unchanged.scenario.brands if b.name == "Aurora"]


def test_breach_now_hits_only_the_changed_market():
    market = LeverMarket(**SMALL)
    for _ in range(5):
        market.step()
    event = market.breach_now(0.5, ["contact", "payment_card"])
    assert event.day == 5
    run(market)
    k = market.brand_names.index(market.brand)
    breaches = market.changed.recorder.counts[:, k, EV["breaches"]]
    assert breaches[5] >= 1
    assert market.unchanged.recorder.counts[5, k, EV["breaches"]] == 0
    with pytest.raises(ValueError, match="run is over"):
        market.breach_now(0.5, ["contact"])


def test_a_breach_at_the_tills_makes_consumers_wary_of_the_store_in_the_changed_market_only():
    from sim.core.catalogue import CHANNELS

    market = LeverMarket(**{**SMALL, "days": 60})
    market.step()
    event = market.breach_now(0.5, ["contact", "payment_card"], channel="store")
    assert event.channel == "store"
    while market.running:  # past the notice (at most the scenario's notice delay)
        market.step()
    k = market.brand_names.index(market.brand)
    store_of_k = 3 * k + CHANNELS.index("store")  # I8: wary_i = (brand, channel)
    assert (market.changed.population.wary == store_of_k).sum() > 0
    assert (market.unchanged.population.wary == store_of_k).sum() == 0


# --- command line -------------------------------------------------------------------------------
def test_without_the_extra_the_command_says_what_to_install():
    code = (
        "import sys; sys.modules['solara'] = None\n"
        "from sim.cli import main; sys.exit(main(['dashboard']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 2
    assert 'pip install -e ".[dashboard]"' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_scenario_or_brand_is_exit_2(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml" in capsys.readouterr().err
    assert main(["dashboard", str(SCENARIOS / "baseline.toml"), "--brand", "Zed"]) == 2
    assert "allowed: Aurora, Borealis, Cirrus" in capsys.readouterr().err


def test_the_default_scenario_is_the_bundled_baseline_from_any_folder(
    tmp_path, monkeypatch, capsys
):
    """README: `omnitrust dashboard` with no argument serves the bundled baseline, from any
    folder (an installed wheel has no scenarios/ folder next to the user)."""
    from sim.dashboard.market import DEFAULT_SCENARIO

    monkeypatch.chdir(tmp_path)
    # the command's default, up to the server (a brand the baseline lacks stops it before)
    assert main(["dashboard", "--brand", "Zed"]) == 2
    err = capsys.readouterr().err
    assert "no such scenario file" not in err and "allowed: Aurora, Borealis, Cirrus" in err
    # the page's default (a LeverMarket without a scenario) is the same bundled file
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    assert load_scenario(DEFAULT_SCENARIO) == baseline
    assert LeverMarket(**SMALL).unchanged.scenario.brands == baseline.brands


# --- in a real browser --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dashboard(**popen: object) -> tuple[subprocess.Popen, str]:
    """``omnitrust dashboard`` on a free loopback port, started as a user would (``python -m
    sim``, ``popen``: more of `subprocess.Popen`'s arguments); returns the process and its
    address once the page answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "OMNITRUST_SERVER": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        **{"stderr": subprocess.STDOUT, **popen},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return proc, url
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dashboard did not start:\n{proc.stdout.read()}")
            time.sleep(0.5)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


@pytest.fixture
def dashboard():
    """``omnitrust dashboard`` on a free loopback port; yields its address."""
    proc, url = start_dashboard()
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def chart_src(page) -> str:
    img = page.locator("img").last
    img.wait_for(timeout=60_000)
    return img.get_attribute("src") or ""


def assert_no_error(page) -> None:
    text = page.inner_text("body")
    for word in ("Traceback", "Error", "error in step"):
        assert word not in text, text[:2000]


@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [(signal.SIGINT, 130, "omnitrust dashboard: stopped"), (signal.SIGTERM, -signal.SIGTERM, "")],
    ids=["ctrl-c", "sigterm"],
)
def test_ctrl_c_or_sigterm_stops_the_dashboard_without_a_traceback(sig, code, said):
    """Ctrl-C is how a user stops the dashboard: its web server stops, then raises the signal
    again, which click (solara's command line) turned into an ``Abort`` traceback and exit 1.
    Ctrl-C now ends it with 130 and a one-line notice; SIGTERM (a service manager) by SIGTERM."""
    proc, _ = start_dashboard(
        stderr=subprocess.PIPE, start_new_session=True, preexec_fn=as_a_terminal_starts_it
    )
    try:
        os.killpg(proc.pid, sig)  # (a terminal's Ctrl-C reaches the whole foreground group)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "Abort" not in stderr, stderr
    assert said in stderr


def test_move_a_lever_and_the_charts_answer(dashboard, tmp_path):
    """Move Aurora's transparency slider, rebuild, run: the charts and the table change; a breach
    now is scheduled; the page shows no error. The screenshot goes to docs/dashboard.png when
    OMNITRUST_UPDATE_SCREENSHOT=1 (else to a temporary folder, so a test run leaves the tree
    clean)."""
    shot = (
        SCREENSHOT if os.environ.get("OMNITRUST_UPDATE_SCREENSHOT") == "1" else tmp_path / "d.png"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1250})
            page.goto(dashboard, timeout=120_000)
            run_button = page.get_by_role("button", name="Run to the end")
            run_button.wait_for(timeout=120_000)
            run_button.click()
            page.get_by_text("Day 120 of 120").wait_for(timeout=120_000)
            assert "days/s" in page.inner_text("body")
            before = chart_src(page)
            assert page.get_by_text("Levers moved from the scenario: none").count() == 1

            # move Aurora's transparency slider to near its right end, rebuild, run
            slider = page.locator(".v-input", has_text="Aurora: transparency").locator(".v-slider")
            box = slider.bounding_box()
            page.mouse.click(box["x"] + 0.95 * box["width"], box["y"] + box["height"] / 2)
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Levers moved from the scenario: transparency").wait_for(
                timeout=120_000
            )
            page.get_by_role("button", name="Run to the end").click()
            page.get_by_text("Day 120 of 120").wait_for(timeout=120_000)
            page.wait_for_timeout(1500)
            after = chart_src(page)
            assert after and after != before
            table = page.inner_text("table")
            trust_row = next(line for line in table.splitlines() if line.startswith("trust"))
            assert not trust_row.rstrip().endswith("+0.000"), table

            # a breach now: scheduled, drawn, no error
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            for _ in range(3):
                page.get_by_role("button", name="Step").click()
            page.get_by_role("button", name="Breach Aurora now").click()
            page.get_by_text("Breach of Aurora scheduled for day").wait_for(timeout=60_000)
            page.get_by_role("button", name="Run to the end").click()
            page.get_by_text("Day 120 of 120").wait_for(timeout=120_000)
            page.wait_for_timeout(1500)
            assert_no_error(page)
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert Path(shot).stat().st_size > 10_000


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_controls_start_at_the_scenarios_own_values(path):
    """Untouched controls move no lever: every slider's grid passes through the scenario's value
    (a slider snapping 730 days of retention to 720 would be a silent lever move)."""
    from sim.dashboard.app import model_params

    params = model_params(str(path))
    for name, c in params.items():
        if isinstance(c, dict) and "step" in c:  # the browser snaps a value to min + k * step
            k = (c["value"] - c["min"]) / c["step"]
            assert abs(k - round(k)) < 1e-6 and c["min"] <= c["value"] <= c["max"], name
    initial = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    change = load_scenario(path).policy_from_day  # the controls start after it (default horizon)
    initial.update(consumers=100, days=5 if change is None else change + 1, warmup_days=0)
    market = LeverMarket(**initial)
    assert market.changed.scenario == market.unchanged.scenario


def test_another_host_prints_the_no_authentication_warning():
    """Any --host but the default loopback warns (127.0.0.2 is loopback too, so nothing is
    exposed by the test)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "dashboard",
            "--host",
            "127.0.0.2",
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "omnitrust dashboard: http://" in line:
                break
        text = "".join(lines)
        assert "warning: the dashboard listens on 127.0.0.2" in text
        assert "no authentication" in text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
