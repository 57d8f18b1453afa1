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
from sim.core.streams import replication_seed
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
        seed=replication_seed(4, 0),  # replication 0 of seed 4, as `omnitrust run` seeds it
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


def test_breach_now_while_a_day_is_simulated_happens_on_the_day_it_says():
    """The play thread steps the market while the page's "Breach now" runs in another thread.
    Pressed after the day's incidents were handled but before the day ended, the breach was
    scheduled for that day, already past: it never happened though the page said "scheduled
    for day N". It now waits for the day to end and happens on the day it names. With no attack
    pressure no breach but the scheduled one can happen, so the counts show it alone."""
    import threading

    market = LeverMarket(attack_pressure=0.0, **SMALL)
    market.step()
    incidents = market.changed.incidents
    handled, release = threading.Event(), threading.Event()
    step_incidents = incidents.step

    def held_step(*args, **kwargs):  # the day's incidents handled, the day not yet over
        frauds = step_incidents(*args, **kwargs)
        handled.set()
        release.wait(10)
        return frauds

    incidents.step = held_step
    player = threading.Thread(target=market.step)
    player.start()
    assert handled.wait(60)
    scheduled = []
    presser = threading.Thread(target=lambda: scheduled.append(market.breach_now(0.5, ["contact"])))
    presser.start()
    presser.join(0.5)
    release.set()
    player.join(60)
    presser.join(60)
    incidents.step = step_incidents
    (event,) = scheduled
    assert event.day == 2  # day 1 was being simulated when it was pressed
    run(market)
    k = market.brand_names.index(market.brand)
    breaches = market.changed.recorder.counts[:, k, EV["breaches"]]
    assert breaches[event.day] == 1 and breaches.sum() == 1


def _hold_between_the_markets(market: LeverMarket):
    """Step ``market`` in a thread and hold it mid-day: the changed market has simulated the day,
    the unchanged one not yet. Returns the thread and the event that lets the day end."""
    import threading

    held, release = threading.Event(), threading.Event()
    step_unchanged = market.unchanged.step

    def held_step():
        held.set()
        release.wait(10)
        step_unchanged()

    market.unchanged.step = held_step
    player = threading.Thread(target=market.step)
    player.start()
    assert held.wait(60)
    assert market.changed.recorder.days_recorded == market.unchanged.recorder.days_recorded + 1
    return player, release


def test_the_page_reads_both_markets_at_the_same_day_while_the_play_thread_steps():
    """The charts and the table read the recorders while the play thread steps. Read between the
    changed market's day and the unchanged one's, the charts drew one more day of the first than
    of the second (matplotlib: "x and y must have same first dimension") and the table set
    today's trust against yesterday's. The page now reads a snapshot under the lock a day holds:
    it waits for the day to end and sees both markets at the same day."""
    import threading

    import solara

    from sim.dashboard.app import Charts, headline_rows

    market = LeverMarket(**SMALL)
    for _ in range(3):
        market.step()
    player, release = _hold_between_the_markets(market)
    seen, errors = [], []

    def draw():
        try:
            solara.render(Charts(market), handle_error=False)
            seen.append((market.snapshot(), headline_rows(market)))
        except Exception as err:  # (the old page: matplotlib's ValueError)
            errors.append(err)

    reader = threading.Thread(target=draw)
    reader.start()
    reader.join(0.5)
    release.set()
    player.join(60)
    reader.join(60)
    assert errors == []
    ((snap, rows),) = seen
    assert snap.day == 4 == len(snap.changed.stocks) == len(snap.unchanged.stocks)
    assert len(snap.changed.counts) == len(snap.unchanged.revenue) == 4
    k = market.brand_names.index(market.brand)
    trust = [market.changed.recorder.stocks[3, k, 0], market.unchanged.recorder.stocks[3, k, 0]]
    assert _cells(rows, "trust")[1:3] == [f"{t:.3f}" for t in trust]  # both of day 3


