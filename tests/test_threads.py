"""A run gives the same numbers on any number of threads (issue 14).

The row-local kernels run over fixed blocks of consumers (`sim.core.blocks`) whose partial
tallies add up in block order; the draws are counter-based. So threads=1 and threads=2 must give
byte-identical daily tables, to the last bit (values written with 17 significant digits). The
population spans several blocks, a breach lands harm on several of them, and the thread limit is
lifted so the test splits the work even on a one-core runner.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sim.core import blocks
from sim.loading import load_scenario
from sim.model import TrustModel

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _table_digest(threads: int, **overrides) -> str:
    sc = load_scenario(
        SCENARIOS / "breach_data_maximalist.toml", consumers=3 * blocks.BLOCK + 123, days=140
    )
    model = TrustModel(
        sc, seed=21, threads=threads, overrides={"simulation.warmup_days": 40, **overrides}
    )
    model.run()
    table = model.timeseries()
    assert (table.query("metric == 'breaches'")["value"].sum()) >= 1  # harm lands in the run
    text = table.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def test_threads_give_identical_tables(monkeypatch):
    monkeypatch.setattr(blocks, "max_threads", lambda: 4)
    assert _table_digest(1) == _table_digest(2)


def test_threads_give_identical_tables_with_need_for_touch(monkeypatch):
    """The need-for-touch trait is drawn inside the J2 kernel from a run key, which must reach
    every block on every thread. The passes may run on the pool here (on a cold Numba cache the
    thread team is not ready within this run); tests/test_team.py checks the team's layout with
    the trait on, on a team made ready first."""
    monkeypatch.setattr(blocks, "max_threads", lambda: 4)
    touch = {"journey.store_touch": 0.9, "journey.touch_share": 0.6}
    assert _table_digest(1, **touch) == _table_digest(2, **touch)
    assert _table_digest(1, **touch) != _table_digest(1)  # the levers are in effect


def test_thread_count_is_resolved(monkeypatch):
    monkeypatch.setattr(blocks, "max_threads", lambda: 2)
    monkeypatch.delenv(blocks.THREADS_ENV, raising=False)
    assert blocks.resolve_threads(None) == 1  # not told: one thread
    assert blocks.resolve_threads(1) == 1
    assert blocks.resolve_threads(8) == 2  # at most the cores Numba may use
    assert blocks.resolve_threads(0) == 2  # every core
    with pytest.raises(ValueError, match="-1"):
        blocks.resolve_threads(-1)
    monkeypatch.setenv(blocks.THREADS_ENV, "0")  # what `--threads 0` sets for the workers
    assert blocks.resolve_threads(None) == 2
    monkeypatch.setenv(blocks.THREADS_ENV, "two")
    with pytest.raises(ValueError, match="OMNITRUST_THREADS.*'two'"):
        blocks.resolve_threads(None)


def test_runs_of_blocks_cover_every_block_once(monkeypatch):
    """over_blocks hands each block to exactly one call, whatever the thread count."""
    monkeypatch.setattr(blocks, "max_threads", lambda: 4)
    n = 11 * blocks.BLOCK + 5
    for threads in (1, 2, 3, 4):
        seen: list[tuple[int, int]] = []
        blocks.set_threads(threads)
        try:
            blocks.over_blocks(lambda k0, k1, out=seen: out.append((k0, k1)), n)
        finally:
            blocks.set_threads(1)
        covered = sorted(k for k0, k1 in seen for k in range(k0, k1))
        assert covered == list(range(12))


def test_short_passes_are_handed_out_in_few_runs(monkeypatch):
    """A pass over few blocks goes to each thread as one run (a hand-off costs ~10 us), a long
    one in several runs per thread (to even out uneven blocks): 10 blocks on 2 threads make 2
    runs, 98 blocks 8 (4 per thread)."""
    monkeypatch.setattr(blocks, "max_threads", lambda: 2)
    for n_blocks, runs in ((10, 2), (98, 8), (3, 2)):
        seen: list[tuple[int, int]] = []
        blocks.set_threads(2)
        try:
            blocks.over_blocks(
                lambda k0, k1, out=seen: out.append((k0, k1)), n_blocks * blocks.BLOCK
            )
        finally:
            blocks.set_threads(1)
        assert len(seen) == runs, (n_blocks, seen)
        assert sorted(k for k0, k1 in seen for k in range(k0, k1)) == list(range(n_blocks))


def test_the_block_threads_stop_and_start_again_with_the_same_numbers(monkeypatch):
    """`blocks.shutdown` (what the program calls before its quick exit) leaves no block thread
    running; a later model starts them again and its numbers do not change."""
    import threading

    monkeypatch.setattr(blocks, "max_threads", lambda: 2)
    first = _table_digest(2)
    blocks.shutdown()
    assert not [t for t in threading.enumerate() if t.name.startswith("omnitrust-block")]
    assert _table_digest(2) == first
    blocks.shutdown()


def test_the_default_thread_count_shares_the_cores_among_the_runs_at_once():
    """Unset --threads: the cores divided among the models that run at once, at least 1."""
    from sim.cli.options import default_threads, local_processes

    assert [default_threads(p, cores=2) for p in (1, 2, 3)] == [2, 1, 1]
    assert [default_threads(p, cores=8) for p in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert default_threads(1, cores=1) == 1
    # models at once: --workers (unset: one per core), at most one per run
    assert local_processes(1, 1) == 1
    assert local_processes(4, 1) == 1  # one run: one model, whatever --workers says
    assert local_processes(2, 5) == 2
    assert local_processes(3) == 3  # runs not known yet: every worker busy


def test_apply_threads_sets_the_default_unless_told(monkeypatch):
    from sim.cli.options import apply_threads

    monkeypatch.setattr("sim.analysis.painters.available_cores", lambda: 2)
    monkeypatch.delenv(blocks.THREADS_ENV, raising=False)
    apply_threads(None, processes=1)
    assert blocks.resolve_threads(None) == min(2, blocks.max_threads())
    monkeypatch.delenv(blocks.THREADS_ENV)
    apply_threads(None, processes=2)  # two worker processes on two cores: one thread each
    assert blocks.resolve_threads(None) == 1
    monkeypatch.setenv(blocks.THREADS_ENV, "1")  # the user's choice wins over the default
    apply_threads(None, processes=1)
    assert blocks.resolve_threads(None) == 1
    apply_threads(2, processes=2)  # --threads wins over both
    assert blocks.resolve_threads(None) == min(2, blocks.max_threads())
    monkeypatch.delenv(blocks.THREADS_ENV)
    apply_threads(None, processes=None)  # a Dask cluster: nothing set here
    assert blocks.resolve_threads(None) == 1


def test_a_commands_default_thread_count_lasts_for_that_command_only(monkeypatch, tmp_path):
    """`main` called twice in one process (a notebook, tests): ``run -r 1`` on 2 cores gives its
    model 2 threads (one model: every core), the ``compare --workers 2`` after it 1 thread per
    worker (two models at once), not the 2 the run left behind; a value the user set before
    stays hers during and after a command; an explicit ``--threads`` lasts for its command."""
    import os
    import sys

    import sim.experiments
    import sim.experiments.compare  # noqa: F401  (the module: the package holds its function)
    from sim.cli import main
    from sim.core.errors import UserError

    monkeypatch.setattr("sim.analysis.painters.available_cores", lambda: 2)
    monkeypatch.setattr("sim.analysis.painters.ChartPainters.start", lambda *a, **k: None)
    seen = []

    def record(*args, **kwargs):  # what this process and the workers it starts would get
        seen.append(os.environ.get(blocks.THREADS_ENV))
        raise UserError("stopped by the test")

    monkeypatch.setattr(sim.experiments, "run", record)
    monkeypatch.setattr(sys.modules["sim.experiments.compare"], "compare", record)
    baseline = str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
    run = ["run", baseline, "-r", "1", "--workers", "1", "--out", str(tmp_path / "r")]
    compare = ["compare", baseline, baseline, "--workers", "2", "--out", str(tmp_path / "c")]
    monkeypatch.delenv(blocks.THREADS_ENV, raising=False)
    assert main(run) == 2 and main(compare) == 2
    assert seen == [str(min(2, blocks.max_threads())), "1"]
    assert blocks.THREADS_ENV not in os.environ
    assert main([*compare, "--threads", "2"]) == 2 and seen[-1] == "2"
    assert blocks.THREADS_ENV not in os.environ
    monkeypatch.setenv(blocks.THREADS_ENV, "1")
    assert main(run) == 2 and seen[-1] == "1"
    assert os.environ[blocks.THREADS_ENV] == "1"


def test_a_model_on_two_threads_can_be_deep_copied_and_both_go_on_alike(monkeypatch):
    """A consultant branches a what-if from a running model with ``copy.deepcopy``: on two
    threads the model holds the thread team's record (threads, locks), which must not stop the
    copy. The copy and the original then step to the same numbers (the same state and keys)."""
    import copy

    monkeypatch.setattr(blocks, "max_threads", lambda: 2)
    sc = load_scenario(SCENARIOS / "baseline.toml", consumers=2 * blocks.BLOCK + 77, days=20)
    model = TrustModel(sc, seed=5, threads=2, overrides={"simulation.warmup_days": 10})
    for _ in range(5):
        model.step()
    twin = copy.deepcopy(model)
    assert twin.population.r is not model.population.r
    for _ in range(10):
        model.step()
        twin.step()
    a, b = model.timeseries(), twin.timeseries()
    assert a["value"].sum() != 0
    assert a.equals(b)
