"""omnitrust benchmark suite: one command, a printed table, a results file (issue 5).

    python benchmarks/run.py            # full: 10k, 100k, 1M consumers (~5 minutes)
    python benchmarks/run.py --quick    # 10k and 100k, fewer days and repeats (~2 minutes)

Measures, in one process unless said otherwise (docs/PERFORMANCE.md explains each number):

1. throughput of the full engine (all phases, incidents on, 5 brands: benchmarks/market5.toml) in
   consumer-days per second at each size: a fresh model per repeat, the step loop timed, median of
   the repeats; first-call compile excluded (warm-up) and reported separately from fresh
   interpreters (cold Numba cache, warm cache);
2. a per-phase profile of the engine (ns per consumer-day per kernel);
3. the per-agent Mesa reference (sim/reference/) on the same market at a size it can finish,
   and the speed ratio;
4. the memory-bandwidth floor (STREAM-like read-modify-write over arrays far larger than the
   caches) and the engine's ratio to the time that floor allows for the bytes of state it must
   touch per consumer-day;
5. peak memory per consumer at 1M consumers in a fresh interpreter;
6. start-up + a 20k-consumer, 3-brand, 365-day baseline run in a fresh interpreter (wall time),
   as a library call, and issue 14's command itself (``omnitrust run``, charts included, the
   warm-up read from the user cache) on its own and with a warm server (``omnitrust serve``),
   timed as ``benchmarks/startup.py --warm-cache`` and ``--server`` time it;
7. the trivial-update ladder (Mesa / NumPy / Numba) for context.

Results: benchmarks/results/latest.json and a dated copy, with the machine and versions.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_lib as bl  # noqa: E402

TARGETS = {
    "throughput_1m": 5e6,  # consumer-days/s at 1M consumers, 5 brands
    "ratio_vs_mesa": 300.0,
    "bytes_per_consumer": 200.0,
    "baseline_run_s": 2.0,
    "baseline_200k_cbd_s": 20e6,  # consumer-brand-days/s, baseline, 200k consumers, one core
}

COMPILE_PROBE = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, "benchmarks")
from bench_lib import scenario
from sim.model import TrustModel
t1 = time.perf_counter()
m = TrustModel(scenario(consumers=10000, days=30))
t2 = time.perf_counter()
m.run()
t3 = time.perf_counter()
m = TrustModel(scenario(consumers=10000, days=30))
t4 = time.perf_counter()
m.run()
t5 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_init_s": t2 - t1, "first_run_s": t3 - t2,
                  "second_init_s": t4 - t3, "second_run_s": t5 - t4}))
"""

STARTUP_PROBE = """
import sim
sim.run("scenarios/baseline.toml", replications=1)
"""

STARTUP_BREAKDOWN = """
import json, time
t0 = time.time()
import sim
from sim.core import timing  # records marks: OMNITRUST_TIMINGS is set by `startup`
from sim.experiments import run
t1 = time.time()
sim.run("scenarios/baseline.toml", replications=1)
print(json.dumps({"t0": t0, "t1": t1, "marks": timing.marks(), "end": time.time()}))
"""
"""The same call as STARTUP_PROBE, split by the marks the library records (`sim.core.timing`):
imports, then each step that ends with a mark (the model built from its warm-up, which `sim.run`
reads from the user cache like the timed probe; the recorded days, the first of which loads
Numba's cached kernels; the tidy table; provenance). A library call ends with the interpreter's
usual teardown (the `omnitrust` program skips it: `sim.cli.console`), part of "start and exit"."""


def breakdown(wall: float, out: str) -> dict:
    """Seconds per step of one STARTUP_BREAKDOWN run of ``wall`` seconds (printing ``out``);
    the steps add up to ``wall``: what no step covers is interpreter start and exit."""
    data = json.loads(out.strip().splitlines()[-1])
    steps = {"import_s": data["t1"] - data["t0"]}
    prev = data["t1"]
    names = {"warm-up": "model_s", "simulation": "days_s", "tidy table": "timeseries_s"}
    for name, at, _cpu in data["marks"]:
        if at < data["t1"]:
            continue  # (a mark taken while importing)
        key = names.get(name, "rest_s")
        steps[key] = steps.get(key, 0.0) + at - prev
        prev = at
    steps["rest_s"] = steps.get("rest_s", 0.0) + data["end"] - prev
    steps["process_s"] = data["end"] - data["t0"]
    steps["start_exit_s"] = wall - steps["process_s"]
    return steps


