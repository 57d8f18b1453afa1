"""Regret of choices across worlds: the one computation behind a sweep's ``robustness.csv`` and
``max_regret.csv`` (`sim.experiments.sweep.regret_tables`) and the report's regret table and
verdict (`sim.analysis.findings.sweep_regret`), so that the two cannot disagree.

A choice (a policy; in a sweep without policies, a design point's factor settings) meets a world
(every other design setting that varies). Its outcome in a world is the mean over replications of
a per-run outcome (`sim.analysis.outcomes.summarise_runs`); its regret there is how far it falls
short of the best choice in that world (>= 0); the minimax-regret choice is the one whose largest
regret over the worlds is smallest. Pure pandas.
"""

from __future__ import annotations

import pandas as pd

DIRECTIONS = ("max", "min")
"""``max``: more is better; ``min``: less is better."""

_ONE = "__one__"  # the key of a table without choice or world columns (a single group)


def regret_tables(
    runs: pd.DataFrame, choice: list[str], worlds: list[str], direction: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regret per choice and world, and per choice its largest regret.

    ``runs``: one row per run, with the columns ``choice`` and ``worlds`` (design values) and
    ``value`` (the run's outcome). Returns ``(per_world, per_choice)``:

    * ``per_world``: one row per choice and world, sorted by ``[*choice, *worlds]``: those
      columns, ``mean`` (mean of ``value`` over the runs), ``best`` (the best ``mean`` in that
      world: the largest for ``direction="max"``, the smallest for ``"min"``) and ``regret``
      (``best - mean``, or ``mean - best``; >= 0);
    * ``per_choice``: one row per choice: its columns, ``mean_outcome`` (mean of ``mean`` over
      its worlds), ``worst_outcome`` (its worst ``mean``), ``max_regret`` and the ``worlds``
      columns of the world where its largest regret occurs (the first in ``per_world``'s order
      when several tie), sorted by ``[max_regret, *choice]``: the minimax-regret choice first.

    Missing values in design columns are values like any other (a group of their own).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r}: allowed: {', '.join(DIRECTIONS)}")
    keys = [*choice, *worlds]
    one = runs.assign(**{_ONE: 0})
    mean = (
        one.groupby(keys or [_ONE], sort=True, dropna=False)["value"]
        .mean()
        .rename("mean")
        .reset_index()
    )
    if not keys:
        mean = mean.drop(columns=_ONE)
    within = mean.assign(**{_ONE: 0}).groupby(worlds or [_ONE], sort=False, dropna=False)["mean"]
    mean["best"] = within.transform(direction)
    mean["regret"] = (
        mean["best"] - mean["mean"] if direction == "max" else mean["mean"] - mean["best"]
    )
    rows = []
    for _, g in mean.assign(**{_ONE: 0}).groupby(choice or [_ONE], sort=True, dropna=False):
        worst = g["regret"].idxmax()  # the first of its largest regrets
        rows.append(
            {
                **{c: mean.at[worst, c] for c in choice},
                "mean_outcome": g["mean"].mean(),
                "worst_outcome": g["mean"].min() if direction == "max" else g["mean"].max(),
                "max_regret": g["regret"].max(),
                **{c: mean.at[worst, c] for c in worlds},
            }
        )
    per_choice = pd.DataFrame(
        rows, columns=[*choice, "mean_outcome", "worst_outcome", "max_regret", *worlds]
    )
    per_choice = per_choice.sort_values(["max_regret", *choice], ignore_index=True)
    return mean, per_choice
