"""The dashboard page: a Solara page on a `LeverMarket` (served by ``omnitrust dashboard``).

Sidebar: Reset / play / "Step (N days)" (N: the days per Step and per redraw while playing, a
slider), and one control per keyword of `LeverMarket`, each showing its value and unit: the size of
the run, the chosen brand's policy levers and the world's uncertainties. Moving a control and
pressing Reset rebuilds both markets (the warm-up included); play, Step or "Run to the end"
advances them, and once the run is over play and Step are disabled and the sidebar says to Reset.
The page shows the day, the step rate, the chosen brand's headline numbers next to the unchanged
scenario's, a "breach now" control, and four live charts (trust, consent rate, revenue, net value)
for every brand: solid with the levers, dashed unchanged.

The controls are the page's own (Mesa's SolaraViz kept play and Step enabled after "Run to the end"
until clicked once, showed no slider's value and called a 5-day step "Step"); the page redraws on
Mesa's `update_counter`.

The scenario and brand come from the environment (set by ``omnitrust dashboard``):
``OMNITRUST_DASHBOARD_SCENARIO`` and ``OMNITRUST_DASHBOARD_BRAND``.

`Page` is what solara serves: each browser session (each page load) builds its own `LeverMarket`
at day 0, so two tabs, or two users, never step each other's market.
"""

from __future__ import annotations

import math
import os
import shlex
import threading
import time
from typing import get_args

import matplotlib as mpl
import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from . import quiet_third_party_warnings

quiet_third_party_warnings()  # (before Mesa's page components are defined)
from mesa.visualization.utils import force_update, update_counter  # noqa: E402

from ..analysis import style  # noqa: E402
from ..mechanisms.metrics import STOCKS, net_value  # noqa: E402
from ..scenario.loading import load_scenario  # noqa: E402
from ..scenario.schema import BreachChannel, Policy, World  # noqa: E402
from .market import (  # noqa: E402
    DATA_COLLECTION_CHOICES,
    DEFAULT_SCENARIO,
    LeverMarket,
    Recorded,
    Snapshot,
    default_size,
)

SCENARIO_ENV, BRAND_ENV = "OMNITRUST_DASHBOARD_SCENARIO", "OMNITRUST_DASHBOARD_BRAND"
AS_TYPED_ENV = "OMNITRUST_DASHBOARD_SCENARIO_AS_TYPED"  # the scenario as the user wrote it
BREACH_CHANNELS = list(get_args(BreachChannel))  # where a breach can happen (I8)
NO_CHANNEL = "not tied to a channel"
SMOOTH_DAYS = 7  # revenue and net value are shown as 7-day means (daily values are noisy)
DAYS_PER_STEP = 5  # days per Step click and per redraw while playing (the slider's start)

# (lever, label, control, min, max, step) for the brand's policy and for the world.
POLICY_CONTROLS = (
    ("transparency", "transparency", "SliderFloat", 0.0, 1.0, 0.05),
    ("personalization_skill", "personalization skill", "SliderFloat", 0.0, 1.0, 0.05),
    ("emails_per_week", "e-mails", "SliderFloat", 0.0, 21.0, 0.5),
    ("email_targeting", "e-mail targeting", "SliderFloat", 0.0, 1.0, 0.05),
    ("third_party_sharing", "third-party sharing", "SliderFloat", 0.0, 1.0, 0.05),
    ("omnichannel_integration", "omnichannel integration", "SliderFloat", 0.0, 1.0, 0.05),
    ("security_investment", "security investment", "SliderFloat", 0.0, 1.0, 0.05),
    ("data_retention_days", "data retention", "SliderInt", 0, 3650, 30),
    ("notify_within_days", "breach notice within", "SliderInt", 0, 180, 1),
)  # (an int slider only when the scenario's value is a whole number of days, else a float one)
WORLD_CONTROLS = (
    ("attack_pressure", "world: attack pressure", "SliderFloat", 0.0, 10.0, 0.25),
    ("contagion", "world: contagion", "SliderFloat", 0.0, 1.0, 0.05),
    ("media_amplification", "world: media amplification", "SliderFloat", 0.0, 1.0, 0.05),
)


