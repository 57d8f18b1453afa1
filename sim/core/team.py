"""A spinning thread team: the block passes of a model on several threads without a hand-off cost.

`sim.core.blocks.over_blocks` hands runs of consumer blocks to other threads. Through a
ThreadPoolExecutor (or any hand-off that returns to Python) that costs ~70 us a pass on a VM: the
idle thread's core has to be woken (futex) and the thread has to take the GIL to fetch its job.
At 20,000 consumers a pass is 30-500 us of work, so threads gained ~4% (issue 14). The team
avoids both: its worker threads stay inside compiled code that does not hold the GIL and poll an
int64 control array (`_serve`); the thread that runs the model publishes a pass there, works on
the pass itself and polls until every block is done (`_lead`).

The control array (``ctrl``, one 64-byte cache line per flag; ``cu`` and ``cf`` are views of the
same memory as uint64 and float64):

* ``GO``: the sequence number of the latest pass; the job of the pass in ``LAYOUT`` .. the array
  fields: which argument layout (`LAYOUTS`), the number of blocks, the address of the kernel's
  compiled code, how many workers take part, the model it is for (``BIND``), the pass's scalars
  (keys, day) and the data address and shape of its arrays (the partial tables, allocated by the
  caller for the pass as before and kept alive by it until the pass ends);
* ``CLAIM``: ``seq << 20 | next block``: a thread takes block k of pass seq by compare-and-swap,
  so a worker that is late (asleep, descheduled) takes no block of a later pass and a pass never
  waits for a thread that has not started: whoever is there takes the blocks;
* ``DONE``: blocks of the pass finished; the leader returns when it reaches the number of blocks;
* ``ERR``: the pass in which a kernel reported an exception, and the block;
* ``STOP``; then each worker's ``SLEEP`` (below), its counters (blocks taken, ticks polling) on
  the next line, apart from the flag the leader reads at every pass.

A pass that ends in an exception in the leader's thread (an interrupt while it waits, a worker
gone) is abandoned (`_abandon`): ``CLAIM`` is closed, so no thread takes another block of it, and
the leader waits for the blocks already taken before the exception leaves `Team.run` (the pass's
arrays may be freed then); a block still running after 2 s keeps them referenced by the team.

Blocks are claimed one at a time, each writing only its consumers' rows and its own row of the
partial tables, which the caller adds up in block order: the numbers do not depend on which thread
ran which block (`sim.core.blocks`).

The worker does not know the kernels: the pass gives it a kernel's address and the argument
layout, and `_call` calls the compiled function there as Numba itself calls one compiled function
from another (its calling convention), with the model's tuples (population, lever table,
parameters: fixed for a model's life, `sim.core.blocks.Bound`) and the pass's scalars and arrays
rebuilt from the control array. So the team's compiled code holds none of the kernels' code: it is
small to load, and a kernel edited since the cache was written cannot be run stale from it. The
model's tuples are unboxed once, on the model's first team pass, and their native form is kept in
a buffer of the model's (`_stash`: arrays as borrowed views, their memory kept alive by the
model's own objects); a pass gives the buffer's address (``TUPLES``), so neither thread unboxes
anything per pass and a worker serves any model of the same tuple types without returning to
Python. The team's compiled code is loaded in its first worker's thread (`Team.prepare`) while
the model's passes run serially, so the model's thread does not wait for it.

When it pays: on a free second core, a pass costs about its work divided among the threads
(docs/PERFORMANCE.md, "A spinning thread team"). On busy cores a polling worker takes CPU time
from the model's own thread, so each kernel's pass runs the way (team or serial) whose recent
wall time was lower (`_Plan`), and the team rests, its workers asleep, while it finds its workers
descheduled or the process short of a second core (`Team._look_at_polling`).

Idle: a worker that has seen no pass of its own for ``SPIN_SECONDS`` (measured with the CPU's
cycle counter, calibrated once; the team runs only on x86-64, where that counter is the TSC, and
the thread pool runs the passes elsewhere: `CYCLES`) returns to Python and blocks on a lock; before it blocks it says so (``SLEEP``,
then re-reads ``GO``), and the leader, after storing ``GO``, reads ``SLEEP`` and releases the
lock of each sleeping worker it takes out of that state by compare-and-swap. Both sides use
sequentially consistent atomics, so one of them sees the other's store: no wake-up is lost, and
each sleep is ended by exactly one release.
"""

from __future__ import annotations

import _thread
import atexit
import os
import platform
import threading
import time
import weakref

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.typing.typeof import Purpose, typeof
from numba.extending import intrinsic

from .jit import njit

