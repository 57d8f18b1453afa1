"""``omnitrust report``: the executive report of a results folder (`sim.analysis.report`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import UserError, check_output_file


def add_report_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``omnitrust report``."""
    p = subparsers.add_parser(
        "report",
        help="write the executive report (HTML, optionally PDF) of a results folder",
        description="Write one self-contained HTML report (verdict, ranked table, charts, "
        "assumptions, provenance) of a folder written by `omnitrust run`, `compare` or "
        "`sweep`; with --pdf also print it to PDF with headless Chromium.",
    )
    p.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="results folder")
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="FILE.html",
        help="HTML file to write (default: RESULTS_DIR/report.html)",
    )
    p.add_argument(
        "--pdf", action="store_true", help="also write FILE.pdf (needs chromium and playwright)"
    )
    p.add_argument("--brand", metavar="BRAND", help="focal brand (default: the one that differs)")
    p.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="trust threshold of P(trust < T by day) (default: the folder's, else 0.4)",
    )
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """``omnitrust report``: write the HTML (and PDF) report and say where."""
    out = args.out if args.out is not None else args.folder / "report.html"
    if out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"-o {out}: the report is an HTML file; give a name ending in .html")
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise UserError(f"--threshold {args.threshold}: must be between 0 and 1 (trust scale)")
    from ..analysis.findings import load_results
    from ..analysis.report import INSTALL_HINT, can_print, html_to_pdf, write_report

    res = load_results(args.folder)
    check_output_file(out, "-o")  # (a folder of that name, a read-only folder: said here)
    written = [write_report(res, out, args.brand, args.threshold)]
    print(f"wrote {written[0]}")
    if args.pdf:
        if not can_print():
            sys.stdout.flush()
            raise UserError(f"{INSTALL_HINT}. The HTML report is in {written[0]}.")
        pdf = html_to_pdf(written[0], out.with_suffix(".pdf"))
        print(f"wrote {pdf}")
    return 0