def model_params(scenario_path: str, brand: str | None = None) -> dict:
    """SolaraViz controls for `LeverMarket`, each starting at the scenario's own value."""
    sc = load_scenario(scenario_path)
    spec = next((b for b in sc.brands if b.name == brand), sc.brands[0])
    size = default_size(sc)
    params: dict = {
        "scenario": scenario_path,
        "brand": spec.name,
        "seed": sc.simulation.seed,
        "consumers": _slider("consumers", "SliderInt", size["consumers"], 500, 20000, 500),
        "days": _slider(
            "horizon", "SliderInt", size["days"], 30, max(730, size["days"]), 10, "days"
        ),
        "warmup_days": _slider(
            "warm-up", "SliderInt", size["warmup_days"], 0, max(3650, size["warmup_days"]), 5,
            "days",
        ),
    }  # fmt: skip
    for name, label, kind, lo, hi, step in POLICY_CONTROLS:
        value = float(getattr(spec.policy, name))
        if kind == "SliderInt" and value.is_integer():
            value = int(value)
        else:  # (a fractional notice or retention, 2.5 days: an int slider would move it to 2)
            kind = "SliderFloat"
        params[name] = _slider(
            f"{spec.name}: {label}", kind, value, lo, max(hi, value), step, _unit(Policy, name)
        )
    params["data_collection"] = {
        "type": "Select",
        "label": f"{spec.name}: data collected",
        "value": "as in the scenario",
        "values": list(DATA_COLLECTION_CHOICES),
    }
    params["compensation"] = {
        "type": "Select",
        "label": f"{spec.name}: compensation after a breach",
        "value": spec.policy.compensation,
        "values": ["none", "voucher", "credit_monitoring"],
    }
    for name, label, kind, lo, hi, step in WORLD_CONTROLS:
        value = float(getattr(sc.world, name))
        params[name] = _slider(label, kind, value, lo, max(hi, value), step, _unit(World, name))
    return params


# schema units that a slider's own range already says (a 0-1 level or share): not repeated
PLAIN_UNITS = ("level", "share")


def _unit(section, name: str) -> str:
    """The unit of ``section.name`` as the schema documents it (`sim.scenario.schema.P`), or ""
    for a plain 0-1 level or share."""
    extra = section.model_fields[name].json_schema_extra
    unit = extra.get("unit", "") if isinstance(extra, dict) else ""
    unit = "" if unit in PLAIN_UNITS else unit
    return unit.removeprefix("emails ")  # ("e-mails = 1 per subscriber-week")


def _slider(label: str, kind: str, value, lo, hi, step, unit: str = "") -> dict:
    """A slider whose grid passes through ``value`` (else the slider would snap the scenario's
    own value to a neighbour and report a lever as moved); ``unit`` is shown after its value."""
    lo = value - step * math.floor((value - lo) / step + 1e-9)
    if kind == "SliderFloat":
        lo = round(lo, 10) + 0.0  # (no -0.0)
    return {
        "type": kind, "label": label, "value": value, "min": lo, "max": hi, "step": step,
        "unit": unit,
    }  # fmt: skip


def value_text(value, unit: str = "") -> str:
    """A control's value as its label shows it: ``7.5 per subscriber-week``, ``×1.25``
    (a multiplier), ``0.3``, ``2,000`` (the browser's float noise, 0.30000000000000004, rounded
    away)."""
    if isinstance(value, float):
        value = round(value, 10)
        number = f"{int(value):,}" if value.is_integer() and abs(value) >= 1000 else f"{value:g}"
    else:
        number = f"{value:,}" if isinstance(value, int) else str(value)
    if unit == "multiplier":
        return f"×{number}"
    return f"{number} {unit}" if unit else number


def control_label(spec: dict, value) -> str:
    """A sidebar control's label with its current value, e.g. ``Aurora: transparency = 0.3``."""
    return f"{spec['label']} = {value_text(value, spec.get('unit', ''))}"