SPIN_SECONDS = 0.0015  # how long an idle worker polls before it sleeps (the gaps between a
# day's block passes are ~0.3 ms at 20,000 consumers: the worker stays awake through a day)
_WAIT_SECONDS = 0.0003  # how long the leader polls for a worker's block before it counts the
# pass as stalled (a block is 2,048 consumers, <= ~0.1 ms of work) and checks the workers live
adaptive = True  # False: every pass that fits a layout runs on the team (tests)
PROBE_EVERY = 32  # a kernel's pass runs the other way (team or serial) once in this many passes
_EWMA = 0.2  # weight of a new pass in the moving average of a way's wall time
WINDOW = 64  # team passes between looks at how much the workers were descheduled
BUSY_SHARE = 0.2  # ...more than this share of their polling time: the team rests
MIN_CORES = 1.3  # ...or the process's CPU seconds per wall second in the window below this
REST_PASSES, MAX_REST_PASSES = 256, 8192  # serial passes of a rest: first, at most
_GAP_SECONDS = 30e-6  # a pause this long between two polls: the worker was descheduled
_ABANDON_SECONDS = 2.0  # how long an abandoned pass waits for the blocks its workers took
_LINE = 8  # int64 words per 64-byte cache line
_GO, _CLAIM, _DONE, _ERR = 0, 8, 16, 24
_LAYOUT, _NK, _ADDR, _ACTIVE, _TUPLES, _KIND = 32, 33, 34, 35, 36, 37
_SCALAR = 40  # 8 scalar slots (40..47)
_ARRAY = 48  # 4 arrays x (address, 3 dimensions)
_STOP = 64
_LEADS = 72  # the blocks the leading threads took (a count, for tests)
_SLEEP = 80  # + _WORKER * w: worker w's SLEEP flag, alone on its line; its counters on the next:
_WORKER = 2 * _LINE
_TAKEN, _OFF, _POLLING = _LINE, _LINE + 1, _LINE + 2  # blocks taken, ticks descheduled, polling
_BLOCK_BITS = 20  # CLAIM = seq << 20 | block
_BLOCK_MASK = (1 << _BLOCK_BITS) - 1

# The argument layouts the team can run, after (k0, k1): "P", "B", "Q" are the model's tuples
# (population, lever table, parameters: `Bound.objects` 0, 1, 2); "u" a uint64 scalar, "i" an
# int64 scalar, "f" a float32 scalar; an array is (dtype, dimensions), C-contiguous and writable.
# `_job` builds each layout's arguments: the two lists go together.
F64, F32, I64 = np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.int64)
LAYOUTS = (
    ("P", "Q", "u"),  # journey._needs_blocks
    ("P", "B", "Q", "u", "u", "u", "i", (F64, 3), "u"),  # journey._research_blocks
    ("P", "B", "Q", "u", (F64, 3)),  # outreach._send_blocks
    ("P", "B", "Q", "u", "u", "u", "i", (F64, 3), (F64, 3), (F64, 3)),  # journey._purchase_blocks
    ((F32, 2), (F32, 2), "f"),  # trust._forget_blocks
    ("P", "B", "Q", "u", "i", (F64, 3)),  # churn._leave_blocks
    ("P", "Q", "i", (F64, 3), (F64, 3), (F64, 2)),  # metrics._tally_blocks
    ("P", "Q", "u", "i", (F64, 3), (I64, 1)),  # incidents._land_harm_blocks
)
_OBJECT = {"P": 0, "B": 1, "Q": 2}
# the control array holds 8 scalars (_SCALAR ..) and 4 arrays (_ARRAY ..) a pass: a layout with
# more would write one field over another
assert all(sum(c in ("u", "i", "f") for c in spec) <= _ARRAY - _SCALAR for spec in LAYOUTS)
assert all(sum(isinstance(c, tuple) for c in spec) <= (_STOP - _ARRAY) // 4 for spec in LAYOUTS)


# --- atomics and the cycle counter (LLVM instructions) -------------------------------------------


def _slot(context, builder, sig, args):
    aryty = sig.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])


@intrinsic
def _load(typingctx, arr, i):
    """``arr[i]`` read atomically (sequentially consistent)."""

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_slot(context, builder, sig, args), "seq_cst", 8)

    return types.int64(arr, types.intp), codegen


@intrinsic
def _store(typingctx, arr, i, v):
    """``arr[i] = v`` atomically (sequentially consistent)."""

    def codegen(context, builder, sig, args):
        builder.store_atomic(args[2], _slot(context, builder, sig, args), "seq_cst", 8)
        return context.get_dummy_value()

    return types.void(arr, types.intp, types.int64), codegen


