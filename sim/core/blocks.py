"""Consumer blocks: how a day's pass over the population is split across threads.

A kernel that only reads and writes the acting consumer's row runs over blocks of ``BLOCK``
consecutive consumers. Each block adds its events to its own row of a partial table, and the rows
are added to the day's counters in block order (`reduce_blocks`). The block size is a constant,
not the thread count, so every sum is the same sequence of additions on 1 thread or on 16: the
results are identical for any thread count (the random draws are counter-based already,
`sim.core.streams`). Within a block consumers go in index order, as in a serial pass.

Within a model's day (`bound`) on 2 or more threads, the eight block kernels of the mechanisms
(needs, research, purchase, outreach, forgetting, churn, tally, harm landing) run on the process's
thread team (`sim.core.team`): worker threads that stay in compiled code without the GIL, poll a
control array and call the pass's kernel by its address, taking blocks one at a time, while the
model's thread takes blocks too and then polls until all are done (~70 us a pass less than a
hand-off to a pool thread, issue 14). Each kernel's pass runs the faster way lately, on the team
or serially, and the team rests (runs passes serially, its workers asleep) while the process finds
no free core for them; an idle worker sleeps after 1.5 ms. Any other block function (a
subclass's own phase), or a call outside a model's day, goes to Python threads running compiled
block functions that release the GIL (``nogil=True``): `over_blocks` hands each a contiguous run
of blocks. With one thread every pass is the plain serial call. `shutdown` stops both kinds of
thread. `set_threads` sets how many
the kernels started from the calling thread use; ``threads=0`` means every core Numba may use
(``NUMBA_NUM_THREADS``, by default the number of cores). A model that is not told reads the
environment variable ``OMNITRUST_THREADS`` (set by ``omnitrust run/compare/sweep --threads N``, so
worker processes inherit it), else uses 1 thread.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.dispatcher import Dispatcher
from numba.core.typing.typeof import Purpose, typeof
from numba.extending import intrinsic

from . import team
from .jit import njit

BLOCK = 2048  # consumers per block: a multiple of 64 keeps blocks on whole cache lines
_CHUNKS_PER_THREAD = 4  # runs of blocks handed out per thread, to even out uneven blocks
_MIN_RUN_BLOCKS = 4  # ...but no run shorter than this unless each thread gets one run: handing a
# run to a thread costs ~10 us, as much as a pass over a few thousand consumers (issue 14: at
# 20,000 consumers, 10 blocks, 8 runs a pass cost 0.3 s of CPU over a 365-day run, 2 runs none)

THREADS_ENV = "OMNITRUST_THREADS"  # the default thread count of a model (CLI --threads)

_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def max_threads() -> int:
    """The most threads a kernel can use in this process (``NUMBA_NUM_THREADS``, by default the
    number of cores)."""
    return int(nb.config.NUMBA_NUM_THREADS)


def resolve_threads(threads: int | None) -> int:
    """The thread count ``threads`` asks for: None = ``OMNITRUST_THREADS`` if set, else 1;
    0 = every core; else at most `max_threads`. Negative is an error (ValueError naming the
    value and where it came from)."""
    where = "threads"
    if threads is None:
        text = os.environ.get(THREADS_ENV, "").strip()
        if not text:
            return 1
        where = f"environment variable {THREADS_ENV}"
        try:
            threads = int(text)
        except ValueError:
            raise ValueError(f"{where} must be a whole number of threads, got {text!r}") from None
    if int(threads) < 0:
        raise ValueError(f"{where} must be 0 (every core) or a positive number, got {threads}")
    if int(threads) == 0:
        return max_threads()
    return min(int(threads), max_threads())


def set_threads(threads: int) -> None:
    """Use ``threads`` threads for the kernels started from the calling thread."""
    _local.threads = max(1, int(threads))


def get_threads() -> int:
    """Threads the kernels started from the calling thread use (1 unless `set_threads` said)."""
    return getattr(_local, "threads", 1)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_threads(), thread_name_prefix="omnitrust-block")
        return _pool


def shutdown() -> None:
    """Stop the block threads (the pool's, idle between kernels, and the thread team's), so a
    program can end without waiting for them (`sim.cli.console`); a later kernel that needs
    threads starts them again."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)
    team.shutdown()