# ---------------------------------------------------------------------------------------------
def _smooth(x: np.ndarray) -> np.ndarray:
    """Trailing mean over SMOOTH_DAYS days (fewer at the start), along axis 0."""
    c = np.cumsum(x, axis=0)
    out = c.copy()
    out[SMOOTH_DAYS:] = c[SMOOTH_DAYS:] - c[:-SMOOTH_DAYS]
    n = np.minimum(np.arange(1, len(x) + 1), SMOOTH_DAYS)
    return out / n[:, None]


def _daily(rec: Recorded) -> dict[str, np.ndarray]:
    """Per-day, per-brand revenue and net value (EUR) of a market's recorded days (days,
    brands)."""
    return {"revenue": rec.revenue.sum(axis=2), "net value": net_value(rec.counts)}


def _series(rec: Recorded) -> dict[str, np.ndarray]:
    """Per-day, per-brand series of a market's recorded days, as charted: revenue and net value
    as SMOOTH_DAYS-day trailing means."""
    daily = _daily(rec)
    return {
        "trust": rec.stocks[:, :, STOCKS.index("trust")],
        "consent rate": rec.stocks[:, :, STOCKS.index("consent_rate")],
        f"revenue/day, EUR ({SMOOTH_DAYS}-day mean)": _smooth(daily["revenue"]),
        f"net value/day, EUR ({SMOOTH_DAYS}-day mean)": _smooth(daily["net value"]),
    }


def _snapshot(model: LeverMarket | Snapshot) -> Snapshot:
    """``model``'s `LeverMarket.snapshot` (both markets at the same day, read under its lock while
    the play thread steps), or ``model`` when it is one already."""
    return model if isinstance(model, Snapshot) else model.snapshot()


@solara.component
def Charts(model: LeverMarket):
    """Trust, consent rate, revenue and net value per brand: solid with the levers, dashed the
    unchanged scenario (same seed)."""
    update_counter.get()
    snap = model.snapshot()  # (the play thread may be stepping: both markets at one day)
    changed, unchanged = _series(snap.changed), _series(snap.unchanged)
    styles = style.brand_styles(snap.brand_names)  # a brand's colour (+ marker) in every chart
    with mpl.rc_context(style.RC):
        fig = Figure(figsize=(6.4, 7.0), dpi=110, layout="constrained")
        axes = fig.subplots(2, 2, sharex=True).ravel()
        for ax, (title, values) in zip(axes, changed.items(), strict=True):
            days = np.arange(len(values))
            for k, name in enumerate(snap.brand_names):
                st = styles[name]
                ax.plot(days, unchanged[title][:, k], **st, ls="--", lw=1.2, alpha=0.8)
                ax.plot(days, values[:, k], **st, lw=2.0 if name == snap.brand else 1.4,
                        label=name)  # fmt: skip
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
            for ev in snap.breaches_scheduled:
                ax.axvline(ev.day, color="black", lw=0.8, ls=":")
        for ax in axes[2:]:
            ax.set_xlabel("day", fontsize=8)
        axes[0].set_xlim(0, max(snap.days - 1, 1))
        # the key above the panels, never over a line
        handles = [Line2D([], [], **styles[n], lw=2, label=n) for n in snap.brand_names]
        handles += [
            Line2D([], [], color="0.3", lw=1.4, label="levers moved"),
            Line2D([], [], color="0.3", lw=1.2, ls="--", label="unchanged"),
        ]
        if snap.breaches_scheduled:
            handles.append(Line2D([], [], color="black", lw=0.8, ls=":", label="breach now"))
        fig.legend(
            handles=handles, loc="outside upper center", ncols=len(handles), fontsize=7,
            frameon=False,
        )  # fmt: skip
    solara.FigureMatplotlib(fig, format="png")


def _value_at(scenario, path: str):
    """The value at a dotted path of a validated scenario (brands by name)."""
    cur = scenario
    for part in path.split("."):
        if isinstance(cur, list):
            cur = next(b for b in cur if b.name == part)
        else:
            cur = getattr(cur, part)
    return cur


