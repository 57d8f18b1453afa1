"""What ``.report(target)`` of a comparison or sweep result writes: the executive report of its
folder (a name ending in .html or .pdf), or, for a list of metrics or no argument, the
plain-text report (kept apart from `sim.experiments.folders`, which imports the result classes,
so that they can import this without a cycle)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.errors import UserError

REPORT_SUFFIXES = (".html", ".htm", ".pdf")


def report_file(target: Any) -> Path | None:
    """What ``.report(target)`` of a result object was asked for: the path of the executive
    report to write (a str or path ending in .html, .htm or .pdf), or None for the plain-text
    report (no argument, or a list of metrics, as the text form always took). A str or path
    with another ending is an error that says what is allowed."""
    if target is None or (
        isinstance(target, Iterable) and not isinstance(target, (str, bytes, os.PathLike))
    ):
        return None  # (a list, tuple, array or index of metric names)
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        if path.suffix.lower() in REPORT_SUFFIXES:
            return path
        raise UserError(
            f"report({str(target)!r}): give a file name ending in .html or .pdf for the "
            "executive report (as `omnitrust report FOLDER -o FILE.html`), or a list of metrics "
            "for the plain-text report (also `.report_text()`)"
        )
    raise TypeError(
        f"report() takes a file name (.html or .pdf) or a list of metrics, not {type(target).__name__}"
    )


def write_folder_report(folder: Path | None, path: Path, **kw: Any) -> Path:
    """Write the executive report of the results ``folder`` to ``path`` (`.html`, or `.pdf`
    printed by Chromium), as ``omnitrust report FOLDER -o path`` does; ``kw``: ``brand``,
    ``threshold``."""
    if folder is None:
        raise UserError(
            "this result kept no folder (sim.compare without out=): the report is made from "
            "the stored runs; rerun with out=FOLDER, then .report(path)"
        )
    from ..analysis.report import write_report

    return write_report(folder, path, **kw)