class Bound:
    """The argument tuples a model passes to every kernel every day (its population, lever table
    and parameters), with the compiled entry points of the kernels called with them.

    Numba's dispatcher works out the type of every argument on every call; for the parameters
    (ten named tuples of ~125 numbers) that costs ~12 us, for the population ~3 us, far more
    than a day's work of a kernel at a few thousand consumers. A model's tuples are built once
    and only their arrays' contents change (in place), so their types are fixed for the model's
    life: while a model's day runs (`bound`), `call` and `over_blocks` look a kernel's compiled
    entry point up by the identity of these tuples and a cheap type key of the other arguments
    (`_entry`), and call it directly. The entry point is the one the dispatcher itself would call (it is
    resolved through `Dispatcher.compile` on the arguments' Numba types), so the numbers are
    the same to the last bit; anything else (an argument of another kind, a kernel that is not
    a Numba dispatcher) goes through the dispatcher as before.
    """

    __slots__ = ("objects", "entries", "plans", "team", "team_of", "_types", "__weakref__")

    def __init__(self, *objects):
        self.objects = objects
        self.entries: dict = {}  # cheap key of a call (`_entry`) -> entry point
        self.plans: dict = {}  # the same key -> how the thread team runs it (or None)
        self.team = None  # the thread team's record of the model, and the team (`sim.core.team`)
        self.team_of = None
        self._types: list | None = None

    def __reduce__(self):
        """A copy (``copy.deepcopy`` of a model, pickling) is a fresh Bound of the copied tuples:
        the entry points are found again on the first call, and the thread team's record of the
        model, with its threads and locks, stays with the original."""
        return (Bound, self.objects)

    def numba_type(self, j: int):
        """Numba's type of ``objects[j]`` as an argument (worked out once per model)."""
        return self.numba_types()[j]

    def numba_types(self) -> list:
        """Numba's types of all of ``objects`` (worked out once per model)."""
        if self._types is None:
            self._types = [typeof(o, Purpose.argument) for o in self.objects]
        return self._types


_SCALARS = frozenset(
    {int, float, bool, np.uint64, np.int64, np.int32, np.int8, np.float64, np.float32}
)
_ENTRIES: dict = {}  # (kernel, Numba argument types) -> entry point, for every model of the process


def _key(fn, args, objects):
    """The cache key of ``fn(*args)`` (see `_entry`), or None for an argument of another kind."""
    key = [fn]
    for a in args:
        tp = type(a)
        if tp is np.ndarray:
            f = a.flags
            key.append((a.dtype, a.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned))
        elif tp in _SCALARS:
            key.append(tp)
        else:
            for j, o in enumerate(objects):
                if a is o:
                    key.append(j)
                    break
            else:
                return None
    return tuple(key)


def _entry(fn, args):
    """The compiled entry point of kernel ``fn`` for ``args`` within the current model's day, or
    ``fn`` itself (the dispatcher) outside one or for arguments of a kind not handled here.

    The cache key fixes every argument's Numba type: the model's own tuples by their position
    in `Bound.objects` (identity), an array by dtype, dimensions and flags, a scalar by type."""
    b = getattr(_local, "bound", None)
    if b is None:
        return fn
    key = _key(fn, args, b.objects)
    if key is None:
        return fn
    entry = b.entries.get(key)
    if entry is None:
        entry = b.entries[key] = _resolve(fn, args, b, key)
    return entry


def _resolve(fn, args, b: Bound, key: tuple):
    """The entry point Numba's dispatcher would call for ``fn(*args)``: the overload compiled
    (or loaded from the cache) for the arguments' Numba types, as `Dispatcher.compile` gives it."""
    if not isinstance(fn, Dispatcher):
        return fn
    try:
        sig = []
        for a, k in zip(args, key[1:], strict=True):
            if type(k) is int:  # one of the model's tuples
                sig.append(b.numba_type(k))
            elif type(a) is int:  # as the dispatcher's C fast path types it
                sig.append(types.int64)
            else:
                sig.append(fn.typeof_pyval(a))
        sig = tuple(sig)
        entry = _ENTRIES.get((fn, sig))
        if entry is None:
            cres = fn.overloads.get(sig)  # loaded already: no wait for Numba's compiler lock,
            # which the thread team's first worker may hold while it loads its own code
            entry = cres.entry_point if cres is not None else fn.compile(sig)
            _ENTRIES[(fn, sig)] = entry
    except Exception:  # noqa: BLE001 - not resolvable here: the dispatcher decides
        return fn
    return entry