def test_snapshots_taken_while_a_thread_steps_have_as_many_days_in_both_markets():
    import threading

    market = LeverMarket(**{**SMALL, "days": 60})
    player = threading.Thread(target=lambda: run(market))
    player.start()
    lengths = set()
    while player.is_alive():
        snap = market.snapshot()
        parts = (snap.changed.stocks, snap.changed.counts, snap.changed.revenue,
                 snap.unchanged.stocks, snap.unchanged.counts, snap.unchanged.revenue)  # fmt: skip
        lengths.add(tuple(len(a) for a in parts) + (snap.day,))
    player.join()
    assert len(lengths) > 1  # (read while it stepped)
    assert all(len(set(ls)) == 1 for ls in lengths), sorted(lengths)


def _breach_button(market: LeverMarket, playing: bool):
    """The "Breach now" button of the page's breach controls, rendered without a browser."""
    import ipyvuetify as v
    import solara

    from sim.dashboard.app import BreachNow

    _, rc = solara.render(BreachNow(market, playing), handle_error=False)
    return rc, rc.find(v.Btn, children=[f"Breach {market.brand} now"]).widget


def test_breach_now_is_disabled_while_playing():
    """As "Run to the end" is: while the play thread steps, the page cannot name the day a
    breach pressed now would happen on; paused, the button works."""
    market = LeverMarket(**SMALL)
    assert _breach_button(market, playing=True)[1].disabled
    assert not _breach_button(market, playing=False)[1].disabled


def test_breach_now_offers_and_takes_only_the_data_the_brand_collects():
    """The controls offered all eight data types; a breach of data Aurora does not collect (say
    location, with "contact only") exposed nobody but cost money and trust. They now offer the
    brand's own data_collection ("contact only" is ["contact"]) and breach_now refuses others,
    naming them and what is allowed."""
    import ipyvuetify as v

    market = LeverMarket(data_collection="contact only", **SMALL)
    rc, _ = _breach_button(market, playing=False)
    select = rc.find(v.Select, label="data types exposed").widget
    assert select.items == ["contact"] and select.v_model == ["contact"]
    with pytest.raises(ValueError, match=r"\['location'\]: Aurora does not collect it; allowed: "):
        market.breach_now(0.5, ["contact", "location"])
    assert market.breaches_scheduled == []
    assert market.breach_now(0.5, ["contact"]).data_types == ["contact"]


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


def _cells(rows: list[str], label: str) -> list[str]:
    row = next(r for r in rows if r.startswith(f"| {label}"))
    return [c.strip() for c in row.strip().strip("|").split("|")]


def test_money_per_day_so_far_is_the_mean_of_the_daily_values():
    """The table's revenue and net value per day so far are the means of the days' own values
    (the model's tidy table), not of the charts' 7-day means: those counted a breach's cost up to
    seven times (2x the net value five days after one)."""
    from sim.dashboard.app import headline_rows

    market = LeverMarket(**SMALL)
    for _ in range(12):
        market.step()
    market.breach_now(1.0, ["contact", "purchase_history", "payment_card"])
    for _ in range(3):
        market.step()
    rows = headline_rows(market)
    for label, metric in (("revenue/day so far", "revenue"), ("net value/day so far", "net_value")):
        means = []
        for m in (market.changed, market.unchanged):
            t = m.timeseries()
            days = t[(t.brand == market.brand) & (t.channel == "all") & (t.metric == metric)]
            assert sorted(days.day) == list(range(15))
            means.append(days.value.sum() / 15)
        assert _cells(rows, label)[1:3] == [f"{means[0]:,.0f}", f"{means[1]:,.0f}"], label


def test_before_the_first_day_the_page_shows_dashes_not_nan():
    from sim.dashboard.app import headline_rows, status_line

    market = LeverMarket(**SMALL)
    text = "\n".join([status_line(market), *headline_rows(market)])
    assert "nan" not in text.lower() and "– days/s" in text
    for label in ("trust", "consent rate", "revenue/day", "net value/day"):
        assert _cells(headline_rows(market), label)[1:] == ["–", "–", "–"]