STARTUP_PROBE_NO_LOADING = """
import tomllib
import sim
from sim.scenario import Scenario
data = tomllib.load(open("scenarios/baseline.toml", "rb"))
sim.run(Scenario.model_validate(data), replications=1)
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def compile_times() -> dict:
    """Fresh interpreters: a 10k x 30-day market5 run twice, with a cold then a warm Numba cache.
    Compile (or cache load) = first run - second run."""
    out = {}
    cold_dir = tempfile.mkdtemp(prefix="omnitrust-numba-")
    try:
        for label, env in (("cold_cache", {"NUMBA_CACHE_DIR": cold_dir}), ("warm_cache", {})):
            _, stdout = bl.run_probe(COMPILE_PROBE, env)
            r = json.loads(stdout)
            r["compile_s"] = (
                r["first_init_s"] + r["first_run_s"] - r["second_init_s"] - r["second_run_s"]
            )
            out[label] = r
    finally:
        shutil.rmtree(cold_dir, ignore_errors=True)
    return out


def startup(repeats: int) -> dict:
    import importlib.util

    code = STARTUP_PROBE if importlib.util.find_spec("sim.loading") else STARTUP_PROBE_NO_LOADING
    bl.run_probe(code)  # make sure the Numba cache is warm
    walls = [bl.run_probe(code)[0] for _ in range(repeats)]
    _, imp = bl.run_probe(
        "import time; t = time.perf_counter(); import sim.model; print(time.perf_counter() - t)"
    )
    out = {
        "command": f"python -c '{code.strip()}'",
        "wall_s": walls,
        "median_s": median(walls),
        "import_sim_model_s": float(imp),
    }
    if code is STARTUP_PROBE:
        with tempfile.TemporaryDirectory(prefix="omnitrust-marks-") as tmp:
            env = {"OMNITRUST_TIMINGS": str(Path(tmp) / "marks.json")}
            parts = [breakdown(*bl.run_probe(STARTUP_BREAKDOWN, env)) for _ in range(repeats)]
        keys = dict.fromkeys(k for p in parts for k in p)
        out["breakdown"] = {k: median(p.get(k, 0.0) for p in parts) for k in keys}
    return out


def command_startup(repeats: int) -> dict:
    """Issue 14's command, ``omnitrust run scenarios/baseline.toml --replications 1 --consumers
    20000 --workers 1`` (charts included), in fresh processes with the warm-up in a user cache
    an untimed run filled: on its own, then with a warm server (``omnitrust serve``) of the same
    environment, as ``benchmarks/startup.py --warm-cache`` and ``--server`` run it. Wall times."""
    su = importlib.import_module("startup")  # benchmarks/startup.py (this module has `startup`)
    scen, n = "scenarios/baseline.toml", 20_000
    out: dict = {"command": " ".join(["omnitrust", *su.command(scen, n, Path("DIR"))[3:]])}
    with tempfile.TemporaryDirectory(prefix="omnitrust-startup-cache-") as shared:
        cache = Path(shared)
        su.one_run(scen, n, cache)  # untimed: fills the user cache, writes the bytecode
        out["own_s"] = [su.one_run(scen, n, cache)["wall_s"] for _ in range(repeats)]
        serve = [sys.executable, "-m", "sim", "serve", "--idle", "10"]
        env = su.server_env(cache)
        subprocess.run(serve, cwd=bl.ROOT, env=env, check=True, capture_output=True)
        try:
            su.one_run(scen, n, cache, server=True)  # untimed
            out["served_s"] = [
                su.one_run(scen, n, cache, server=True)["wall_s"] for _ in range(repeats)
            ]
        finally:
            subprocess.run([*serve[:4], "--stop"], cwd=bl.ROOT, env=env, capture_output=True)
    out["own_median_s"] = median(out["own_s"])
    out["served_median_s"] = median(out["served_s"])
    return out


def memory(consumers: int) -> dict:
    _, out = bl.run_probe(
        f"import runpy, sys; sys.argv = ['memory_probe', '{consumers}', '3']; "
        "runpy.run_path('benchmarks/memory_probe.py', run_name='__main__')"
    )
    return json.loads(out)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per model for the engine throughput runs (default 1: one core)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=bl.BENCH / "results",
        help="folder for latest.json and the dated copy",
    )
    args = ap.parse_args(argv)
    quick = args.quick
    t_start = time.perf_counter()
    res: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": bl.machine(),
        "targets": TARGETS,
        "threads": args.threads,
    }

    log("compile times (fresh interpreters) ...")
    res["compile"] = compile_times()

    log("warm-up ...")
    bl.engine_throughput(2000, 30, 1, threads=args.threads)  # every kernel compiled or loaded

    sizes = [
        (10_000, 30 if quick else 60, 3 if quick else 5),
        (100_000, 20 if quick else 40, 3),
    ] + ([] if quick else [(1_000_000, 30, 3)])
    res["engine"] = []
    for n, days, repeats in sizes:
        log(f"engine {n:,} consumers x {days} days x {repeats} repeats ...")
        res["engine"].append(bl.engine_throughput(n, days, repeats, threads=args.threads))

    log("baseline, 200,000 consumers (benchmarks/engine200k.py) ...")
    import engine200k

    res["baseline_200k"] = engine200k.measure(
        200_000, 20 if quick else 30, 40 if quick else 60, 3, args.threads
    )

    ref_n, ref_days = (10_000, 10) if quick else (10_000, 30)
    log(f"per-agent Mesa reference {ref_n:,} x {ref_days} days ...")
    res["reference"] = bl.reference_throughput(ref_n, ref_days)
    same = next(e for e in res["engine"] if e["consumers"] == ref_n)
    best = res["engine"][-1]
    res["speed_ratio"] = {
        "same_size": same["consumer_days_per_s"] / res["reference"]["consumer_days_per_s"],
        "largest": best["consumer_days_per_s"] / res["reference"]["consumer_days_per_s"],
        # the same in process CPU time (robust to other processes on a shared machine; with
        # threads it counts every thread's time, so it is the one-core ratio)
        "same_size_cpu": res["reference"]["cpu_ns_per_consumer_day"]
        / same["cpu_ns_per_consumer_day"],
    }

    log("memory bandwidth (STREAM-like) ...")
    big = (1 if quick else 2) * 2**30
    res["stream"] = {"large": bl.stream(big), "population_sized": bl.stream(160 * 1_000_000)}
    sb = bl.state_bytes()
    res["state_bytes_per_consumer_day"] = sb
    floor_ns = sb["rmw"] / res["stream"]["large"]["rmw_gb_s_best"]  # bytes / (GB/s) = ns
    res["floor"] = {
        "ns_per_consumer_day": floor_ns,
        "consumer_days_per_s": 1e9 / floor_ns,
        "engine_ratio_to_floor": {
            str(e["consumers"]): e["ns_per_consumer_day"] / floor_ns for e in res["engine"]
        },
    }

    log("memory per consumer at 1M (fresh interpreter) ...")
    res["memory"] = memory(1_000_000)

    log("start-up + 20k x 365-day baseline run (fresh interpreters) ...")
    res["startup"] = startup(3)
    log("the command, omnitrust run, on its own and with a warm server ...")
    res["command_startup"] = command_startup(3)

    log("trivial-update ladder ...")
    res["trivial"] = bl.trivial_ladder(steps=3 if quick else 5)

    res["elapsed_s"] = time.perf_counter() - t_start
    res["verdict"] = verdict(res)
    table = render(res)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%dT%H%M%S")
    text = json.dumps(res, indent=2, sort_keys=False)
    (args.out / "latest.json").write_text(text)
    (args.out / f"{stamp}-{res['mode']}.json").write_text(text)
    (args.out / "latest.txt").write_text(table + "\n")
    log(f"written {args.out / 'latest.json'} and {stamp}-{res['mode']}.json")
    return res


def verdict(res: dict) -> dict:
    eng = {e["consumers"]: e for e in res["engine"]}
    big = eng.get(1_000_000) or eng[max(eng)]
    return {
        "throughput_1m": {
            "measured": big["consumer_days_per_s"],
            "at": big["consumers"],
            "ok": big["consumer_days_per_s"] >= TARGETS["throughput_1m"],
        },
        "ratio_vs_mesa": {
            "measured": res["speed_ratio"]["same_size"],
            "ok": res["speed_ratio"]["same_size"] >= TARGETS["ratio_vs_mesa"],
        },
        "bytes_per_consumer": {
            "measured": res["memory"]["peak_rss_bytes_per_consumer"],
            "ok": res["memory"]["peak_rss_bytes_per_consumer"] <= TARGETS["bytes_per_consumer"],
        },
        "baseline_run_s": {  # issue 14: the command, charts included; met with a warm server
            "measured": res["command_startup"]["served_median_s"],
            "ok": res["command_startup"]["served_median_s"] < TARGETS["baseline_run_s"],
        },
        "baseline_200k_cbd_s": {
            "measured": res["baseline_200k"]["consumer_brand_days_per_s"],
            "cpu": 1e9 / res["baseline_200k"]["cpu_ns_per_consumer_brand_day"],
            "ok": res["threads"] == 1
            and res["baseline_200k"]["consumer_brand_days_per_s"] >= TARGETS["baseline_200k_cbd_s"],
        },
    }


def render(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"omnitrust benchmarks ({res['mode']}), {res['date']}",
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; python {m['python']}, "
        f"numpy {m['numpy']}, numba {m['numba']}, mesa {m['mesa']}; "
        f"commit {m['git_commit'][:10]}{' (sim modified)' if m['sim_dirty'] else ''}",
        "",
    ]
    lines.append(
        f"Engine throughput, market5 (5 brands, incidents on), one process, "
        f"{res['threads']} thread(s); load average at start "
        f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'])}"
    )
    lines.append(
        f"  {'consumers':>10s} {'days':>5s} {'reps':>4s} {'Mcd/s':>8s} {'ns/cd':>7s} "
        f"{'cpu ns/cd':>9s} {'init s':>7s} {'B/consumer':>10s}"
    )
    for e in res["engine"]:
        lines.append(
            f"  {e['consumers']:>10,d} {e['days']:>5d} {e['repeats']:>4d} "
            f"{e['consumer_days_per_s'] / 1e6:>8.2f} {e['ns_per_consumer_day']:>7.1f} "
            f"{e['cpu_ns_per_consumer_day']:>9.1f} "
            f"{median(e['init_seconds']):>7.2f} {e['population_bytes_per_consumer']:>10.1f}"
        )
    b2 = res["baseline_200k"]
    lines.append(
        f"  baseline (3 brands), 200,000 consumers, {b2['days']} days after {b2['warmup_days']} "
        f"of warm-up: {b2['consumer_brand_days_per_s'] / 1e6:.2f} M consumer-brand-days/s "
        f"({b2['ns_per_consumer_brand_day']:.1f} ns wall, "
        f"{b2['cpu_ns_per_consumer_brand_day']:.1f} ns CPU per consumer-brand-day)"
    )
    c = res["compile"]
    lines.append(
        f"  compile (10k x 30 d, fresh interpreter): cold cache {c['cold_cache']['compile_s']:.1f} s, "
        f"warm cache {c['warm_cache']['compile_s']:.2f} s; import {c['warm_cache']['import_s']:.2f} s"
    )
    lines.append("")
    lines.append("Per-phase profile (ns per consumer-day and share of the step, median of repeats)")
    header = "  " + f"{'phase':12s}" + "".join(f"{e['consumers']:>12,d}" for e in res["engine"])
    lines.append(header)
    for ph in bl.PHASES:
        row = "  " + f"{ph:12s}"
        for e in res["engine"]:
            v = e["phase_ns_per_consumer_day"][ph]
            row += f"{v:>7.1f} {100 * v / e['ns_per_consumer_day']:3.0f}%"
        lines.append(row)
    lines.append("")
    r = res["reference"]
    lines.append(
        f"Per-agent Mesa reference (sim/reference/), {r['consumers']:,} x {r['days']} days: "
        f"{r['consumer_days_per_s']:,.0f} cd/s ({r['ns_per_consumer_day'] / 1000:.1f} us/cd), "
        f"init {median(r['init_seconds']):.1f} s"
    )
    lines.append(
        f"  engine / reference: {res['speed_ratio']['same_size']:,.0f}x at the same size, "
        f"{res['speed_ratio']['largest']:,.0f}x vs the engine's largest run; in CPU time "
        f"{res['speed_ratio']['same_size_cpu']:,.0f}x at the same size"
    )
    lines.append("")
    s, sb, f = res["stream"], res["state_bytes_per_consumer_day"], res["floor"]
    lines.append(
        f"Memory bandwidth, one thread: RMW {s['large']['rmw_gb_s_best']:.1f} GB/s "
        f"(median {s['large']['rmw_gb_s_median']:.1f}), triad {s['large']['triad_gb_s_best']:.1f} GB/s "
        f"over {s['large']['array_bytes'] / 2**30:.0f} GiB arrays; "
        f"RMW {s['population_sized']['rmw_gb_s_best']:.1f} GB/s at 160 MB (a 1M population)"
    )
    lines.append(
        f"  state touched per consumer-day: {sb['state']} B (read+write {sb['rmw']} B; "
        f"network {sb['network']:.0f} B not counted) -> floor {f['ns_per_consumer_day']:.1f} ns/cd "
        f"= {f['consumer_days_per_s'] / 1e6:.0f} Mcd/s"
    )
    lines.append(
        "  engine / floor: "
        + ", ".join(f"{k}: {v:.1f}x" for k, v in f["engine_ratio_to_floor"].items())
    )
    lines.append("")
    mem = res["memory"]
    lines.append(
        f"Memory at {mem['consumers']:,} consumers x {mem['brands']} brands (fresh interpreter): "
        f"peak RSS {mem['peak_rss_bytes_per_consumer']:.0f} B/consumer, "
        f"RSS {mem['rss_bytes_per_consumer']:.0f}, tracemalloc peak "
        f"{mem['tracemalloc_peak_bytes_per_consumer']:.0f}, Population.nbytes/N "
        f"{mem['population_nbytes_per_consumer']:.0f}"
    )
    st = res["startup"]
    lines.append(
        f"Start-up + baseline run (20k x 3 brands x 365 d, 1 replication), wall: median "
        f"{st['median_s']:.2f} s of {', '.join(f'{w:.2f}' for w in st['wall_s'])} "
        f"(import sim.model {st['import_sim_model_s']:.2f} s)"
    )
    if "breakdown" in st:
        b = st["breakdown"]
        lines.append(
            f"  breakdown (medians of separate runs of the same call): imports "
            f"{b['import_s']:.2f} s, model built from its warm-up (user cache) "
            f"{b['model_s']:.2f}, 365 days (Numba loads its cached kernels on the first) "
            f"{b['days_s']:.2f}, tidy table {b['timeseries_s']:.2f}, provenance "
            f"{b['rest_s']:.2f}, interpreter start and exit {b['start_exit_s']:.2f}"
        )
    cs = res["command_startup"]
    lines.append(
        f"The command ({cs['command']}, charts included, warm-up from the user cache), wall: "
        f"median {cs['own_median_s']:.2f} s on its own "
        f"({', '.join(f'{w:.2f}' for w in cs['own_s'])}), {cs['served_median_s']:.2f} s with a "
        f"warm server ({', '.join(f'{w:.2f}' for w in cs['served_s'])})"
    )
    t = res["trivial"]
    lines.append(
        f"Trivial update (ns per agent-step): Mesa shuffle_do {t['mesa_shuffle_do_ns']:.0f}, "
        f"NumPy {t['numpy_ns']:.1f}, Numba fused {t['numba_fused_ns']:.2f}; floor "
        f"{t['bytes_per_agent_step'] / s['large']['rmw_gb_s_best']:.2f}"
    )
    lines.append("")
    lines.append("Targets")
    v = res["verdict"]
    lines.append(
        f"  >= 5 Mcd/s at {v['throughput_1m']['at']:,}: {v['throughput_1m']['measured'] / 1e6:.2f} "
        f"{'OK' if v['throughput_1m']['ok'] else 'MISSED'}"
    )
    b2v = v["baseline_200k_cbd_s"]
    lines.append(
        f"  >= 20 M consumer-brand-days/s, baseline 200k, one core: "
        f"{b2v['measured'] / 1e6:.2f} (CPU time: {b2v['cpu'] / 1e6:.2f}) "
        f"{'OK' if b2v['ok'] else 'MISSED'}"
    )
    lines.append(
        f"  >= 300x Mesa reference: {v['ratio_vs_mesa']['measured']:,.0f}x "
        f"{'OK' if v['ratio_vs_mesa']['ok'] else 'MISSED'}"
    )
    lines.append(
        f"  <= 200 B/consumer (peak RSS, 1M x 5 brands): {v['bytes_per_consumer']['measured']:.0f} "
        f"{'OK' if v['bytes_per_consumer']['ok'] else 'MISSED'}"
    )
    lines.append(
        f"  < 2 s baseline run incl. start-up (the command, warm server): "
        f"{v['baseline_run_s']['measured']:.2f} s {'OK' if v['baseline_run_s']['ok'] else 'MISSED'}"
        f" (on its own {cs['own_median_s']:.2f} s)"
    )
    lines.append(f"(suite took {res['elapsed_s']:.0f} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