@intrinsic
def _cas(typingctx, arr, i, old, new):
    """If ``arr[i] == old`` set it to ``new``, atomically; True if it was set."""

    def codegen(context, builder, sig, args):
        ptr = _slot(context, builder, sig, args)
        pair = builder.cmpxchg(ptr, args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(pair, 1)

    return types.boolean(arr, types.intp, types.int64, types.int64), codegen


@intrinsic
def _add(typingctx, arr, i, v):
    """``arr[i] += v`` atomically."""

    def codegen(context, builder, sig, args):
        builder.atomic_rmw("add", _slot(context, builder, sig, args), args[2], "seq_cst")
        return context.get_dummy_value()

    return types.void(arr, types.intp, types.int64), codegen


_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
# The team runs only where the cycle counter is the x86-64 TSC: elsewhere `team_for` says no and
# the thread pool runs the passes (on aarch64, older LLVM lowers ``llvm.readcyclecounter`` to a
# read of PMCCNTR_EL0, which user code may not do: SIGILL, not a fallback).
CYCLES = platform.machine() in ("x86_64", "AMD64")


@intrinsic
def _ticks(typingctx):
    """The CPU's cycle counter: ``llvm.readcyclecounter``, the TSC, on x86-64 (`CYCLES`); 0
    elsewhere (not emitted there at all; the team is not used: `team_for`, `Team.prepare`)."""

    def codegen(context, builder, sig, args):
        if not CYCLES:
            return ir.IntType(64)(0)
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen


@intrinsic
def _pause(typingctx):
    """A spin-wait hint to the CPU (x86 ``pause``; nothing elsewhere)."""

    def codegen(context, builder, sig, args):
        if _X86:
            fnty = ir.FunctionType(ir.VoidType(), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _pointer(typingctx, address, dtype):
    """The integer ``address`` as a pointer to ``dtype`` (a NumPy scalar type), for `nb.carray`."""
    ptr = types.CPointer(dtype.instance_type)

    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(ptr))

    return ptr(types.int64, dtype), codegen


@intrinsic
def _call(typingctx, address, args):
    """Call the compiled Numba function at ``address`` (it returns nothing) with the tuple
    ``args`` spread, as Numba calls one compiled function from another; 0 if it returned, 1 if
    it raised (the exception itself is not kept: `Team.run` runs the block again, serially, to
    raise it, and raises `TeamError` only if that call does not raise)."""
    argtys = tuple(args.types)

    def codegen(context, builder, sig, llargs):
        values = [builder.extract_value(llargs[1], j) for j in range(len(argtys))]
        fnty = context.call_conv.get_function_type(types.none, argtys)
        fn = builder.inttoptr(llargs[0], fnty.as_pointer())
        status, _ = context.call_conv.call_function(builder, fn, types.none, argtys, values)
        return builder.zext(builder.not_(status.is_ok), ir.IntType(32))

    return types.int32(types.int64, args), codegen


def _strip(context, builder, ty, val):
    """``val`` of type ``ty`` with every array's meminfo set to null: a borrowed view whose
    reference counting is a no-op (the model's own objects keep the memory alive)."""
    if isinstance(ty, types.Array):
        ary = context.make_array(ty)(context, builder, value=val)
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        return ary._getvalue()
    if isinstance(ty, types.BaseTuple):
        for j, t in enumerate(ty.types):
            val = builder.insert_value(
                val, _strip(context, builder, t, builder.extract_value(val, j)), j
            )
    return val


def storable(ty) -> bool:
    """True if every leaf of Numba type ``ty`` is an array or a number (what `_stash` keeps)."""
    if isinstance(ty, types.Array):
        return True
    if isinstance(ty, types.BaseTuple):
        return all(storable(t) for t in ty.types)
    return isinstance(ty, (types.Number, types.Boolean))


@intrinsic
def _stash(typingctx, buf, objects):
    """Store the native form of the tuple ``objects`` (arrays as borrowed views) in the bytes of
    ``buf`` if it is large enough; return the number of bytes it takes."""
    ty = objects

    def codegen(context, builder, sig, args):
        dm = context.data_model_manager[ty]
        size = context.get_abi_sizeof(dm.get_data_type())
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        fits = builder.icmp_signed(">=", ary.nitems, ary.nitems.type(size))
        with builder.if_then(fits):
            data = dm.as_data(builder, _strip(context, builder, ty, args[1]))
            builder.store(data, builder.bitcast(ary.data, data.type.as_pointer()))
        return ir.IntType(64)(size)

    return types.int64(buf, objects), codegen


@intrinsic
def _unstash(typingctx, address, typeref):
    """The tuple `_stash` stored at ``address``, of the type ``typeref`` refers to."""
    ty = typeref.instance_type

    def codegen(context, builder, sig, args):
        dm = context.data_model_manager[ty]
        ptr = builder.inttoptr(args[0], dm.get_data_type().as_pointer())
        return dm.from_data(builder, builder.load(ptr))

    return ty(types.int64, typeref), codegen


# --- the compiled loops ---------------------------------------------------------------------------


@njit(inline="always", cache=True)
def _array1(ctrl, at, dtype):
    """The pass's array whose address and shape are at ``ctrl[at:at + 2]`` (1 dimension)."""
    return nb.carray(_pointer(ctrl[at], dtype), (ctrl[at + 1],))


@njit(inline="always", cache=True)
def _array2(ctrl, at, dtype):
    return nb.carray(_pointer(ctrl[at], dtype), (ctrl[at + 1], ctrl[at + 2]))


@njit(inline="always", cache=True)
def _array3(ctrl, at, dtype):
    return nb.carray(_pointer(ctrl[at], dtype), (ctrl[at + 1], ctrl[at + 2], ctrl[at + 3]))


@njit(cache=True, nogil=True)
def _job(k, ctrl, cu, cf, pop, brands, par):
    """Run block ``k`` of the published pass: its kernel with the arguments of its layout
    (`LAYOUTS`, same order) rebuilt from the control array. 0, or 1 if the kernel raised."""
    layout, address = ctrl[_LAYOUT], ctrl[_ADDR]
    s, a = _SCALAR, _ARRAY
    if layout == 0:
        return _call(address, (k, k + 1, pop, par, cu[s]))
    if layout == 1:
        d3 = _array3(ctrl, a, np.float64)
        return _call(
            address,
            (k, k + 1, pop, brands, par, cu[s], cu[s + 1], cu[s + 2], ctrl[s + 3], d3, cu[s + 4]),
        )
    if layout == 2:
        return _call(address, (k, k + 1, pop, brands, par, cu[s], _array3(ctrl, a, np.float64)))
    if layout == 3:
        d3a = _array3(ctrl, a, np.float64)
        d3b = _array3(ctrl, a + 4, np.float64)
        d3c = _array3(ctrl, a + 8, np.float64)
        return _call(
            address,
            (k, k + 1, pop, brands, par, cu[s], cu[s + 1], cu[s + 2], ctrl[s + 3], d3a, d3b, d3c),
        )
    if layout == 4:
        r = _array2(ctrl, a, np.float32)
        s_ = _array2(ctrl, a + 4, np.float32)
        return _call(address, (k, k + 1, r, s_, np.float32(cf[s])))
    if layout == 5:
        d3 = _array3(ctrl, a, np.float64)
        return _call(address, (k, k + 1, pop, brands, par, cu[s], ctrl[s + 1], d3))
    if layout == 6:
        d3a = _array3(ctrl, a, np.float64)
        d3b = _array3(ctrl, a + 4, np.float64)
        d2 = _array2(ctrl, a + 8, np.float64)
        return _call(address, (k, k + 1, pop, par, ctrl[s], d3a, d3b, d2))
    if layout == 7:
        d3 = _array3(ctrl, a, np.float64)
        i1 = _array1(ctrl, a + 4, np.int64)
        return _call(address, (k, k + 1, pop, par, cu[s], ctrl[s + 1], d3, i1))
    return 1


@njit(inline="always", cache=True, nogil=True)
def _claim(ctrl, seq):
    """The next block of pass ``seq``, taken by compare-and-swap, or -1 if none is left."""
    while True:
        word = _load(ctrl, _CLAIM)
        k = word & _BLOCK_MASK
        if (word >> _BLOCK_BITS) != seq or k >= ctrl[_NK]:
            return -1
        if _cas(ctrl, _CLAIM, word, word + 1):
            return k


@njit(cache=True, nogil=True)
def _take_blocks(ctrl, cu, cf, objects, seq, taken):
    """Claim and run blocks of pass ``seq`` until none is left (or the pass is over). The pass's
    fields, the model's tuples among them, are read only once a block is claimed: the pass is
    not over then, so they are the pass's own."""
    k = _claim(ctrl, seq)
    if k < 0:
        return
    pop, brands, par = _unstash(ctrl[_TUPLES], objects)
    while k >= 0:
        if _job(k, ctrl, cu, cf, pop, brands, par) != 0:
            _store(ctrl, _ERR + 1, k)
            _store(ctrl, _ERR, seq)
        _add(ctrl, _DONE, 1)
        ctrl[taken] += 1  # this thread's count of blocks (its own cache line)
        k = _claim(ctrl, seq)


@njit(cache=True, nogil=True)
def _lead(ctrl, cu, cf, objects, seq, wait_ticks):
    """The publishing thread's part of pass ``seq``: take blocks, then poll until every block is
    done (True) or ``wait_ticks`` have passed (False: call again)."""
    _take_blocks(ctrl, cu, cf, objects, seq, _LEADS)
    nk = ctrl[_NK]
    start = _ticks()
    while _load(ctrl, _DONE) < nk:
        _pause()
        if _ticks() - start > wait_ticks:
            return False
    return True


@njit(cache=True, nogil=True)
def _serve(ctrl, cu, cf, objects, kind, me, seen, spin_ticks, gap_ticks):
    """A worker's loop: on each new pass (``GO`` != ``seen``) take blocks if it is one of the
    pass's workers. Returns (why, seen): 0 idle for ``spin_ticks``, 1 told to stop, 2 the pass
    has blocks left and its model's tuples are of other types than ``objects`` (``KIND`` !=
    ``kind``; ``seen`` is left so that the pass is looked at again with those types)."""
    last = _ticks()
    before = last
    mine = _SLEEP + _WORKER * me
    stats = mine + _OFF  # ticks off the CPU while polling, ticks polling
    while True:
        now = _ticks()
        if now - before > gap_ticks:  # the thread was descheduled: its core is not its own
            ctrl[stats] += now - before
        ctrl[stats + 1] += now - before
        before = now
        go = _load(ctrl, _GO)
        if go != seen:
            if _load(ctrl, _STOP) != 0:
                return 1, go
            if ctrl[_KIND] != kind:
                word = _load(ctrl, _CLAIM)
                if (
                    me < ctrl[_ACTIVE]  # (else not its pass: no new poll, no reset of `last`)
                    and (word >> _BLOCK_BITS) == go
                    and (word & _BLOCK_MASK) < ctrl[_NK]
                ):
                    return 2, seen
                seen = go  # a pass that is over: nothing to take
                continue
            seen = go
            if me < ctrl[_ACTIVE]:  # a worker of the pass: it polls SPIN_SECONDS from now
                _take_blocks(ctrl, cu, cf, objects, go, mine + _TAKEN)
                last = _ticks()
                before = last
            # else not in the pass (a model on fewer threads): its idle time runs on
        else:
            _pause()
            if _ticks() - last > spin_ticks:
                return 0, seen


@njit(cache=True)
def _stash_into(buf, pop, brands, par):
    return _stash(buf, (pop, brands, par))


@njit(cache=True, nogil=True)
def _control(ctrl, op, a, b):
    """The small operations on the control array, one compiled function (one cache load):

    * op 0: the cycle counter;
    * op 1, publish pass ``a`` (its fields are written) for the first ``b`` workers: reset the
      counters, store ``GO``; then take each sleeping one of them out of its sleep. Returns the
      bit mask of the workers whose lock the caller must release;
    * op 2, worker ``a`` about to sleep, having seen pass ``b``: store SLEEP, then re-read GO.
      0: sleep (block on the lock); 1: a pass came, SLEEP taken back, do not sleep; 2: a pass
      came but the leader already took SLEEP back and releases the lock: acquire it (it returns
      at once);
    * op 3, stop all ``a`` workers: STOP, a new GO for those polling; the bit mask of the
      sleeping ones whose lock the caller must release;
    * op 4: GO;
    * op 5, a pass abandoned: close ``CLAIM`` (no thread takes another block of it), then poll
      until every block already taken is done: 1, or 0 if that took more than ``a`` ticks (a
      worker may still be in a block).
    """
    if op == 0:
        return _ticks()
    if op == 1:
        _store(ctrl, _DONE, 0)
        _store(ctrl, _CLAIM, a << _BLOCK_BITS)
        _store(ctrl, _GO, a)
        wake = 0
        for w in range(b):
            at = _SLEEP + _WORKER * w
            if _load(ctrl, at) == 1 and _cas(ctrl, at, 1, 0):
                wake |= 1 << w
        return wake
    if op == 2:
        at = _SLEEP + _WORKER * a
        _store(ctrl, at, 1)
        if _load(ctrl, _GO) == b and _load(ctrl, _STOP) == 0:
            return 0
        return 1 if _cas(ctrl, at, 1, 0) else 2
    if op == 3:
        _store(ctrl, _STOP, 1)
        _add(ctrl, _GO, 1)
        wake = 0
        for w in range(a):
            if _cas(ctrl, _SLEEP + _WORKER * w, 1, 0):
                wake |= 1 << w
        return wake
    if op == 5:
        while True:
            word = _load(ctrl, _CLAIM)
            if word & _BLOCK_MASK == _BLOCK_MASK:
                return 1  # closed already (and waited for then)
            if _cas(ctrl, _CLAIM, word, word | _BLOCK_MASK):
                break
        taken = min(word & _BLOCK_MASK, ctrl[_NK])
        start = _ticks()
        while _load(ctrl, _DONE) < taken:
            _pause()
            if _ticks() - start > a:
                return 0
        return 1
    return _load(ctrl, _GO)


# --- the team (Python side) -----------------------------------------------------------------------


class TeamError(RuntimeError):
    """A team pass could not finish: its workers are gone with blocks taken; or a block that
    reported an exception on the team did not raise when `Team.run` ran it again."""


class _Plan:
    """How one kernel call maps onto the control array (see `plan`), and whether the team or a
    serial call has been the faster way to run it lately (`use_team`)."""

    __slots__ = ("layout", "address", "scalars", "arrays", "seconds", "passes")

    def __init__(self, layout, address, scalars, arrays):
        self.layout, self.address, self.scalars, self.arrays = layout, address, scalars, arrays
        self.seconds = [0.0, 0.0]  # moving averages of a pass's wall time: serial, on the team
        self.passes = 0

    def use_team(self) -> bool:
        """Run this pass on the team? The way with the lower average, except every
        `PROBE_EVERY`-th pass, which tries the other (the first two passes try both)."""
        n = self.passes
        if not adaptive:
            return True
        if n < 2:
            return n == 0
        serial, on_team = self.seconds
        return (on_team <= serial) != (n % PROBE_EVERY == 0)

    def timed(self, team_: bool, seconds: float) -> None:
        """Count a pass run on the team (``team_``) or serially that took ``seconds``: into the
        moving average of the way it ran, or, for a probe of the way not in use, in place of
        that way's average (a fresh sample of a stale figure)."""
        j = int(team_)
        serial, on_team = self.seconds
        probe = (on_team <= serial) != team_
        if self.passes < 2 or probe:
            self.seconds[j] = seconds
        else:
            self.seconds[j] += _EWMA * (seconds - self.seconds[j])
        self.passes += 1


def plan(fn, args, objects, object_types):
    """The `_Plan` for ``fn(k0, k1, *args)`` if its arguments fit one of `LAYOUTS` (the model's
    tuples by identity, scalars and arrays by type) and ``fn`` is a Numba dispatcher whose
    overload for them returns nothing; else None (the call goes another way)."""
    from numba.core.dispatcher import Dispatcher

    if not isinstance(fn, Dispatcher) or len(objects) != 3:
        return None
    for layout, spec in enumerate(LAYOUTS):
        if len(spec) != len(args):
            continue
        sig, scalars, arrays = [types.int64, types.int64], [], []
        for j, (code, a) in enumerate(zip(spec, args, strict=True)):
            if code in _OBJECT:
                if a is not objects[_OBJECT[code]]:
                    break
                sig.append(object_types[_OBJECT[code]])
            elif code == "u":
                if type(a) is not np.uint64:
                    break
                sig.append(types.uint64)
                scalars.append((j, 0, _SCALAR + len(scalars)))
            elif code == "i":
                if type(a) not in (int, np.int64):
                    break
                sig.append(types.int64)
                scalars.append((j, 1, _SCALAR + len(scalars)))
            elif code == "f":
                if type(a) is not np.float32:
                    break
                sig.append(types.float32)
                scalars.append((j, 2, _SCALAR + len(scalars)))
            else:
                dtype, ndim = code
                if not (
                    type(a) is np.ndarray
                    and a.dtype == dtype
                    and a.ndim == ndim
                    and a.flags.c_contiguous
                    and a.flags.writeable
                    and a.flags.aligned
                ):
                    break
                sig.append(typeof(a, Purpose.argument))
                arrays.append((j, _ARRAY + 4 * len(arrays)))
        else:
            try:
                sig = tuple(sig)
                cres = fn.overloads.get(sig)  # loaded already: no wait for the compiler lock
                if cres is None:
                    fn.compile(sig)
                    cres = fn.overloads[sig]
                if cres.signature.return_type != types.none or tuple(cres.signature.args) != sig:
                    return None
                address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
            except Exception:  # noqa: BLE001 - not callable this way: the pool runs it
                return None
            if not address:
                return None
            return _Plan(layout, int(address), tuple(scalars), tuple(arrays))
    return None


class _Worker:
    __slots__ = ("thread", "lock")

    def __init__(self, thread, lock):
        self.thread, self.lock = thread, lock


class _Model:
    """A model's side of the team: its tuples stashed in native form (`_stash`), their types,
    and `_lead` compiled for them."""

    __slots__ = ("buf", "address", "kind", "objects", "lead")

    def __init__(self, buf, kind, objects, lead):
        self.buf, self.address, self.kind = buf, buf.ctypes.data, kind
        self.objects, self.lead = objects, lead


class Team:
    """The control array and the worker threads of the process (see the module's docstring)."""

    MAX_WORKERS = 63

    def __init__(self):
        n = _SLEEP + _WORKER * self.MAX_WORKERS
        buf = np.zeros(n + _LINE, np.int64)
        off = (-buf.ctypes.data % 64) // 8
        self.ctrl = buf[off : off + n]
        self.cu = self.ctrl.view(np.uint64)
        self.cf = self.ctrl.view(np.float64)
        self.seq = 0
        self.workers: list[_Worker] = []
        self.kinds: list = [None]  # KIND number -> the Numba type of a model's tuples
        self.leads: dict = {}  # that type -> `_lead` compiled for it
        self.stopped = False
        self.busy = threading.Lock()  # one leading thread at a time
        self.models: list = []  # one item per model (its `Bound`) that used this team and is
        # not collected yet (appended and popped: atomic, unlike ``+= 1``, from any thread)
        self.growing = threading.Lock()  # one thread at a time starts workers
        self.kept = None  # an abandoned pass's arrays, while a worker may still be in a block
        self.pid = os.getpid()
        self.ready = False  # set by the first worker when the team's compiled code is loaded
        self.failed = False  # ...or when it could not be: the pool runs the passes
        rate = 3e9  # cycle counter ticks per second until `prepare` measures it
        self.rate = rate
        self.spin_ticks = int(rate * SPIN_SECONDS)
        self.wait_ticks = int(rate * _WAIT_SECONDS)
        self.gap_ticks = int(rate * _GAP_SECONDS)
        self.rest_left = 0  # passes still to run serially: the workers found their cores busy
        self.rest = REST_PASSES  # the next rest's length
        self.window = 0  # team passes since the workers' polling was last looked at
        self.polled = (0, 0)  # the workers' ticks off the CPU and polling, then
        self.clocks = (time.perf_counter(), time.process_time())  # wall and CPU time, then

    @property
    def live(self) -> int:
        """Models (their `Bound`) that used this team and are not collected yet."""
        return len(self.models)

    def awake(self) -> bool:
        """False while the team rests (see `_look_at_polling`)."""
        if self.rest_left > 0:
            self.rest_left -= 1
            if self.rest_left == 0:  # a new window starts
                self.clocks = (time.perf_counter(), time.process_time())
            return False
        return True

    def _look_at_polling(self) -> None:
        """Every `WINDOW` team passes: if the workers spent more than `BUSY_SHARE` of their
        polling time descheduled, the cores are not free (other processes, or this one's cgroup
        has less than a core per thread), and a polling worker takes CPU time from the model's
        own thread: the next `rest` passes run serially (the workers fall asleep), and the rest
        doubles each time (at most `MAX_REST_PASSES`) until a window finds the cores free. The
        same if the process used less than `MIN_CORES` of CPU time per second of the window (its
        cgroup, e.g. a session's autogroup, gets about one core while other sessions are busy,
        and the worker runs only in the model's thread's stead). A pass
        whose leader waited longer than `_WAIT_SECONDS` for a worker's block (`_run`) starts a
        rest at once."""
        self.window = 0
        n = len(self.workers)
        off = sum(int(self.ctrl[_SLEEP + _WORKER * w + _OFF]) for w in range(n))
        polling = sum(int(self.ctrl[_SLEEP + _WORKER * w + _POLLING]) for w in range(n))
        d_off, d_polling = off - self.polled[0], polling - self.polled[1]
        self.polled = (off, polling)
        wall, cpu = time.perf_counter(), time.process_time()
        cores = (cpu - self.clocks[1]) / max(wall - self.clocks[0], 1e-9)
        self.clocks = (wall, cpu)
        if (d_polling > 0 and d_off > BUSY_SHARE * d_polling) or cores < MIN_CORES:
            self._rest()
        else:
            self.rest = REST_PASSES

    def _rest(self) -> None:
        """The next `rest` passes serially; the rest after that twice as long."""
        self.window = 0
        self.clocks = (time.perf_counter(), time.process_time())
        self.rest_left = self.rest
        self.rest = min(2 * self.rest, MAX_REST_PASSES)

    def taken(self) -> list[int]:
        """Blocks taken so far by the leading threads, then by each worker."""
        return [int(self.ctrl[_LEADS])] + [
            int(self.ctrl[_SLEEP + _WORKER * w + _TAKEN]) for w in range(len(self.workers))
        ]

    def ensure_workers(self, count: int, prepare=None) -> None:
        """Start workers until there are ``count``; the first one started runs
        `prepare` (with the ``prepare`` arguments) before it serves. Under a lock: two threads
        starting their first pass at once would give two workers the same index."""
        with self.growing:
            while len(self.workers) < min(count, self.MAX_WORKERS):
                lock = _thread.allocate_lock()
                lock.acquire()  # held: a sleeping worker blocks on it until the leader releases it
                me = len(self.workers)
                thread = threading.Thread(
                    target=_work,
                    args=(self, me, lock, prepare if me == 0 else None),
                    name=f"omnitrust-team-{me}",
                    daemon=True,
                )
                self.workers.append(_Worker(thread, lock))
                thread.start()

    def prepare(self, object_types, objects) -> None:
        """Load the team's compiled code for tuples of ``object_types`` (from Numba's cache, or
        compile it) and measure the cycle counter's rate: in the first worker's thread, while the
        model's own thread runs its passes serially (`team_for` says not ready), so none of it
        is on the model's path. Then `ready`."""
        c0, t0 = _control(self.ctrl, 0, 0, 0), time.perf_counter()
        tp = self._lead_for(object_types)[1]
        _stash_into(np.zeros(1, np.uint8), *objects)  # loaded (too small a buffer: no store)
        arr = tuple(typeof(a, Purpose.argument) for a in (self.ctrl, self.cu, self.cf))
        _serve.compile(arr + (types.TypeRef(tp),) + (types.int64,) * 5)
        time.sleep(max(0.0, 0.002 - (time.perf_counter() - t0)))
        rate = (_control(self.ctrl, 0, 0, 0) - c0) / (time.perf_counter() - t0)
        if rate <= 0:
            raise RuntimeError("no cycle counter")
        self.rate = rate
        self.spin_ticks = int(rate * SPIN_SECONDS)
        self.wait_ticks = int(rate * _WAIT_SECONDS)
        self.gap_ticks = int(rate * _GAP_SECONDS)
        self.ready = True

    def _lead_for(self, object_types):
        """`_lead` compiled for tuples of ``object_types``, and their tuple type."""
        tp = types.Tuple(tuple(object_types))
        if not storable(tp):
            return None, tp
        if tp not in self.kinds:
            self.kinds.append(tp)
        lead = self.leads.get(tp)
        if lead is None:
            sig = tuple(typeof(a, Purpose.argument) for a in (self.ctrl, self.cu, self.cf))
            sig += (types.TypeRef(tp), types.int64, types.int64)
            lead = self.leads[tp] = _lead.compile(sig)
        return lead, tp

    def model(self, bound, object_types) -> _Model | None:
        """The team's record of ``bound``'s model (made on its first pass), or None if its
        tuples hold something other than arrays and numbers."""
        lead, tp = self._lead_for(object_types)
        if lead is None:
            return None
        size = 0
        buf = np.zeros(1, np.int64)
        while True:
            size = _stash_into(buf.view(np.uint8), *bound.objects)
            if size <= buf.nbytes:
                break
            buf = np.zeros((size + 7) // 8, np.int64)
        return _Model(buf, self.kinds.index(tp), tp, lead)

    def run(self, bound, plan_, nk, threads, args, entry) -> bool:
        """One pass of ``plan_`` over ``nk`` blocks on ``threads`` threads (this one included);
        False (nothing done) if another thread's model is using the team."""
        if not self.busy.acquire(blocking=False):
            return False
        try:
            failed = self._run(bound, plan_, nk, threads, args, entry)
        except BaseException:
            # a pass left unfinished (an interrupt while waiting, a worker gone): no block of it
            # is taken from now on and the blocks taken are waited for, since the pass's arrays
            # may be freed once the exception is out; this control array is not used again
            _abandon(self, (bound, args))
            raise
        finally:
            self.busy.release()
        if failed >= 0:
            entry(failed, failed + 1, *args)  # raises the kernel's exception, as a serial call
            raise TeamError(f"{entry!r} reported an exception on block {failed} in the team")
        return True

    def _run(self, bound, plan_, nk, threads, args, entry) -> int:
        """The pass itself; returns -1, or a block whose kernel raised."""
        ctrl, cu, cf = self.ctrl, self.cu, self.cf
        model = bound.team
        if len(self.workers) < threads - 1:
            self.ensure_workers(threads - 1)
        ctrl[_TUPLES] = model.address
        ctrl[_KIND] = model.kind
        ctrl[_LAYOUT] = plan_.layout
        ctrl[_NK] = nk
        ctrl[_ADDR] = plan_.address
        active = min(threads - 1, len(self.workers))
        ctrl[_ACTIVE] = active
        for j, kind, at in plan_.scalars:
            if kind == 0:
                cu[at] = args[j]
            elif kind == 1:
                ctrl[at] = args[j]
            else:
                cf[at] = args[j]
        for j, at in plan_.arrays:
            a = args[j]
            ctrl[at] = a.ctypes.data
            ctrl[at + 1 : at + 1 + a.ndim] = a.shape
        self.seq += 1
        seq = self.seq
        wake = _control(ctrl, 1, seq, active)
        if wake:
            for w in range(active):
                if wake >> w & 1:
                    self.workers[w].lock.release()
        lead, objects, wait = model.lead, model.objects, self.wait_ticks
        stalled = False
        while not lead(ctrl, cu, cf, objects, seq, wait):
            stalled = True  # a worker's block outlasted `_WAIT_SECONDS`: it was descheduled
            if not any(w.thread.is_alive() for w in self.workers[:active]) and ctrl[_DONE] < nk:
                raise TeamError(
                    f"the team's workers ended during a pass of {entry!r} with "
                    f"{nk - int(ctrl[_DONE])} of {nk} blocks not done"
                )
            os.sched_yield()
        self.window += 1
        if adaptive and stalled:
            self._rest()
        elif self.window >= WINDOW and adaptive:
            self._look_at_polling()
        return int(ctrl[_ERR + 1]) if ctrl[_ERR] == seq else -1

    def stop(self, join: bool = True) -> None:
        """End the workers (they leave their loop at the next poll or wake-up)."""
        self.stopped = True
        wake = _control(self.ctrl, 3, len(self.workers), 0)
        for w, worker in enumerate(self.workers):
            if wake >> w & 1:
                worker.lock.release()
        if join:
            for worker in self.workers:
                if worker.thread is not threading.current_thread():
                    worker.thread.join(timeout=5.0)


def _work(team: Team, me: int, lock, prepare) -> None:
    """A worker thread: serve the passes, sleep when idle, end when stopped. It holds no model:
    each pass gives the address of its model's stashed tuples. The first one first prepares the
    team (`Team.prepare`)."""
    if prepare is not None:
        try:
            team.prepare(*prepare)
        except Exception:  # noqa: BLE001 - no team here: the passes go to the pool
            team.failed = True
            return
        del prepare
    ctrl, cu, cf = team.ctrl, team.cu, team.cf
    seen, kind = -1, 0
    while not team.stopped:
        if kind > 0:
            why, seen = _serve(
                ctrl, cu, cf, team.kinds[kind], kind, me, seen, team.spin_ticks, team.gap_ticks
            )
            if why == 1:
                return
            if why == 2:
                kind = int(ctrl[_KIND])
                continue
        else:
            kind = int(ctrl[_KIND])
            if kind > 0:
                continue
            seen = int(_control(ctrl, 4, 0, 0))
        if _control(ctrl, 2, me, seen) != 1:
            lock.acquire()


_team: Team | None = None
_team_lock = threading.Lock()


def team_for(bound, threads: int) -> Team | None | bool:
    """The process's team with ``bound``'s model known to it, for a pass on ``threads``
    threads; False while the team is being prepared (its first worker loads its compiled code:
    the caller runs the pass serially meanwhile); None if it cannot be used here or for this
    model (the pool runs the pass)."""
    global _team
    if not CYCLES:
        return None  # no cycle counter to poll by: the pool
    team = _team
    if team is None or team.pid != os.getpid() or team.stopped:
        with _team_lock:
            if _team is None or _team.pid != os.getpid() or _team.stopped:
                _team = Team()
            team = _team
    if not team.ready:
        if team.failed:
            return None
        if not team.workers:
            team.ensure_workers(threads - 1, (bound.numba_types(), bound.objects))
        return False
    if bound.team is None or bound.team_of is not team:
        try:
            model = team.model(bound, bound.numba_types())
        except Exception:  # noqa: BLE001 - this model's tuples cannot be stashed: the pool
            model = None
        if model is None:
            return None
        team.models.append(None)
        weakref.finalize(bound, _gone, team)
        bound.team, bound.team_of = model, team
    return team


def _abandon(team: Team, keep) -> None:
    """Stop ``team`` and let the next pass start a new one: first close the pass's claims and
    wait (at most ``_ABANDON_SECONDS``, in compiled code) for the blocks the workers took; if
    one is still running then, ``keep`` (the pass's model and arrays) stays referenced by the
    team, so the worker never writes into freed memory."""
    global _team
    if _team is team:
        _team = None
    if not _control(team.ctrl, 5, int(team.rate * _ABANDON_SECONDS), 0):
        team.kept = keep
    team.stop(join=False)


def _gone(team: Team) -> None:
    """A model that used ``team`` was collected: the last one takes the team's threads along
    (a collector's call: it signals the threads and does not wait for them)."""
    global _team
    if team.models:
        team.models.pop()
    if not team.models and not team.stopped:
        if _team is team:
            _team = None
        team.stop(join=False)


def shutdown() -> None:
    """Stop the team's threads (a later pass starts a new team)."""
    # CLAIM stays open (only `_abandon` closes it): a thread in a pass stays in `Team.run` until
    # every block is done (its `_lead` takes those left), so no block outlives its pass's tables.
    global _team
    with _team_lock:
        team, _team = _team, None
    if team is not None and team.pid == os.getpid():
        team.stop()


def _after_fork() -> None:
    global _team
    _team = None  # the threads stayed in the parent


atexit.register(shutdown)  # no worker polls memory the interpreter is freeing
os.register_at_fork(after_in_child=_after_fork)
