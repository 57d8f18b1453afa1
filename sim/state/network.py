"""The social network: a sparse Watts-Strogatz small world stored as CSR arrays.

Word of mouth travels along these ties (docs/ODD.md, 7.6). A ring lattice where each consumer links
to the next ``degree/2`` consumers, each link's far end rewired with probability ``rewiring`` to a
uniformly drawn consumer (Watts & Strogatz 1998). Self-loops are dropped and duplicate ties kept
once; ties are stored in both directions. The build uses int32 edge lists and a compiled counting
sort, so its peak memory stays near the size of the result (about 40 bytes per consumer at
degree 8) even for millions of consumers.
"""

from __future__ import annotations

import numpy as np

from ..core.jit import njit


def small_world(n: int, degree: int, rewiring: float, rng: np.random.Generator):
    """Return ``(tie_start, ties)``: CSR row pointers (int64, n+1) and neighbours (int32)."""
    half = min(degree // 2, max((n - 1) // 2, 0))
    if n < 2 or half == 0:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int32)
    m = n * half
    dst = np.empty(m, np.int32)
    for k in range(half):  # edge k of consumer i is stored at i * half + k
        dst[k::half] = (np.arange(n, dtype=np.int64) + k + 1) % n
    rewire = np.flatnonzero(rng.random(m, dtype=np.float32) < rewiring)
    dst[rewire] = rng.integers(0, n, size=rewire.size, dtype=np.int32)
    return _to_csr(n, half, dst)


@njit(cache=True)
def _to_csr(n, half, dst):
    """Undirected CSR from the lattice's far ends (source of edge e is e // half)."""
    m = dst.size
    count = np.zeros(n + 1, np.int64)
    for e in range(m):
        i = e // half
        j = dst[e]
        if i != j:
            count[i + 1] += 1
            count[j + 1] += 1
    for i in range(n):
        count[i + 1] += count[i]
    ties = np.empty(count[n], np.int32)
    fill = count[:n].copy()
    for e in range(m):
        i = e // half
        j = dst[e]
        if i != j:
            ties[fill[i]] = j
            fill[i] += 1
            ties[fill[j]] = i
            fill[j] += 1
    # sort each row, drop duplicates, compact in place
    tie_start = np.zeros(n + 1, np.int64)
    write = 0
    for i in range(n):
        row = np.sort(ties[count[i] : count[i + 1]])
        last = -1
        for j in row:
            if j != last:
                ties[write] = j
                write += 1
                last = j
        tie_start[i + 1] = write
    return tie_start, ties[:write].copy()
