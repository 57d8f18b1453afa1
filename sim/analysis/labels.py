"""Point labels that never overlap: a deterministic greedy placement for scatter charts.

Each label is tried at positions beside its point: right of it (then left of it, then above
and below), level with it or moved up or down by steps of half a line, and further out; the
positions are taken nearest first, and a label takes the first one whose text box overlaps no
label already placed, no marker or error bar, and stays inside the axes; among such positions it
prefers one whose leader line crosses nothing. A label that is not right beside its point gets a
thin leader line to it. Labels are placed in the order given (the first get the nearest places),
so a caller that lists a crowded column of points top to bottom gets a column of labels in the
same order. Measurements are made on the laid-out figure (constrained layout settled first),
and the layout is then frozen, so drawing the figure again does not move the axes under them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

_STEPS = 20  # a label moves up or down by at most this many half lines
_OUT = (0.0, 1.5, 4.0, 8.0, 12.0)  # and away from its point by these many line heights
_SIDE_COST = 1.5  # a label left of, above or below its point costs this many line heights more


def _candidates(height: float, first: float):
    """Offsets (dx, dy, ha, va, side) in display units, nearest first: ``first`` is the
    distance from the point to the text beside it, ``height`` a line's height."""
    out = []
    for k, far in enumerate(_OUT):
        dx = first + far * height
        for step in range(-_STEPS, _STEPS + 1):
            dy = step * height / 2
            for sign, ha in ((1, "left"), (-1, "right")):
                cost = abs(dy) + far * height + (0 if sign > 0 else _SIDE_COST * height)
                out.append((cost, sign * dx, dy, ha, "center", k > 0 or step != 0))
    for k, far in enumerate(_OUT):
        for sign, va in ((1, "bottom"), (-1, "top")):
            cost = (far + _SIDE_COST) * height
            out.append((cost, 0.0, sign * (first + far * height), "center", va, k > 0))
    out.sort(key=lambda c: c[0])  # stable: equal costs keep the order above
    return [c[1:] for c in out]


def _renderer(fig):
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # settle constrained layout and autoscaling first
    return canvas.get_renderer()


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


_RELPOS = {  # where a leader line meets its label, in the label's box (0-1)
    ("left", "center"): (0.0, 0.5),
    ("right", "center"): (1.0, 0.5),
    ("center", "bottom"): (0.5, 0.0),
    ("center", "top"): (0.5, 1.0),
}


def _attach(box: Bbox, ha: str, va: str) -> np.ndarray:
    fx, fy = _RELPOS[ha, va]
    return np.array([box.x0 + fx * box.width, box.y0 + fy * box.height])


def _clip(p0: np.ndarray, p1: np.ndarray, box: Bbox) -> tuple[float, float] | None:
    """The part of the segment p0-p1 inside ``box`` as (t_in, t_out) along it (Liang-Barsky),
    None if the segment misses the box."""
    t_in, t_out = 0.0, 1.0
    d = p1 - p0
    for q, dq, lo, hi in ((p0[0], d[0], box.x0, box.x1), (p0[1], d[1], box.y0, box.y1)):
        if dq == 0:
            if not lo < q < hi:
                return None
            continue
        a, b = (lo - q) / dq, (hi - q) / dq
        t_in, t_out = max(t_in, min(a, b)), min(t_out, max(a, b))
        if t_in >= t_out:
            return None
    return t_in, t_out


def _cross(a0, a1, b0, b1) -> bool:
    """Whether the segments a0-a1 and b0-b1 cross."""

    def side(p, q, r):
        return np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    return bool(side(a0, a1, b0) * side(a0, a1, b1) < 0 and side(b0, b1, a0) * side(b0, b1, a1) < 0)


def _outside(box: Bbox, frame: Bbox) -> float:
    """Area of ``box`` outside ``frame``."""
    return box.width * box.height - _overlap(box, frame)