DASH = "–"  # what a number not known yet (day 0) shows


def _mean_so_far(daily: np.ndarray, k: int) -> float:
    """Brand ``k``'s mean of the daily values recorded so far (NaN before the first day)."""
    return float(daily[:, k].mean()) if len(daily) else float("nan")


def _fmt(value: float, fmt: str) -> str:
    """``value`` formatted, or a dash when it is not a number (nothing recorded yet)."""
    return DASH if not np.isfinite(value) else f"{value:{fmt}}"


def headline_rows(model: LeverMarket | Snapshot) -> list[str]:
    """The table of the chosen brand's numbers, levers moved vs unchanged (Markdown rows):
    trust and consent rate today, revenue and net value per day so far (the mean of the raw
    daily values, not of the charts' smoothed lines)."""
    model = _snapshot(model)
    k = model.brand_names.index(model.brand)
    rows = [
        "| " + model.brand + " | levers moved | unchanged | difference |",
        "|---|---|---|---|",
    ]
    rec_c, rec_u = _series(model.changed), _series(model.unchanged)
    for title, label, fmt in (
        ("trust", "trust (today)", ".3f"),
        ("consent rate", "consent rate (today)", ".1%"),
    ):
        a = rec_c[title][-1, k] if len(rec_c[title]) else float("nan")
        b = rec_u[title][-1, k] if len(rec_u[title]) else float("nan")
        rows.append(f"| {label} | {_fmt(a, fmt)} | {_fmt(b, fmt)} | {_fmt(a - b, '+' + fmt)} |")
    day_c, day_u = _daily(model.changed), _daily(model.unchanged)
    for title, label in (
        ("revenue", "revenue/day so far (EUR)"),
        ("net value", "net value/day so far (EUR)"),
    ):
        a, b = _mean_so_far(day_c[title], k), _mean_so_far(day_u[title], k)
        rows.append(f"| {label} | {_fmt(a, ',.0f')} | {_fmt(b, ',.0f')} | {_fmt(a - b, '+,.0f')} |")
    return rows


def status_line(model: LeverMarket | Snapshot) -> str:
    """The day, the step rate (none before the first step) and the size."""
    model = _snapshot(model)
    days = model.days
    rate = model.days_per_second
    rate = f"{rate:,.0f}" if np.isfinite(rate) else DASH
    return f"**Day {model.day} of {days}** · {rate} days/s (step rate, both markets)"


def rerun_text(model: LeverMarket, scenario: str | None = None) -> str:
    """Seed, size and warm-up of the run, and the ``omnitrust run`` command that reproduces the
    unchanged market (replication 0 of the seed), or what the horizon leaves out. ``scenario``:
    the scenario as the command shows it (default: as the market was given it)."""
    sim = model.unchanged.scenario.simulation
    text = (
        f"Seed {model.base_seed} (replication 0) · {sim.consumers:,} consumers · {sim.days} days "
        f"after a {sim.warmup_days:,}-day warm-up. "
    )
    if model.dropped:
        return text + (
            f"**Left out at {sim.days} days: {', '.join(model.dropped)}**; set days to "
            f"{model.full_days} and Reset to bring {'it' if len(model.dropped) == 1 else 'them'} "
            "back."
        )
    command = (
        f"omnitrust run {shlex.quote(scenario or model.source)} --consumers {sim.consumers} "
        f"--days {sim.days} --seed {model.base_seed} --replications 1"
    )
    if sim.warmup_days != model.own_warmup_days:
        return text + (
            f"The unchanged market reruns as `{command}` on a copy of the scenario with "
            f"warmup_days = {sim.warmup_days} in [simulation]"
        )
    return text + f"The unchanged market reruns as `{command}`"


