"""The social network: a sparse Watts-Strogatz small world stored as CSR arrays.

Word of mouth travels along these ties (docs/ODD.md, "Social influence"). Built with vectorised
NumPy: a ring lattice where each consumer links to the next ``degree/2`` consumers, each link's far
end rewired with probability ``rewiring`` to a uniformly drawn consumer (Watts & Strogatz 1998).
"""

from __future__ import annotations

import numpy as np


def small_world(n: int, degree: int, rewiring: float, rng: np.random.Generator):
    """Return ``(tie_start, ties)``: CSR row pointers (int64, n+1) and neighbours (int32).

    The graph is undirected (every tie is stored in both rows); self-loops are dropped, duplicate
    ties are kept once. Mean degree is ``degree`` up to those removals.
    """
    half = min(degree // 2, max((n - 1) // 2, 0))
    if n < 2 or half == 0:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int32)
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = rng.random(src.size) < rewiring
    dst[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    keep = src != dst
    src, dst = src[keep], dst[keep]
    # both directions, then sort by (row, column) and drop duplicates
    rows = np.concatenate([src, dst])
    cols = np.concatenate([dst, src])
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    unique = np.ones(rows.size, dtype=bool)
    unique[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols = rows[unique], cols[unique]
    tie_start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=tie_start[1:])
    return tie_start, cols.astype(np.int32)
