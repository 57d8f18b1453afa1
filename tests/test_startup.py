"""Start-up of ``omnitrust run`` (issue 14): what it imports, and that its fast paths give the same
files as the plain ones. Speed itself is measured in benchmarks/startup.py, never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import charts, outputs
from sim.analysis.painters import ChartPainters, available_cores
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
BREACH = ROOT / "scenarios" / "breach_data_maximalist.toml"


def fresh(code: str) -> str:
    """stdout of ``code`` run in a fresh interpreter (sys.modules as a user's process has it)."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


HEAVY = ("scipy.stats", "scipy.spatial", "networkx", "matplotlib", "mesa.batchrunner", "asyncio")


def test_the_run_command_and_a_model_do_not_import_what_a_single_run_does_not_use():
    code = (
        "import sys\n"
        "from sim.cli import build_parser\n"
        "build_parser('run')\n"
        "from sim.model import TrustModel\n"
        "from sim.experiments import run\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    assert fresh(code) == "[]"


def test_mesa_core_gives_mesas_own_classes_and_the_rest_of_mesa_on_demand():
    code = (
        "import sys\n"
        "from importlib import metadata\n"
        "from sim.core.mesa_core import mesa\n"
        "import mesa.model, mesa.agent, mesa.datacollection\n"
        "assert mesa.Model is mesa.model.Model and mesa.Agent is mesa.agent.Agent\n"
        "assert mesa.DataCollector is mesa.datacollection.DataCollector\n"
        "assert 'mesa.batchrunner' not in sys.modules and 'mesa.space' not in sys.modules\n"
        # mesa.model's logger as Mesa names it through inspect.stack(), and Mesa's own function
        # back in place after the quicker one named it
        "import inspect, mesa.mesa_logging as ml\n"
        "assert mesa.model._mesa_logger.name == 'MESA.mesa.model', mesa.model._mesa_logger.name\n"
        "assert ml._module_loggers['mesa.model'] is mesa.model._mesa_logger\n"
        "assert mesa.model.create_module_logger is ml.create_module_logger\n"
        "assert inspect.getsourcefile(ml.create_module_logger) == ml.__file__\n"
        # Model.__init__'s logging decorator names the class as Mesa's `method_logger` does
        # (the caller of the decorator is the body of class Model), and mesa_logging's own
        # inspect module is back in place
        "assert ml.inspect is inspect\n"
        "import logging\n"
        "seen = []\n"
        "class Keep(logging.Handler):\n"
        "    def emit(self, record): seen.append(record.getMessage())\n"
        "logger = logging.getLogger('MESA.mesa.model')\n"
        "logger.addHandler(Keep()); logger.setLevel(logging.DEBUG)\n"
        "mesa.Model(rng=3)\n"
        "logger.setLevel(logging.WARNING)\n"
        "assert any(m.startswith('calling Model.__init__ with') for m in seen), seen\n"
        "from mesa import batch_run\n"  # anything else: Mesa's own __init__ runs
        "import mesa.batchrunner\n"
        "assert batch_run is mesa.batchrunner.batch_run\n"
        "assert mesa.__version__ == metadata.version('mesa'), mesa.__version__\n"
        "assert mesa.space.MultiGrid is not None and 'batch_run' in mesa.__all__\n"
        "print('ok')\n"
    )
    assert fresh(code) == "ok"


def test_mesa_imported_first_is_left_as_it_is():
    code = (
        "import mesa\n"
        "from sim.core import mesa_core\n"
        "assert mesa_core.load() is mesa and mesa_core.mesa is mesa\n"
        "print('ok')\n"
    )
    assert fresh(code) == "ok"


@pytest.mark.parametrize("shape", [(365, 1), (200, 7), (40, 2), (5, 0), (0, 3)])
def test_row_percentiles_equal_numpys_nanpercentile(shape):
    rng = np.random.default_rng(sum(shape))
    arr = rng.normal(size=shape) * 1e3
    if arr.size:
        arr[rng.random(shape) < 0.2] = np.nan  # rows with and without NaN
        arr[min(3, shape[0] - 1), :] = np.nan  # an all-NaN row
    for q in (5, 95):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanpercentile(arr, q, axis=1)
            got = charts._row_percentile(arr, q)
        np.testing.assert_array_equal(got, expected)


def test_painted_charts_are_the_bytes_drawn_in_process(tmp_path):
    """The painters draw with the same functions: every file, byte for byte, as without them."""
    if available_cores() < 2:
        pytest.skip("painters need two cores; this machine has one (charts drawn in-process)")
    from sim import run

    scenario = load_scenario(BREACH, consumers=1500, days=150, replications=2)
    painters = ChartPainters.start()
    assert painters is not None
    result = run(scenario, progress=False)
    try:
        with_painters = outputs.save(result, tmp_path / "painted", painters=painters)
    finally:
        painters.close()
    plain = outputs.save(result, tmp_path / "plain")
    assert list(with_painters) == list(plain)  # same files, same order (manifest's list)
    assert "breach_window.png" in plain
    for name in plain:
        if name.endswith(".png"):
            assert (tmp_path / "painted" / name).read_bytes() == (
                tmp_path / "plain" / name
            ).read_bytes(), name


def test_a_painter_that_cannot_draw_leaves_its_charts_to_the_caller(tmp_path):
    """A painter sent something it cannot draw answers nothing; save draws those charts."""
    if available_cores() < 2:
        pytest.skip("painters need two cores")
    from sim import run

    result = run(load_scenario(BASELINE, consumers=800, days=20, replications=1), progress=False)
    painters = ChartPainters.start()
    assert painters is not None
    painters.paint("not a run result", tmp_path, "range")  # every painter fails
    assert painters.collect() == {}
    painters.close()
    written = outputs.save(result, tmp_path / "out")
    assert {"trust.png", "revenue.png", "consent.png"} <= set(written)


def test_the_waiting_drawers_end_with_a_painter_that_gets_nothing_to_draw():
    """The painter forks its drawers before the run ends; closed without a job (a run that
    failed), the painter and every drawer it forked are gone within seconds (no orphans)."""
    import os
    import time

    if available_cores() < 2 or not os.path.exists("/proc/self/stat"):
        pytest.skip("painters need two cores; the process table is read from Linux's /proc")
    painters = ChartPainters.start()
    assert painters is not None
    group = painters._painter[0].pid  # the painter leads the process group of its drawers
    until = time.monotonic() + 60
    while len(_group_members(group)) < len(module_groups()) and time.monotonic() < until:
        time.sleep(0.05)  # the painter warms up, then forks its drawers
    assert len(_group_members(group)) == len(module_groups())  # the painter + its waiting drawers
    painters.close()
    until = time.monotonic() + 10
    while _group_members(group) and time.monotonic() < until:
        time.sleep(0.05)
    assert not _group_members(group)
    assert os.getpgid(0) != group


def test_the_drawers_of_a_killed_painter_are_stopped_and_write_nothing_later(tmp_path):
    """A painter killed outright (kill -9, the OOM killer) after it handed the run to its
    drawers: `collect` answers nothing, so the caller draws the charts itself; the drawers must
    be stopped with it, not go on writing into the results folder afterwards."""
    import os
    import signal
    import time

    if available_cores() < 2 or not os.path.exists("/proc/self/stat"):
        pytest.skip("painters need two cores; the process table is read from Linux's /proc")
    from sim import run

    result = run(load_scenario(BASELINE, consumers=800, days=20, replications=1), progress=False)
    painters = ChartPainters.start()
    assert painters is not None
    proc = painters._painter[0]
    until = time.monotonic() + 60
    while len(_group_members(proc.pid)) < len(module_groups()) and time.monotonic() < until:
        time.sleep(0.05)  # the painter warms up, then forks its drawers
    time.sleep(2)  # every drawer forked and waiting
    painters.paint(result, tmp_path, "range")
    time.sleep(0.05)  # the drawers have the run
    os.kill(proc.pid, signal.SIGKILL)
    assert painters.collect(timeout=10) == {}
    assert not _group_members(proc.pid), "drawers outlived their killed painter"
    time.sleep(3)  # what a drawer still running would have written by now
    assert sorted(os.listdir(tmp_path)) == []


def module_groups():
    from sim.analysis.painters import GROUPS

    return GROUPS


def _group_members(group: int) -> list[int]:
    """Live (not zombie) processes of process group ``group``, from /proc."""
    from pathlib import Path

    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _hang_in_painters(monkeypatch, chart: str) -> None:
    """Make the painter of ``chart`` (a forked process) start writing it and hang forever; the
    same function draws normally in this process."""
    import os
    import time

    from sim.analysis import painters as module

    parent, real = os.getpid(), module.draw

    def draw(name, result, folder, band):
        if os.getpid() != parent and name == chart:
            (folder / f".{chart}.cut-short.tmp").write_bytes(b"half a chart")
            time.sleep(3600)
        return real(name, result, folder, band)

    monkeypatch.setattr(module, "draw", draw)


def _within(seconds: int):
    """Raise TimeoutError in this process after ``seconds`` (a hang fails instead of hanging)."""
    import signal

    def expire(*_):
        raise TimeoutError(f"still waiting after {seconds} s")

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


def test_a_hung_painter_is_stopped_and_its_chart_drawn_here(tmp_path, monkeypatch):
    """A painter that never answers costs at most PAINT_TIMEOUT: it is stopped, the file it was
    writing is removed, and the chart is drawn in this process."""
    import signal
    import time

    from sim import run
    from sim.analysis import painters as module

    if available_cores() < 2:
        pytest.skip("painters need two cores")
    result = run(load_scenario(BASELINE, consumers=800, days=20, replications=1), progress=False)
    _hang_in_painters(monkeypatch, "trust.png")
    monkeypatch.setattr(module, "PAINT_TIMEOUT", 5.0, raising=False)
    out = tmp_path / "out"
    painters = ChartPainters.start()
    assert painters is not None
    _within(60)
    try:
        written = outputs.save(result, out, painters=painters)
    finally:
        signal.alarm(0)
        painters.close()
    assert {"trust.png", "revenue.png", "consent.png"} <= set(written)
    assert (out / "trust.png").read_bytes().startswith(b"\x89PNG")
    assert not list(out.glob(".*.tmp"))
    # a run that fails after the charts were sent: close stops the painter and cleans up too
    (tmp_path / "failed").mkdir()
    painters = ChartPainters.start()
    painters.paint(result, tmp_path / "failed", "range")
    _within(60)
    try:
        while not list((tmp_path / "failed").glob(".trust.png.*.tmp")):
            time.sleep(0.05)  # the painter is writing trust.png (and hangs)
        painters.close()
    finally:
        signal.alarm(0)
    assert not list((tmp_path / "failed").glob(".*.tmp"))


def python_m_sim(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def test_the_program_exits_with_mains_code_and_all_its_output(tmp_path):
    """`python -m sim` (and the `omnitrust` script) end with os._exit after main: the exit code
    is main's, and nothing printed or written is lost."""
    ok = python_m_sim("validate", BASELINE)
    assert ok.returncode == 0 and ok.stdout.startswith("ok  "), ok.stderr
    bad = python_m_sim("validate", tmp_path / "missing.toml")
    assert bad.returncode == 2 and "missing.toml" in bad.stderr and "Traceback" not in bad.stderr
    out = tmp_path / "out"
    run = python_m_sim(
        "run", BASELINE, "--consumers", "800", "--days", "20", "--replications", "1",
        "--workers", "1", "--no-progress", "--out", out,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip().endswith("manifest.json"), run.stdout[-300:]
    manifest = (out / "manifest.json").read_text()
    assert manifest.endswith("}\n") and '"trust.png"' in manifest


HUNG_EXIT = """
import threading
import sim.cli as cli

cli.INTERRUPTED_EXIT_GRACE = 1.0


def interrupted(argv=None):
    threading.Thread(target=threading.Event().wait, name="never-ends").start()
    return cli.EXIT_INTERRUPTED


cli.main = interrupted
cli.console()
"""


def test_an_interrupted_command_exits_with_130_even_if_something_would_hang_its_exit():
    """After Ctrl-C (main returns 130) the program ends by itself even when the interpreter's
    exit would wait for ever (here a thread that never ends, as a cancelled pool's manager
    thread once seemed to): what finished is already on disk."""
    done = subprocess.run(
        [sys.executable, "-c", HUNG_EXIT], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 130, done.stderr


def test_registering_the_run_command_imports_neither_the_model_nor_pandas_nor_matplotlib():
    """`omnitrust run --help` and a usage error stay quick; the painter is forked before the
    main process imports Numba (`sim.cli.run`)."""
    code = (
        "import sys\n"
        "from sim.cli import build_parser\n"
        "build_parser('run').parse_args(['run', 'baseline', '--workers', '1'])\n"
        "import sim.cli.options, sim.analysis.painters\n"
        "heavy = ('pandas', 'pyarrow', 'matplotlib', 'numba', 'scipy', 'sim.model', 'mesa')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert fresh(code) == "[]"


def test_the_painter_unpickles_a_run_without_importing_the_model():
    """What the painter is sent (`Charted`: the tidy table and the scenarios) unpickles with
    pandas and the scenario schema alone: the painter, forked before the main process loads the
    model, never imports Numba or Mesa."""
    code = (
        "import pickle, sys\n"
        "import pandas as pd\n"
        "from sim.analysis.painters import Charted\n"
        "from sim.scenario.loading import load_scenario\n"
        "sc = load_scenario('scenarios/baseline.toml')\n"
        "ts = pd.DataFrame({'scenario': [sc.name], 'day': [0], 'value': [0.5]})\n"
        "data = pickle.dumps(Charted(ts, {sc.name: sc}))\n"
        "back = pickle.loads(data)\n"
        "assert back.timeseries.equals(ts) and back.scenarios[sc.name] == sc\n"
        "print(sorted(m for m in ('numba', 'mesa', 'sim.model', 'sim.runner') if m in sys.modules))\n"
    )
    assert fresh(code) == "[]"


def test_the_run_commands_main_process_never_imports_matplotlib(tmp_path):
    """With a painter (two cores and fork) every chart is drawn there: the main process of
    `omnitrust run` loads no matplotlib, and the charts are written."""
    if available_cores() < 2:
        pytest.skip("the painter needs two cores; this machine has one (charts drawn in-process)")
    out = tmp_path / "out"
    code = (
        "import sys\n"
        "from sim.cli import main\n"
        f"code = main(['run', {str(BASELINE)!r}, '--consumers', '800', '--days', '20', "
        f"'--replications', '1', '--workers', '1', '--no-progress', '--out', {str(out)!r}])\n"
        "print(code, 'matplotlib' in sys.modules)\n"
    )
    assert fresh(code) == "0 False"
    assert {"trust.png", "revenue.png", "consent.png"} <= {p.name for p in out.glob("*.png")}


def test_numbas_quick_start_keeps_blas_and_the_numbers_and_loads_scipy_linalg_on_use():
    """`sim.core.numba_start.quick_start` (what ``omnitrust run`` calls before loading the model):
    the kernels load and run without cffi and without ``scipy/linalg/__init__`` (only the Cython
    BLAS/LAPACK modules Numba checks for), the model's numbers are those of a process without
    it, Numba still compiles a BLAS call, and scipy.linalg, scipy.stats and cffi work as usual
    afterwards."""
    run_model = (
        "from sim.model import TrustModel\n"
        "from sim.scenario.loading import load_scenario\n"
        "sc = load_scenario('scenarios/baseline.toml', consumers=300, days=3)\n"
        "m = TrustModel(sc, overrides={'simulation.warmup_days': 0})\n"
        "m.run()\n"
        "digest = m.timeseries().to_csv(float_format='%.17g')\n"
    )
    plain = fresh(run_model + "import hashlib; print(hashlib.sha256(digest.encode()).hexdigest())")
    code = (
        "import importlib.util, hashlib, sys\n"
        "from sim.core.numba_start import quick_start\n"
        "quick_start()\n" + run_model + "from numba.core.typing import cffi_utils\n"
        "from numba.np import arraymath\n"
        "assert not cffi_utils.SUPPORTED and 'cffi' not in sys.modules\n"
        "assert arraymath._HAVE_BLAS and 'scipy.linalg.cython_blas' in sys.modules\n"
        "assert 'scipy.linalg._basic' not in sys.modules  # its __init__ has not run\n"
        "import numba, numpy as np\n"
        "a = np.arange(6.0).reshape(2, 3)\n"
        "assert np.array_equal(numba.njit(lambda x: np.dot(x, x.T))(a), a @ a.T)\n"
        "import scipy.linalg\n"
        "assert np.allclose(scipy.linalg.solve(np.eye(2) * 2, np.ones(2)), 0.5)\n"
        "from scipy.linalg import norm\n"
        "import scipy.stats\n"
        "assert abs(scipy.stats.norm.ppf(0.975) - 1.959963984540054) < 1e-12\n"
        "if importlib.util.find_spec('cffi') is not None:\n"
        "    import cffi\n"
        "    assert cffi.FFI is not None\n"
        "print(hashlib.sha256(digest.encode()).hexdigest())\n"
    )
    assert fresh(code) == plain


@pytest.mark.parametrize(
    "first", ["scipy.linalg.lapack", "scipy.linalg.blas", "scipy.linalg._decomp_svd"]
)
def test_after_quick_start_a_scipy_linalg_submodule_can_be_the_first_thing_imported(first):
    """What first touches scipy.linalg after `quick_start` may be one of its submodules (sklearn's
    ``_least_angle`` imports ``scipy.linalg._decomp_svd``...): it imports, scipy.linalg is then the
    whole package (``solve``, the Cython modules Numba checked for as its attributes, as a plain
    ``import scipy.linalg.cython_blas`` leaves them) and Numba still compiles a BLAS call."""
    code = (
        "import importlib, sys\n"
        "from sim.core.numba_start import quick_start\n"
        "quick_start()\n"
        "from numba.np import arraymath\n"
        "assert arraymath._HAVE_BLAS and 'scipy.linalg._basic' not in sys.modules\n"
        f"importlib.import_module({first!r})\n"
        "import numpy as np, numba, scipy, scipy.linalg\n"
        "assert np.allclose(scipy.linalg.solve(np.eye(2) * 2, np.ones(2)), 0.5)\n"
        "assert scipy.linalg is sys.modules['scipy.linalg'] and scipy.linalg.__file__\n"
        "assert scipy.linalg.cython_blas is sys.modules['scipy.linalg.cython_blas']\n"
        "assert scipy.linalg.cython_lapack is sys.modules['scipy.linalg.cython_lapack']\n"
        "assert 'cython_blas' not in scipy.linalg.__all__  # as in a plain process\n"
        "a = np.arange(6.0).reshape(2, 3)\n"
        "assert np.array_equal(numba.njit(lambda x: np.dot(x, x.T))(a), a @ a.T)\n"
        "print('ok')\n"
    )
    assert fresh(code) == "ok"


def test_the_program_loads_without_full_collections_then_runs_with_the_collector_on(tmp_path):
    """`omnitrust run` keeps the garbage collector off while it loads its modules (three full
    collections that freed nothing, before `sim.core.startup`), and on for the run itself."""
    marks = tmp_path / "marks.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "sim", "run", BASELINE, "--consumers", "800", "--days", "20",
            "--replications", "1", "--workers", "1", "--no-progress", "--out", tmp_path / "out",
        ],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "OMNITRUST_TIMINGS": str(marks)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    collector = json.loads(marks.read_text())["gc"]
    names = [name for name, _, _ in collector]
    # from the end of argument parsing (the CLI's own "imports" mark, before `cmd_run`) to the end
    # of the run command's loading (its "imports" mark)
    first = names.index("imports")
    loaded = len(names) - 1 - names[::-1].index("imports")
    assert first < names.index("scenario load") < loaded < len(names) - 1, names
    counts = [full for _, full, _ in collector[first : loaded + 1]]
    assert counts == [counts[0]] * len(counts), collector
    assert all(on for _, _, on in collector[loaded:]), collector


def test_the_collector_is_left_alone_outside_the_program():
    """Through `main` (tests, a notebook) `loading` neither turns the collector off nor freezes
    the caller's objects; in the program it does both, and turns it on again."""
    code = (
        "import gc\n"
        "from sim.core import startup\n"
        "frozen = gc.get_freeze_count()\n"
        "with startup.loading():\n"
        "    inside = gc.isenabled()\n"
        "outside = (inside, gc.isenabled(), gc.get_freeze_count() == frozen)\n"
        "startup.as_program()\n"
        "with startup.loading():\n"
        "    inside = gc.isenabled()\n"
        "program = (inside, gc.isenabled(), gc.get_freeze_count() > frozen)\n"
        "print(outside, program)\n"
    )
    assert fresh(code) == "(True, True, True) (False, True, True)"


def test_an_error_while_loading_leaves_the_collector_as_it_was():
    """A bad scenario (UserError) raised within `loading` in the program: the collector is on
    again; a caller who had it off keeps it off, and nothing is frozen for them."""
    code = (
        "import gc\n"
        "from sim.core import startup\n"
        "startup.as_program()\n"
        "def fail():\n"
        "    try:\n"
        "        with startup.loading():\n"
        "            raise ValueError('bad scenario')\n"
        "    except ValueError:\n"
        "        return gc.isenabled()\n"
        "on = fail()\n"
        "gc.disable()\n"
        "frozen = gc.get_freeze_count()\n"
        "off = (fail(), gc.get_freeze_count() == frozen)\n"
        "print(on, off)\n"
    )
    assert fresh(code) == "True (False, True)"
