"""Named random streams: counter-based random numbers keyed by (seed, stream, day, consumer, slot).

Every random draw in a run comes from a named stream (``"need"``, ``"research"``, ``"consent"``, ...).
A draw is a pure function of ``(seed, stream, day, consumer, slot)``: a SplitMix64 hash, not a
sequential generator. Hence

* changing one lever leaves every other draw unchanged (common random numbers): a consumer's
  research channel on day 40 is the same whether or not a brand sends more email;
* the numbers do not depend on how the population is split into chunks, workers or executors;
* draws are cheap (a few integer multiplications) inside compiled kernels.

SplitMix64 (Steele, Lea & Flood 2014) passes BigCrush; counter-based use of a strong 64-bit mixer is
the idea of Salmon et al. (2011, "Parallel random numbers: as easy as 1, 2, 3"). See docs/ODD.md,
"Stochasticity".
"""

from __future__ import annotations

import hashlib
import re
from importlib.metadata import version as _installed_version

import numpy as np

from .jit import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SLOT = np.uint64(0xD1B54A32D192ED03)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0

# The streams of a run. Adding a stream at the end never changes existing draws.
STREAMS: tuple[str, ...] = (
    "init",
    "network",
    "need",
    "research",
    "consent",
    "personalization",
    "outreach",
    "purchase",
    "social",
    "churn",
    "breach",
    "exposure",
    "harm",
    "disclosure",
    "fraud",
    "turnover",
    "touch",
)

_KNOWN = frozenset(STREAMS)


def stream_key(seed: int, stream: str, day: int = -1, part: int = 0) -> np.uint64:
    """The 64-bit key of ``stream`` on ``day`` for ``seed`` (day -1 for set-up streams).

    ``part`` separates independent uses of one stream on one day (the second breach of a day, the
    second media story); part 0 is the plain (seed, stream, day) key.
    """
    if stream not in _KNOWN:
        raise KeyError(f"unknown random stream {stream!r}; known: {', '.join(STREAMS)}")
    label = f"{seed}/{stream}/{day}" if part == 0 else f"{seed}/{stream}/{day}/{part}"
    digest = hashlib.blake2b(label.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))  # the digest as a little-endian uint64


def replication_seed(seed: int, replication: int) -> int:
    """The seed of replication ``replication`` of a run seeded ``seed``.

    Replication k of every scenario in a comparison gets the same seed, hence the same population
    and the same draws in every stream the policies do not touch.
    """
    digest = hashlib.blake2b(f"{seed}/replication/{replication}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def generator(seed: int, stream: str) -> np.random.Generator:
    """A NumPy Generator for vectorised set-up draws (population, network) of ``stream``."""
    return np.random.Generator(np.random.PCG64(int(stream_key(seed, stream))))


@njit(inline="always", cache=True)
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche of a 64-bit integer."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always", cache=True)
def consumer_state(key, i):
    """Per-consumer state of a stream on a day: hash of (key, consumer index)."""
    return mix64(key + np.uint64(i) * _GOLDEN)


@njit(inline="always", cache=True)
def uniform(state, slot):
    """Uniform [0, 1) draw number ``slot`` of a consumer whose stream state is ``state``."""
    return float(mix64(state + np.uint64(slot + 1) * _SLOT) >> _S11) * _INV53


@njit(inline="always", cache=True)
def exponential(state, slot, mean):
    """Exponential draw with the given mean."""
    return -mean * np.log(1.0 - uniform(state, slot))


@njit(inline="always", cache=True)
def person_uniform(key, i, affinity_bits, need_bits):
    """A uniform [0, 1) fixed over the life of the consumer in row i: a pure function of the fixed
    key ``key`` (a set-up key, day -1), the index i and the float32 bits of the consumer's affinity
    and need rate, traits a newcomer in row i redraws (N2), so the newcomer, a new person, gets a
    value of its own. For a trait that needs no array and moves no other stream (the need for
    touch of J2, stream ``touch``)."""
    person = (np.uint64(affinity_bits) << np.uint64(32)) | np.uint64(need_bits)
    return uniform(consumer_state(mix64(key ^ person), i), 0)


@njit(cache=True)
def person_uniforms(key, index, affinity, need_rate):
    """`person_uniform` of the consumers ``index`` (int64) whose affinity and need rate (float32
    arrays of the same length) are given (for tests)."""
    a_bits, n_bits = affinity.view(np.uint32), need_rate.view(np.uint32)
    out = np.empty(index.size)
    for j in range(index.size):
        out[j] = person_uniform(key, index[j], a_bits[j], n_bits[j])
    return out


@njit(cache=True)
def uniforms(key, n, slot):
    """Vector of ``n`` uniforms of one slot for consumers 0..n-1 (for tests and vectorised use)."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform(consumer_state(key, i), slot)
    return out


@njit(cache=True)
def draws(key, i, n_slots):
    """The first ``n_slots`` uniforms of index ``i`` (a consumer, a brand or a breach) of a stream
    (for the few brand-level draws made from Python)."""
    st = consumer_state(key, i)
    out = np.empty(n_slots, dtype=np.float64)
    for k in range(n_slots):
        out[k] = uniform(st, k)
    return out


@njit(cache=True)
def draw_rows(key, n, n_slots):
    """`draws` of indices 0..n-1 as the rows of one array (the brands' draws of a day in one
    call instead of one per brand)."""
    out = np.empty((n, n_slots), dtype=np.float64)
    for i in range(n):
        st = consumer_state(key, i)
        for k in range(n_slots):
            out[i, k] = uniform(st, k)
    return out


def mesa_seed(seed: int, mesa_version: str | None = None) -> dict[str, int]:
    """The keyword that seeds a ``mesa.Model`` on the installed Mesa: ``rng=`` from Mesa 3.4 on
    (which deprecates ``seed=``), ``seed=`` before. For an integer both give the same
    ``model.random`` and ``model.rng`` (Mesa 3.3 builds each from the integer either way)."""
    release = mesa_version or _installed_version("mesa")
    major, minor = (int(p) for p in re.findall(r"\d+", release)[:2])
    return {"rng": int(seed)} if (major, minor) >= (3, 4) else {"seed": int(seed)}