def test_a_step_after_the_end_simulates_nothing_and_keeps_the_rate():
    market = run(LeverMarket(**SMALL))
    rate, day = market.days_per_second, market.day
    market.step()  # (Mesa's Step or play after "Run to the end")
    assert market.day == day == SMALL["days"] and market.days_per_second == rate
    assert not market.running


def test_the_unchanged_market_is_what_the_page_says_omnitrust_run_gives():
    """Seeded as `omnitrust run` seeds replication 0 (replication_seed(seed, 0)), with the
    scenario's own warm-up: the command the page prints, read back, gives the same numbers."""
    import shlex

    from sim import simulate
    from sim.dashboard.app import rerun_text

    market = run(LeverMarket("baseline", consumers=300, days=8))
    text = rerun_text(market)
    baseline = load_scenario("baseline")
    own = baseline.simulation
    assert f"Seed {own.seed} (replication 0) · 300 consumers · 8 days after a " in text
    assert f"{own.warmup_days:,}-day warm-up" in text
    argv = shlex.split(text.split("`")[1])
    assert argv[:3] == ["omnitrust", "run", "baseline"]
    opts = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert opts["--replications"] == "1"
    scenario = load_scenario(
        argv[2], consumers=int(opts["--consumers"]), days=int(opts["--days"]),
        seed=int(opts["--seed"]),
    )  # fmt: skip
    table = simulate(scenario, replication=0)
    mine = market.unchanged.timeseries()
    for metric in ("trust", "net_value", "subscribers"):
        a, b = (
            t[(t.metric == metric) & (t.channel == "all") & (t.brand != "all")].sort_values(
                ["day", "brand"]
            )
            for t in (table, mine)
        )
        assert len(a) == 8 * 3, metric  # 8 days x 3 brands
        assert np.array_equal(a.value.to_numpy(), b.value.to_numpy()), metric


def test_the_default_horizon_keeps_the_scenarios_events_and_a_shorter_one_says_what_it_drops():
    """breach_data_maximalist's breach is on day 120: the default horizon runs 60 days past it
    (180); at 100 days the page names the breach left out and the days that bring it back."""
    from sim.dashboard.app import model_params, rerun_text

    market = LeverMarket("breach_data_maximalist", consumers=100)
    assert market.changed.scenario.simulation.days == 180 and market.dropped == []
    assert [(e.kind, e.day) for e in market.unchanged.scenario.events] == [("breach", 120)]
    assert model_params("breach_data_maximalist")["days"]["value"] == 180
    short = LeverMarket("breach_data_maximalist", consumers=100, days=100)
    assert short.unchanged.scenario.events == []
    text = rerun_text(short)
    assert "Left out at 100 days: breach of Aurora on day 120" in text
    assert "set days to 180" in text
    assert LeverMarket("baseline", consumers=100).changed.scenario.simulation.days == 120


# --- command line -------------------------------------------------------------------------------
def test_without_the_extra_the_command_says_what_to_install():
    code = (
        "import sys; sys.modules['solara'] = None\n"
        f"from sim.cli import main; sys.exit(main(['dashboard', '--port', '{free_port()}']))"
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


def dashboard_command(*args: str) -> subprocess.CompletedProcess:
    """``omnitrust dashboard ARGS`` as a user starts it, for a command that stops at once."""
    return subprocess.run(
        [sys.executable, "-m", "sim", "dashboard", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "args", [["nosuch.toml"], ["--brand", "Zed"]], ids=["no-such-file", "no-such-brand"]
)
def test_a_bad_scenario_or_brand_is_one_line_on_stderr(args):
    """Checked before Mesa's page is imported: no third-party warning (solara's rules-of-hooks
    check on Mesa's ComponentsView printed 8 lines) before the one-line error."""
    proc = dashboard_command(*args)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert ("nosuch.toml" if args[0] == "nosuch.toml" else "'Zed'") in proc.stderr


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("nosuchhost.invalid", "--host nosuchhost.invalid: cannot resolve it"),
        ("192.0.2.1", "--host 192.0.2.1: Cannot assign requested address (not this machine's)"),
    ],
)
def test_a_bad_host_is_blamed_on_host_not_port(host, said):
    """Review: a host that does not resolve said '--port N: ...; choose another port'."""
    proc = dashboard_command("--port", str(free_port()), "--host", host)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"omnitrust dashboard: error: {said}"), line
    assert "allowed: a name or address of this machine" in line and "--port" not in line