def call(fn, *args):
    """``fn(*args)`` for a compiled kernel ``fn``, through its cached entry point while a model's
    day runs (see `Bound`): the same result without the dispatcher's per-call typing."""
    return _entry(fn, args)(*args)


@contextmanager
def bound(b: Bound):
    """Within the block, kernels started from this thread with ``b``'s tuples use its entry
    points (see `Bound`)."""
    previous = getattr(_local, "bound", None)
    _local.bound = b
    try:
        yield
    finally:
        _local.bound = previous


def over_blocks(block_fn, n: int, *args) -> None:
    """Run ``block_fn(k0, k1, *args)`` over the blocks 0..n_blocks(n)-1 of ``n`` consumers: in this
    thread when one thread is asked for, else spread over the threads: on the thread team
    (`sim.core.team`) when a model's day runs and the arguments fit one of its layouts, else in
    runs of blocks handed to a thread pool. The compiled ``block_fn`` must touch only the rows of
    its blocks and its own rows of partial tables, and release the GIL (``nogil=True``)."""
    nk = max(1, (n + BLOCK - 1) // BLOCK)  # n_blocks(n), without a dispatch
    threads = min(get_threads(), nk)
    entry = _entry(block_fn, (0, nk, *args))
    if threads <= 1:
        entry(0, nk, *args)
        return
    b = getattr(_local, "bound", None)
    if b is not None and entry is not block_fn:
        key = _key(block_fn, args, b.objects)
        plan = b.plans.get(key, False)
        if plan is False:
            plan = b.plans[key] = team.plan(block_fn, args, b.objects, b.numba_types())
        if plan is not None:
            crew = team.team_for(b, threads)
            if crew is False:  # the team is getting ready: this pass serially
                entry(0, nk, *args)
                return
            if crew is not None:
                on_team = plan.use_team() and crew.awake()
                start = time.perf_counter()
                if not on_team:
                    entry(0, nk, *args)  # the serial call: faster here lately (busy cores)
                elif not crew.run(b, plan, nk, threads, args, entry):
                    on_team = False  # the team is another thread's now: the serial call
                    start = time.perf_counter()
                    entry(0, nk, *args)
                plan.timed(on_team, time.perf_counter() - start)
                return
    runs = min(nk, threads * _CHUNKS_PER_THREAD, max(threads, nk // _MIN_RUN_BLOCKS))
    bounds = [nk * j // runs for j in range(runs + 1)]
    pool = _executor()
    futures = [pool.submit(entry, bounds[j], bounds[j + 1], *args) for j in range(1, runs)]
    entry(bounds[0], bounds[1], *args)
    for f in futures:
        f.result()


@njit(cache=True)
def n_blocks(n):
    """Number of blocks of ``n`` consumers (at least 1)."""
    return max(1, (n + BLOCK - 1) // BLOCK)


@njit(inline="always", cache=True)
def block_end(k, n):
    """One past the last consumer of block ``k``."""
    return min(n, (k + 1) * BLOCK)


@njit(cache=True)
def reduce_blocks(total, part):
    """Add the per-block partial tables ``part[k]`` to ``total`` in block order (deterministic)."""
    flat = total.reshape(-1)
    for k in range(part.shape[0]):
        p = part[k].reshape(-1)
        for j in range(flat.size):
            flat[j] += p[j]


def _prefetch_codegen(context, builder, sig, args):
    aryty = sig.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    ptr = cgutils.get_item_pointer(context, builder, aryty, ary, list(args[1:]))
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch")
    # read, high temporal locality, data cache
    builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx, arr, i, j):
    """Ask the CPU to bring element ``arr[i, j]`` of a 2-D array into the cache (LLVM's
    ``llvm.prefetch``: a hint, no effect on results). For passes that know ahead which rows they
    will read: a friend's row in word of mouth, the next buyer's row in purchase."""
    return types.void(arr, types.intp, types.intp), _prefetch_codegen


@intrinsic
def prefetch1(typingctx, arr, i):
    """`prefetch` of element ``arr[i]`` of a 1-D array."""
    return types.void(arr, types.intp), _prefetch_codegen