@solara.component
def Status(model: LeverMarket, playing: bool = False):
    """Day, step rate, size and seed, the brand's headline numbers next to the unchanged market,
    run to the end and a breach now (neither while playing: one thread steps a market)."""
    update_counter.get()

    def run_to_end():
        start, first = time.perf_counter(), model.day
        while model.running:
            model.step()
        elapsed = time.perf_counter() - start
        if model.day > first:
            model.days_per_second = (model.day - first) / max(elapsed, 1e-9)
        force_update()

    snap = model.snapshot()  # (the play thread may be stepping: both markets at one day)
    with solara.Column():
        solara.Markdown(status_line(snap))
        solara.Markdown(rerun_text(model, os.environ.get(AS_TYPED_ENV)))
        moved = [
            f"{path.rsplit('.', 1)[1]} = {value}"
            for path, value in model.overrides.items()
            if _value_at(model.unchanged.scenario, path) != _value_at(model.changed.scenario, path)
        ]
        solara.Markdown(
            "Levers moved from the scenario: "
            + (", ".join(moved) if moved else "none")
            + " (set them in the sidebar, then Reset)"
        )
        solara.Markdown("\n".join(headline_rows(snap)))
        solara.Button("Run to the end", on_click=run_to_end,
                      disabled=playing or not model.running, color="primary")  # fmt: skip
        # a new market (Reset) gets new breach controls: nothing scheduled, its brand's data
        BreachNow(model, playing).key(f"breach-now-{model.serial}")


@solara.component
def BreachNow(model: LeverMarket, playing: bool = False):
    """Schedule a breach of the brand today, in the changed market; not while playing (the day
    it would name is the one the play thread is simulating: pause first)."""
    update_counter.get()
    share, set_share = solara.use_state(0.3)
    types, set_types = solara.use_state(model.collected)  # all it holds, to start with
    channel, set_channel = solara.use_state(NO_CHANNEL)
    note, set_note = solara.use_state("")

    def breach():
        ev = model.breach_now(share, types, None if channel == NO_CHANNEL else channel)
        where = f" in the {ev.channel} channel" if ev.channel else ""
        set_note(f"Breach of {ev.brand} scheduled for day {ev.day}{where}: "
                 f"{ev.records_share:.0%} of records, {', '.join(ev.data_types)}.")  # fmt: skip
        force_update()

    with solara.Column():
        solara.Markdown(f"**Breach {model.brand} now** (this market only; the unchanged one "
                        "keeps its own course)")  # fmt: skip
        solara.SliderFloat(f"share of records exposed = {share:.0%}", value=share,
                           on_value=set_share, min=0.01, max=1.0, step=0.01,
                           thumb_label=False)  # fmt: skip
        solara.SelectMultiple("data types exposed", values=types, all_values=model.collected,
                              on_value=set_types)  # fmt: skip
        solara.Select("where it happened", value=channel, values=[NO_CHANNEL, *BREACH_CHANNELS],
                      on_value=set_channel)  # fmt: skip
        solara.Button(f"Breach {model.brand} now", on_click=breach,
                      disabled=playing or not model.running or not types, color="error")  # fmt: skip
        if playing:
            solara.Text("(pause the run to schedule a breach)")
        if note:
            solara.Info(note)


def page_settings(scenario_path: str | None = None, brand: str | None = None) -> dict:
    """The scenario path, the SolaraViz controls and the first market's keywords for
    ``scenario_path`` (default: the environment, else the bundled baseline)."""
    scenario_path = scenario_path or os.environ.get(SCENARIO_ENV, DEFAULT_SCENARIO)
    brand = brand or os.environ.get(BRAND_ENV) or None
    params = model_params(scenario_path, brand)
    initial = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    return {"scenario": scenario_path, "params": params, "initial": initial}


SETTINGS = page_settings()  # read once: a bad scenario stops the server at start


def step_label(days: int) -> str:
    """What the Step button says: how many days one click simulates."""
    return f"Step ({days} day{'' if days == 1 else 's'})"


def ended_text(model: LeverMarket) -> str:
    """What the sidebar says once the run is over."""
    return f"The run has ended after {model.day} days: press Reset to start again."