def test_a_busy_port_is_one_line_and_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = dashboard_command("--port", str(port))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"omnitrust dashboard: error: --port {port}: cannot listen on 127.0.0.1:{port} "
        "(Address already in use); choose another port"
    ]


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


def assert_run_over(page, days: int) -> None:
    """Step and play disabled, "Run to the end" too, and the sidebar saying to Reset (Mesa's
    buttons stayed enabled after "Run to the end" until one was clicked once)."""
    page.get_by_text(f"The run has ended after {days} days: press Reset").wait_for(timeout=60_000)
    for name in ("Step", "▶", "Run to the end"):
        assert page.get_by_role("button", name=name).is_disabled(), name
    assert page.get_by_role("button", name="Reset").is_enabled()


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
    # nothing the user cannot act on: the page was requested once (start_dashboard), which made
    # solara warn in 14 lines about a samesite cookie over http
    assert "Warning" not in stderr, stderr


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

            # a breach now, on the day shown: scheduled, drawn, no error
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            assert "nan" not in page.inner_text("table").lower()  # dashes before the first day
            for day in (5, 10, 15):  # a Step is 5 days (its label says so)
                page.get_by_role("button", name="Step (5 days)").click()
                page.get_by_text(f"Day {day} of 120").wait_for(timeout=60_000)
            page.get_by_role("button", name="Breach Aurora now").click()
            page.get_by_text("Breach of Aurora scheduled for day 15:").wait_for(timeout=60_000)
            page.get_by_role("button", name="Run to the end").click()
            page.get_by_text("Day 120 of 120").wait_for(timeout=120_000)
            page.wait_for_timeout(1500)
            assert_no_error(page)
            page.screenshot(path=str(shot), full_page=False)

            # at the end, Step and play are disabled at once (no click needed) and say why
            assert_run_over(page, 120)

            # Reset forgets the breach; the breach controls offer the new market's data
            page.locator(".v-input", has_text="Aurora: data collected").click()
            page.get_by_role("option", name="contact only", exact=True).click()
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            page.get_by_text("data_collection = ['contact']").wait_for(timeout=60_000)
            assert page.get_by_text("Breach of Aurora scheduled").count() == 0
            exposed = page.locator(".v-input", has_text="data types exposed").inner_text()
            assert "contact" in exposed and "payment_card" not in exposed, exposed
        finally:
            browser.close()
    assert Path(shot).stat().st_size > 10_000