def place_labels(
    ax: Axes,
    x: Sequence[float],
    y: Sequence[float],
    texts: Sequence[str | None],
    *,
    yerr: Sequence[float] | None = None,
    marker_pt: float = 7.0,
    gap_pt: float = 2.0,
    fontsize: float = 7.0,
    **text_kw,
) -> list[Annotation]:
    """Annotate the points ``(x[i], y[i])`` of ``ax`` with ``texts[i]`` so that no two labels
    overlap and no label covers a marker (diameter ``marker_pt`` points) or an error bar
    (``yerr``, half-lengths in data units) or leaves the axes. A point whose text is None is not
    labelled but is kept clear all the same. Call it after everything that
    changes the layout (labels, formatters, limits). Returns the annotations, in input order."""
    fig = ax.figure
    renderer = _renderer(fig)
    px = fig.dpi / 72.0  # display pixels per point
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    disp = ax.transData.transform(xy)
    frame = ax.get_window_extent(renderer)
    gap = gap_pt * px
    r_mark = marker_pt / 2 * px
    # obstacles[i]: point i's marker and error bar
    obstacles = [
        [Bbox.from_extents(dx - r_mark, dy - r_mark, dx + r_mark, dy + r_mark)] for dx, dy in disp
    ]
    if yerr is not None:
        for k, e in enumerate(np.nan_to_num(np.asarray(yerr, float))):
            if e > 0:
                (xv, yv) = xy[k]
                (x0, y0), (_, y1) = ax.transData.transform([(xv, yv - e), (xv, yv + e)])
                obstacles[k].append(Bbox.from_extents(x0 - 2 * px, y0, x0 + 2 * px, y1))
    probe = Text(0, 0, "Ag", fontsize=fontsize, **text_kw)
    probe.set_figure(fig)
    height = probe.get_window_extent(renderer).height
    candidates = _candidates(height, r_mark + gap)
    placed: list[Bbox] = []
    leaders: list[tuple[np.ndarray, np.ndarray]] = []  # the leader lines drawn so far
    chosen: dict[int, tuple] = {}
    for i, ((xd, yd), text) in enumerate(zip(disp, texts, strict=True)):
        if text is None:
            continue
        others = [b for k, bs in enumerate(obstacles) if k != i for b in bs]
        blocked = placed + others + obstacles[i][1:]  # not even its own error bar
        probe.set_text(text)
        start = np.array([xd, yd])
        best = None
        for dx, dy, ha, va, lead in candidates:
            probe.set_position((xd + dx, yd + dy))
            probe.set_horizontalalignment(ha)
            probe.set_verticalalignment(va)
            box = probe.get_window_extent(renderer).padded(gap)
            cost = _outside(box, frame) + sum(_overlap(box, b) for b in blocked)
            if best is not None and cost > best[0][0]:
                continue
            # a leader line should cross no other label, point or leader line
            crossings = sum(_clip(*seg, box) is not None for seg in leaders)
            seg = None
            if lead:
                end = _attach(box, ha, va)
                direction = end - start
                t0 = r_mark / max(np.hypot(*direction), 1e-9)  # from the marker's edge
                if t0 < 1:
                    seg = (start + t0 * direction, end)
                    crossings += sum(_clip(*seg, b) is not None for b in placed + others)
                    crossings += sum(_cross(*seg, *other) for other in leaders)
            key = (cost, crossings)  # an overlap is worse than any crossing: it hides text
            if best is None or key < best[0]:
                best = (key, (dx, dy, ha, va, lead), box, seg)
            if key == (0, 0):
                break
        _, place, box, seg = best
        placed.append(box)
        if seg is not None:
            leaders.append(seg)
        chosen[i] = place
    out: list[Annotation] = []
    for i, (point, text) in enumerate(zip(xy, texts, strict=True)):
        if text is None:
            continue
        dx, dy, ha, va, lead = chosen[i]
        leader = (
            {
                "arrowstyle": "-",
                "color": "0.45",
                "linewidth": 0.6,
                "shrinkA": 1,
                "shrinkB": marker_pt / 2,
                "relpos": _RELPOS[ha, va],
            }
            if lead
            else None
        )
        ann = ax.annotate(
            text,
            tuple(point),
            xycoords="data",
            xytext=(dx / px, dy / px),
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=fontsize,
            arrowprops=leader,
            **text_kw,
        )
        ann.set_in_layout(False)
        out.append(ann)
    # freeze the layout the labels were placed on: laid out again (at another dpi, say), the
    # axes could change size by a pixel or two and move points closer than their labels
    fig.set_layout_engine("none")
    return out