@solara.component
def Controls(
    model: solara.Reactive,
    params: solara.Reactive,
    playing: solara.Reactive,
    per_step: solara.Reactive,
):
    """Reset (a new market from the controls), play/pause and Step (``per_step`` days); play and
    Step are disabled, and the card says so, as soon as the run is over, however it got there."""
    update_counter.get()
    market = model.value
    running = market.running

    def reset():
        playing.set(False)
        model.set(LeverMarket(**params.value))
        force_update()

    def step():
        for _ in range(per_step.value):
            if not market.running:
                break
            market.step()
        force_update()

    solara.SliderInt(
        f"days per Step and per redraw while playing = {per_step.value}",
        value=per_step, min=1, max=30, step=1, thumb_label=False,
    )  # fmt: skip
    with solara.Row(justify="space-between", style={"flex-wrap": "wrap"}):  # (narrow: 2 lines)
        solara.Button("Reset", color="primary", on_click=reset)
        solara.Button("❚❚" if playing.value else "▶", color="primary", disabled=not running,
                      on_click=lambda: playing.set(not playing.value))  # fmt: skip
        solara.Button(step_label(per_step.value), color="primary", on_click=step,
                      disabled=playing.value or not running)  # fmt: skip
    if not running:
        solara.Info(ended_text(market))


@solara.component
def Levers(params: solara.Reactive):
    """The size of the run, the brand's levers and the world's uncertainties: one control per
    keyword of `LeverMarket`, each label showing its current value (and unit); Reset uses them."""
    for name, spec in SETTINGS["params"].items():
        if not isinstance(spec, dict):
            continue  # (scenario, brand, seed: fixed)
        value = params.value[name]

        def on_value(v, name=name):
            params.set({**params.value, name: v})

        if spec["type"] == "Select":
            solara.Select(spec["label"], value=value, values=spec["values"], on_value=on_value)
        else:
            slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
            slider(control_label(spec, value), value=value, on_value=on_value, min=spec["min"],
                   max=spec["max"], step=spec["step"], thumb_label=False)  # fmt: skip


# A slider's label (with its value) on a line of its own above the track: next to the track, a
# long label left the track no width at all.
SLIDER_CSS = """
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label {
    flex: 0 0 100%; max-width: 100%; height: auto; white-space: normal; margin-bottom: 2px;
}
"""
# Below 960 px the sidebar is a drawer over the page (Vuetify's mobile mode), 400 px wide at
# least: on a phone it covered the whole window, the menu button and the overlay that closes it
# included. There it leaves a 56-px strip of the page (Material's modal drawer) to tap it shut.
NARROW_CSS = """
@media (max-width: 959.98px) {
    .v-navigation-drawer {
        min-width: 0 !important; width: min(400px, calc(100vw - 56px)) !important;
    }
}
"""


@solara.component
def Page():
    """The page of one browser session: its own `LeverMarket` at day 0 (built when the session
    opens the page), the controls in the sidebar, the status and the charts."""
    model = solara.use_reactive(solara.use_memo(lambda: LeverMarket(**SETTINGS["initial"]), []))
    params = solara.use_reactive(dict(SETTINGS["initial"]))
    playing = solara.use_reactive(False)
    per_step = solara.use_reactive(DAYS_PER_STEP)
    lock = solara.use_memo(threading.Lock, [])

    def play(cancel: threading.Event):
        """Step the market while playing, redrawing every ``per_step`` days; stop at the end."""
        market = model.value
        with lock:  # (one player per session)
            while playing.value and market.running and not cancel.is_set():
                for _ in range(per_step.value):
                    if not market.running or cancel.is_set():
                        break
                    market.step()
                force_update()
        if not market.running and market is model.value:
            playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, model.value], intrusive_cancel=False)

    market = model.value
    solara.Style(SLIDER_CSS + NARROW_CSS)
    with solara.AppBar():
        solara.AppBarTitle(f"omnitrust: {market.brand}'s levers vs the unchanged market")
        solara.lab.ThemeToggle()
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            Controls(model, params, playing, per_step)
        with solara.Card("Model Parameters"):
            Levers(params)
    with solara.ColumnsResponsive(12, large=[5, 7]):  # side by side on a wide screen
        Status(market, playing.value)
        Charts(market)