def test_the_controls_say_their_values_what_a_step_does_and_when_the_run_is_over(dashboard):
    """Each slider's label shows its value and unit, read here against the scenario file; the
    Step button says how many days a click simulates, and does that many for every click, three
    quick ones included (a review saw clicks less than ~300 ms apart lost); once the horizon is
    reached (by play here) play and Step are disabled without a further click."""
    from playwright.sync_api import expect, sync_playwright

    policy = load_scenario(SCENARIOS / "baseline.toml").brands[0].policy  # Aurora's
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1250})
            page.goto(dashboard, timeout=120_000)
            page.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            sidebar = page.inner_text(".v-navigation-drawer")
            for line in (
                f"Aurora: transparency = {policy.transparency:g}",
                f"Aurora: data retention = {policy.data_retention_days:g} days",
                f"Aurora: breach notice within = {policy.notify_within_days:g} days",
                "consumers = 2,000",
                "horizon = 120 days",
            ):
                assert line in sidebar, (line, sidebar)

            # a slider moved: its label shows the new value, the one the next market is built with
            slider = page.locator(".v-input", has_text="Aurora: transparency").locator(".v-slider")
            box = slider.bounding_box()
            page.mouse.click(box["x"] + 0.95 * box["width"], box["y"] + box["height"] / 2)
            label = page.locator(".v-input", has_text="Aurora: transparency").locator("label")
            expect(label).not_to_have_text(f"Aurora: transparency = {policy.transparency:g}")
            shown = label.inner_text().split(" = ")[1]
            assert shown != f"{policy.transparency:g}" and 0.9 <= float(shown) <= 1.0, shown
            page.get_by_role("button", name="Reset").click()
            page.get_by_text(f"Levers moved from the scenario: transparency = {shown} ").wait_for(
                timeout=120_000
            )

            # Step says what a click does, and does it: three quick clicks (no wait between
            # them, each while the last one's days and charts may still be computed) are 15 days
            step = page.get_by_role("button", name="Step (5 days)").bounding_box()
            for _ in range(3):
                page.mouse.click(step["x"] + step["width"] / 2, step["y"] + step["height"] / 2)
            page.get_by_text("Day 15 of 120").wait_for(timeout=60_000)
            per_step = page.locator(".v-input", has_text="days per Step").locator(".v-slider")
            box = per_step.bounding_box()
            page.mouse.click(box["x"] + 1, box["y"] + box["height"] / 2)  # its left end: 1
            page.get_by_role("button", name="Step (1 day)", exact=True).click()
            page.get_by_text("Day 16 of 120").wait_for(timeout=60_000)

            # play to the horizon (30 days a redraw: a chart per day takes minutes on a busy
            # machine): the controls are disabled as soon as it is reached
            page.mouse.click(box["x"] + box["width"] - 1, box["y"] + box["height"] / 2)
            page.get_by_role("button", name="Step (30 days)").wait_for(timeout=60_000)
            page.get_by_role("button", name="▶").click()
            page.get_by_text("Day 120 of 120").wait_for(timeout=120_000)
            assert_run_over(page, 120)
            assert_no_error(page)
        finally:
            browser.close()


def test_value_text_shows_numbers_as_typed_with_their_unit():
    from sim.dashboard.app import step_label, value_text

    assert value_text(0.1 + 0.2) == "0.3"  # the browser's float noise, rounded away
    assert value_text(730, "days") == "730 days"
    assert value_text(2000) == "2,000"
    assert value_text(1.25, "multiplier") == "×1.25"
    assert value_text(7.5, "per subscriber-week") == "7.5 per subscriber-week"
    assert value_text(3650.0, "days") == "3,650 days"
    assert (step_label(5), step_label(1)) == ("Step (5 days)", "Step (1 day)")


def test_each_browser_session_has_its_own_market(dashboard):
    """Two browsers (two sessions) on one dashboard: each starts at day 0, and stepping one
    leaves the other where it was (they shared one market: a new tab showed the last user's
    day 120, and Step in one tab moved everyone's)."""
    from playwright.sync_api import sync_playwright

    def day(page) -> str:
        return page.get_by_text("days/s (step rate").inner_text().split("·")[0].strip()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            first, second = (browser.new_context().new_page() for _ in range(2))
            first.goto(dashboard, timeout=120_000)
            first.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            first.get_by_role("button", name="Run to the end").click()
            first.get_by_text("Day 120 of 120").wait_for(timeout=120_000)
            second.goto(dashboard, timeout=120_000)
            second.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            second.get_by_role("button", name="Step").click()
            second.get_by_text("Day 5 of 120").wait_for(timeout=60_000)
            first.wait_for_timeout(1000)
            assert day(first) == "Day 120 of 120"
            first.reload()  # a new page load: a new market
            first.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            second.wait_for_timeout(1000)
            assert day(second) == "Day 5 of 120"
        finally:
            browser.close()


