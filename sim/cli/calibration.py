"""``omnitrust calibrate`` and ``omnitrust sensitivity``: registered on the CLI by `add_parsers`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import check_output_folder
from .options import results_folder, resumes, scheduler_arg


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="results folder")
    p.add_argument("--seed", type=int, metavar="S", help="base seed (default: the file's)")
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes (default: one per core; 1: in this process)",
    )
    scheduler_arg(p)
    p.add_argument("--quiet", dest="progress", action="store_false", help="no progress lines")


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calibrate`` and ``sensitivity`` (each with ``handler=``)."""
    c = subparsers.add_parser(
        "calibrate",
        help="fit parameters to published figures (Optuna) with a posterior (pyabc ABC-SMC)",
        description="Fit the [[parameters]] of a calibration file to its [[targets]]: Optuna "
        "trials (SQLite storage in DIR is the checkpoint: rerun the same command to resume; "
        "a changed file is refused), "
        "then an ABC-SMC posterior. Writes parameters.csv, fit.csv, validation.csv, "
        "posterior.parquet, calibrated.toml, charts and manifest.json into DIR.",
    )
    c.add_argument(
        "file", type=Path, nargs="?", metavar="CALIBRATION.toml", help="(not with --charts-only)"
    )
    c.add_argument("--trials", type=int, metavar="N", help="Optuna trials (default: the file's)")
    c.add_argument("--consumers", type=int, metavar="N", help="consumers (default: the file's)")
    c.add_argument("--replications", "-r", type=int, metavar="R", help="replications per candidate")
    c.add_argument(
        "--recover",
        action="store_true",
        help="calibrate against pseudo-data made at known parameter values and report whether "
        "the 95%% intervals cover them",
    )
    c.add_argument(
        "--charts-only",
        action="store_true",
        help="run nothing: draw the charts of the finished calibration in DIR again from its "
        "stored manifest.json, trials.csv and posterior.parquet (no CALIBRATION.toml)",
    )
    c.add_argument(
        "--charts-dir",
        type=Path,
        metavar="FOLDER",
        help="with --charts-only: write the charts there (default: DIR/charts)",
    )
    _common(c)
    c.set_defaults(handler=cmd_calibrate)

    s = subparsers.add_parser(
        "sensitivity",
        help="Sobol or Morris sensitivity indices of outputs to uncertain parameters (SALib)",
        description="Sample the [[parameters]] of a sensitivity file with SALib, run every "
        "point with common random numbers, and write indices.csv (with 95% bootstrap "
        "intervals), swings.csv, samples.parquet, tornado and index charts into DIR.",
    )
    s.add_argument("file", type=Path, metavar="SENSITIVITY.toml")
    s.add_argument(
        "--samples", type=int, metavar="N", help="base sample size (default: the file's)"
    )
    s.add_argument("--consumers", type=int, metavar="N", help="consumers (default: the file's)")
    s.add_argument("--replications", "-r", type=int, metavar="R", help="replications per point")
    _common(s)
    s.set_defaults(handler=cmd_sensitivity)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``omnitrust calibrate``: fit, write the folder, print the report."""
    from ..calibration.fit import calibrate, effective_trials, redraw
    from ..calibration.spec import load_calibration
    from ..core.errors import UserError

    if args.charts_only:
        if args.file is not None:
            raise UserError(
                f"calibrate: CALIBRATION.toml = {args.file}: not used with --charts-only "
                "(allowed: --out DIR of a finished calibration, optionally --charts-dir)"
            )
        if args.charts_dir is not None:
            check_output_folder(args.charts_dir, "--charts-dir")
        for chart in redraw(args.out, args.charts_dir):
            print(f"wrote {chart}")
        sys.stdout.flush()
        return 0
    if args.file is None:
        raise UserError("calibrate: CALIBRATION.toml is required (unless --charts-only)")
    if args.charts_dir is not None:
        raise UserError(
            f"calibrate: --charts-dir = {args.charts_dir}: only with --charts-only "
            "(a fit writes its charts to DIR/charts)"
        )
    # bad input (the file, --trials) fails before a folder is made
    effective_trials(load_calibration(args.file).spec, args.trials, args.file)
    resumes(args, args.out, "what finished is")
    with results_folder(
        args.out, "calibration"
    ):  # (an option out of range: no empty folder left behind)
        result = calibrate(
            args.file,
            args.out,
            trials=args.trials,
            workers=args.workers,
            scheduler=args.scheduler,
            seed=args.seed,
            consumers=args.consumers,
            replications=args.replications,
            recover=args.recover,
            progress=args.progress,
        )
    print(result.report())
    sys.stdout.flush()
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``omnitrust sensitivity``: sample, run, analyse, write, print the indices."""
    from ..calibration.sensitivity import sensitivity
    from ..calibration.spec import load_sensitivity
    from ..experiments.engine import Interrupted

    load_sensitivity(args.file)
    try:
        with results_folder(
            args.out, "sensitivity"
        ):  # (an option out of range: no empty folder left behind)
            result = sensitivity(
                args.file,
                args.out,
                workers=args.workers,
                scheduler=args.scheduler,
                seed=args.seed,
                samples=args.samples,
                consumers=args.consumers,
                replications=args.replications,
                progress=args.progress,
            )
    except Interrupted as exc:
        sys.stdout.flush()
        print(f"\n{exc}", file=sys.stderr)
        return 130
    print(result.report())
    sys.stdout.flush()
    return 0
