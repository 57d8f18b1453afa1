"""``omnitrust dashboard``: move a lever, see the market answer (a Solara page in a browser).

This module registers the command and serves `sim.dashboard.app` with solara; it imports
neither solara nor the page, so the command can say what to install when the extra is missing.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import socket
import sys
from pathlib import Path

from ..core.errors import UserError
from .options import SCENARIO_HELP

DEFAULT_SCENARIO = "baseline"
"""The bundled baseline, by name: found from any folder and in an installed wheel
(`sim.scenario.loading.scenario_path`); `sim.dashboard.market.DEFAULT_SCENARIO` is the same."""

INSTALL_HINT = (
    'the dashboard needs the optional "dashboard" dependencies; install them with\n'
    '    pip install -e ".[dashboard]"        (from a clone of omnitrust)\n'
    "or  pip install solara altair networkx"
)


def add_dashboard_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``omnitrust dashboard``."""
    p = subparsers.add_parser(
        "dashboard",
        help="an interactive dashboard: move a lever, see the market answer",
        description="Serve a Solara dashboard: one brand's policy levers and the world's "
        "uncertainties as controls, live charts of trust, consent, revenue and net value for "
        "every brand next to the unchanged scenario (same seed). Open the printed address in "
        "a browser; Ctrl-C stops it.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        default=Path(DEFAULT_SCENARIO),
        help=f"{SCENARIO_HELP} (default: the bundled {DEFAULT_SCENARIO})",
    )
    p.add_argument("--brand", help="the brand whose levers are moved (default: the first)")
    p.add_argument("--port", type=int, default=8765, metavar="N", help="port (default: 8765)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="H",
        help="address to bind (default: 127.0.0.1, this machine only); the dashboard has no "
        "authentication",
    )
    p.set_defaults(handler=cmd_dashboard)


def missing_dependency() -> str | None:
    """The first dashboard dependency that cannot be imported, or None."""
    for module in ("solara", "altair", "networkx", "mesa.visualization"):
        try:
            importlib.import_module(module)
        except ImportError:
            return module
    return None


HOSTS_ALLOWED = "a name or address of this machine, e.g. 127.0.0.1 (the default) or 0.0.0.0"


def listen_problem(host: str, port: int) -> tuple[str, str] | None:
    """Why the web server could not listen on ``host:port``, as (the option to blame, the
    message), or None when it can. Binds as the server does (SO_REUSEADDR) and lets go at once.
    A host that does not resolve or is not this machine's is ``--host``'s fault, a port in use
    (or not allowed) ``--port``'s."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        return (
            "--host",
            f"--host {host}: cannot resolve it ({err.strerror}); allowed: {HOSTS_ALLOWED}",
        )
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(address)
            except OSError as err:
                why = err.strerror or str(err)
                if err.errno == errno.EADDRNOTAVAIL:
                    return (
                        "--host",
                        f"--host {host}: {why} (not this machine's); allowed: {HOSTS_ALLOWED}",
                    )
                return "--port", (
                    f"--port {port}: cannot listen on {host}:{port} ({why}); choose another port"
                )
    return None


def cmd_dashboard(args: argparse.Namespace) -> int:
    from ..scenario.loading import load_scenario, scenario_path

    # what the user typed is checked first: a bad scenario, brand or port is one line, before
    # the dashboard's dependencies (and their warnings) are imported
    scenario = load_scenario(args.scenario)  # bad file: one clear message, exit 2
    names = [b.name for b in scenario.brands]
    if args.brand is not None and args.brand not in names:
        raise UserError(
            f"--brand {args.brand!r}: not a brand of {args.scenario}; allowed: {', '.join(names)}"
        )
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: allowed: 1-65535")
    problem = listen_problem(args.host, args.port)
    if problem is not None:
        raise UserError(problem[1])
    from ..dashboard import quiet_third_party_warnings

    quiet_third_party_warnings()
    missing = missing_dependency()
    if missing is not None:
        raise UserError(f"cannot import {missing}: {INSTALL_HINT}")
    from ..dashboard.market import default_size, describe_event

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: the dashboard listens on {args.host}: anyone who can reach this address "
            "can use it; it has no authentication",
            file=sys.stderr,
        )
    os.environ["OMNITRUST_DASHBOARD_SCENARIO"] = str(scenario_path(args.scenario))
    os.environ["OMNITRUST_DASHBOARD_SCENARIO_AS_TYPED"] = str(args.scenario)  # (for the rerun)
    if args.brand:
        os.environ["OMNITRUST_DASHBOARD_BRAND"] = args.brand
    import click
    from solara.__main__ import cli

    from . import EXIT_INTERRUPTED, plain_sigterm

    argv = ["run", "sim.dashboard.app", "--host", args.host, "--port", str(args.port)]
    argv += ["--production", "--no-open", "--no-check-version"]
    size = default_size(scenario)
    what = [describe_event(e) for e in scenario.events]
    if scenario.policy_from_day is not None:
        what.append(f"the policy change on day {scenario.policy_from_day}")
    print(
        f"omnitrust dashboard: {scenario.name}, {size['consumers']:,} consumers, "
        f"{size['days']} days after a {size['warmup_days']:,}-day warm-up, seed "
        f"{scenario.simulation.seed}" + (f" (with its {', '.join(what)})" if what else ""),
        file=sys.stderr,
    )
    print(f"omnitrust dashboard: http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    plain_sigterm()  # the web server stops on SIGTERM, then raises it again: the process ends
    try:
        return cli.main(args=argv, prog_name="omnitrust dashboard", standalone_mode=False) or 0
    except click.exceptions.Abort:  # Ctrl-C: the web server stopped, then raised it again
        print("\nomnitrust dashboard: stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