def test_on_a_phone_the_sidebar_can_be_closed(dashboard):
    """On a 390-px-wide window the sidebar (a drawer over the page below 960 px) was 400 px wide:
    it covered the whole window, the menu button and the overlay that closes it included, and
    could not be closed. It now leaves a 56-px strip of the page: a tap there closes it, the
    menu button opens it again, and its buttons stay inside it."""
    from playwright.sync_api import sync_playwright

    width, height = 390, 844
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(dashboard, timeout=120_000)
            page.get_by_text("Day 0 of 120").wait_for(timeout=120_000)
            drawer = page.locator(".v-navigation-drawer")
            box = drawer.bounding_box()
            assert box["x"] == 0 and box["width"] <= width - 56, box
            for name in ("Reset", "▶", "Step (5 days)"):
                button = page.get_by_role("button", name=name).bounding_box()
                assert button["x"] + button["width"] <= box["width"], (name, button, box)
            page.mouse.click(width - 20, height // 2)  # the strip of page beside it
            page.wait_for_function(
                "() => document.querySelector('.v-navigation-drawer')"
                ".getBoundingClientRect().right <= 0",
                timeout=10_000,
            )
            page.locator(".v-app-bar__nav-icon").click()  # the menu button opens it again
            page.wait_for_function(
                "() => document.querySelector('.v-navigation-drawer')"
                ".getBoundingClientRect().left >= 0",
                timeout=10_000,
            )
        finally:
            browser.close()


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


def test_a_fractional_notice_or_retention_starts_at_the_scenarios_value(tmp_path):
    """notify_within_days and data_retention_days are floats in the schema; their int sliders
    started 2.5 days of notice at 2 and 45.5 days of retention at 46, so an untouched page ran
    with the levers moved. Such a value now gets a float slider whose grid passes through it;
    a whole number of days keeps an int slider."""
    from sim.dashboard.app import model_params

    path = tmp_path / "notify25.toml"
    path.write_text(
        'extends = "baseline"\nname = "notify25"\n[[brands]]\nname = "Aurora"\n'
        "[brands.policy]\nnotify_within_days = 2.5\ndata_retention_days = 45.5\n"
    )
    params = model_params(str(path))
    for name, value in (("notify_within_days", 2.5), ("data_retention_days", 45.5)):
        c = params[name]
        assert c["type"] == "SliderFloat" and c["value"] == value, c
        k = (value - c["min"]) / c["step"]
        assert abs(k - round(k)) < 1e-9 and c["min"] <= value <= c["max"], c
    initial = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    market = LeverMarket(**{**initial, "consumers": 100, "days": 5, "warmup_days": 0})
    assert market.changed.scenario == market.unchanged.scenario
    assert market.changed.scenario.brands[0].policy.notify_within_days == 2.5
    baseline = model_params("baseline")
    assert baseline["notify_within_days"]["type"] == "SliderInt"
    assert baseline["data_retention_days"]["type"] == "SliderInt"


def test_another_host_prints_the_no_authentication_warning():
    """Any --host but the default loopback warns (127.0.0.2 is loopback too, so nothing is
    exposed by the test); the start says the size and seed the page runs."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "dashboard",
            "breach_data_maximalist",
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
        # the size, seed and the scenario's event, which the default horizon keeps; no
        # third-party warning (solara's hook check of Mesa's page)
        assert (
            "omnitrust dashboard: breach_data_maximalist, 2,000 consumers, 180 days after a "
            "1,825-day warm-up, seed 20161 (with its breach of Aurora on day 120)\n"
        ) in text
        assert "Warning" not in text and "use_state" not in text, text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
