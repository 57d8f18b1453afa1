"""Run what is missing from a results folder, streaming each finished run to disk."""

from __future__ import annotations

from pathlib import Path

from ..model.warmup import branching_enabled
from ..runner import progress_bar, shared_keys, simulate_task, warmup_keys, with_warm_starts
from .executors import TaskMap
from .store import ResultStore, RunSpec

MIN_CHUNK = 16
"""Runs handed to the executor at a time, at least (their warm-up states are held meanwhile)."""


class Interrupted(Exception):  # noqa: N818 - it is a stop, not an error
    """Ctrl-C during an experiment: finished runs are on disk; rerunning resumes."""

    def __init__(self, kept: int, root: Path):
        self.kept = kept
        self.root = root
        super().__init__(
            f"interrupted; {kept} finished runs kept in {root}; rerun the same command to resume"
        )


def execute(
    specs: list[RunSpec],
    store: ResultStore,
    taskmap: TaskMap,
    progress: bool = True,
    desc: str = "runs",
) -> int:
    """Run every spec whose run file is missing or stale; return how many were run.

    Results are written as they complete (any order); the tables built afterwards from the files
    do not depend on that order. Runs that share their warm-up branch from one spun-up state,
    kept in ``<results folder>/warmups/`` for a rerun (`sim.runner.with_warm_starts`). On Ctrl-C pending runs are cancelled and `Interrupted` is raised.
    """
    for sub in ("runs", "summaries", "warmups"):  # temp files of writes cut short by a kill
        for tmp in (store.root / sub).rglob(".*.tmp") if (store.root / sub).exists() else ():
            tmp.unlink(missing_ok=True)
    seen: set[str] = set()
    unique = [s for s in specs if not (s.run_id in seen or seen.add(s.run_id))]
    todo = [s for s in unique if not store.is_done(s)]
    bar = None
    if progress:
        bar = progress_bar(len(unique), desc, initial=len(unique) - len(todo))
    # Runs that share a warm-up (same replication seed) sit next to each other, so that a chunk
    # spins their warm-up up once and branches its runs from it (`with_warm_starts`). Which
    # warm-ups are shared is decided over all of `todo`: one shared across two chunks is spun up
    # by the first, saved, and found by the second.
    todo.sort(key=lambda s: (s.seed, s.replication))
    keys = warmup_keys([s.task for s in todo]) if branching_enabled() else None
    shared = shared_keys(keys) if keys is not None else None
    chunk = max(MIN_CHUNK, 4 * taskmap.workers)
    try:
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            tasks = with_warm_starts(
                [s.task for s in part],
                taskmap,
                store.root / "warmups",
                unique=False,
                keys=None if keys is None else keys[start : start + chunk],
                shared=shared,
                bar=bar,
            )
            for i, ts in taskmap.as_completed(simulate_task, tasks):
                store.write_run(part[i], ts)
                del ts
                if bar is not None:
                    bar.update(1)
            del tasks
    except KeyboardInterrupt:
        taskmap.close(cancel=True)
        if bar is not None:
            bar.close()
        raise Interrupted(store.count_done(unique), store.root) from None
    if bar is not None:
        bar.close()
    return len(todo)
