"""The ``omnitrust`` command line (also ``python -m sim``).

Subcommands are listed in `COMMANDS`. Each names the function that registers it, as
``"module:function"``; that function receives argparse's subparsers, adds its parser(s) and sets
``handler=`` to a function ``(args) -> int`` (the exit code). A registrar is imported only when its
command is run, so ``omnitrust validate`` or ``--help`` do not pay for pandas or matplotlib; until
then the command is a placeholder that only carries its one-line help. To add a command: write
``add_<x>_parser(subparsers)`` in a module of this package (``sim/cli/<x>.py``; the code it
drives lives in the layers below) and add a `Command` line here.

Errors: any `sim.core.errors.UserError` (bad scenario or experiment file, bad option) is printed to
stderr with exit code 2 and no traceback; Ctrl-C exits with 130. SIGTERM (``kill``, a batch
scheduler's time limit) stops the program as Ctrl-C does, then ends it by SIGTERM (`Terminated`).
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from ..core import startup, timing
from ..core.errors import ScenarioError, UserError

PROG = "omnitrust"
EXIT_OK, EXIT_USER_ERROR, EXIT_INTERRUPTED = 0, 2, 130
INTERRUPTED_EXIT_GRACE = 10.0
"""Seconds an interrupted command may take to exit before it ends itself (see `console`)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM reached the program while its command ran (`stop_on_sigterm`). A
    `KeyboardInterrupt`, so the command unwinds as after Ctrl-C: a pool's pending tasks are
    cancelled and its workers stopped (no semaphore or process left behind), a Dask client is
    closed, what finished is kept (an experiment resumes when rerun); `finish` then ends the
    process by SIGTERM, so whoever sent it sees the usual death by that signal (exit status 143
    in a shell)."""


_terminated = False  # a SIGTERM came: the process ends by SIGTERM (`_end`)
_command_done = False  # the command has returned: a SIGTERM now only ends the process


def _on_sigterm(signum: int, frame: object) -> None:
    """The first SIGTERM: later ones are ignored while the command unwinds (coreutils' `timeout`
    signals the process, then at once its whole group, so the second comes microseconds after
    the first and used to kill the process mid-cleanup), and the process ends at most
    `INTERRUPTED_EXIT_GRACE` seconds from now whatever the unwinding does."""
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    watchdog = threading.Timer(INTERRUPTED_EXIT_GRACE, _end, (EXIT_INTERRUPTED,))
    watchdog.daemon = True
    watchdog.start()
    if not _command_done:
        raise Terminated


def stop_on_sigterm() -> None:
    """Let SIGTERM stop this program as Ctrl-C does (`Terminated`), unless it is ignored. For the
    program only (`console`, a served command): in a notebook or a test `main` leaves SIGTERM as
    it is. A process forked from the program that must not unwind as the command (the warm
    server, a chart painter) calls `plain_sigterm` first."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, _on_sigterm)


def command_done() -> None:
    """The command has returned (or unwound): a SIGTERM from now on ends the process by SIGTERM
    once `finish` is done, without raising `Terminated` into the exit."""
    global _command_done
    _command_done = True


def plain_sigterm() -> None:
    """SIGTERM's default action again where `stop_on_sigterm` installed its handler: for a command
    whose own server stops gracefully on SIGTERM and then raises it again (the dashboard's web
    server), and for a process forked from the program (the warm server, a chart painter)."""
    if signal.getsignal(signal.SIGTERM) is _on_sigterm:  # (installed: this is the main thread)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, one-line help and the ``module:function`` that registers it."""

    name: str
    help: str
    register: str


COMMANDS: tuple[Command, ...] = (
    Command("validate", "check scenario files and report every problem", "sim.cli:add_validate_parser"),
    Command("run", "run scenarios and write data, summary and charts to a folder", "sim.cli.run:add_run_parser"),
    Command("compare", "compare scenarios with common random numbers and paired intervals", "sim.cli.experiments:add_parsers"),
    Command("sweep", "run an experiment file: a grid or Latin hypercube over levers and worlds", "sim.cli.experiments:add_parsers"),
    Command("report", "write the executive report (HTML, optionally PDF) of a results folder", "sim.cli.report:add_report_parser"),
    Command("calibrate", "fit parameters to published figures, with a posterior", "sim.cli.calibration:add_parsers"),
    Command("sensitivity", "Sobol or Morris sensitivity of outputs to uncertain parameters", "sim.cli.calibration:add_parsers"),
    Command("warmup", "check a scenario's warm-up length with the MSER-5 diagnostic", "sim.cli.warmup:add_warmup_parser"),
    Command("evidence", "print the model's emergent figures next to the published ones", "sim.cli.evidence:add_evidence_parser"),
    Command("schema", "print the JSON Schema of scenario files (for editors)", "sim.cli:add_schema_parser"),
    Command("params", "print the parameter tables of docs/PARAMETERS.md", "sim.cli:add_params_parser"),
    Command("dashboard", "an interactive dashboard: move a lever, see the market answer", "sim.cli.dashboard:add_dashboard_parser"),
    Command("serve", "keep the program loaded in the background so later commands start warm", "sim.cli.server:add_serve_parser"),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------
def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``omnitrust`` parser, with ``command``'s real parser (others as placeholders)."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Simulate consumers' trust in brands across an omnichannel market and "
        "compare data-use and security policies.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(handler=None)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for cmd in COMMANDS:
        if cmd.name == command:
            _register(cmd, subparsers)
    from .options import one_line_errors

    for p in (parser, *subparsers.choices.values()):  # every usage error: one line, exit 2
        one_line_errors(p)
    for cmd in COMMANDS:
        if cmd.name not in subparsers.choices:  # (a registrar may add several commands)
            subparsers.add_parser(cmd.name, help=cmd.help, add_help=False)
    parser.command_parsers = dict(subparsers.choices)  # main: a command's own errors
    return parser


def _register(cmd: Command, subparsers: argparse._SubParsersAction) -> None:
    """Import ``cmd``'s registrar and let it add its parser; if its module is missing, a parser
    that says so when run."""
    module, function = cmd.register.split(":")
    try:
        register = getattr(importlib.import_module(module), function)
    except ImportError as exc:
        p = subparsers.add_parser(cmd.name, help=cmd.help)
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        p.set_defaults(handler=_unavailable(cmd.name, exc))
        return
    register(subparsers)


def _unavailable(name: str, exc: ImportError):
    def handler(args: argparse.Namespace) -> int:
        raise UserError(f"'{name}' is not available in this installation ({exc})")

    return handler


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line: the first argument that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``omnitrust`` command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(argv))
    timing.mark("imports")
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the command's own parser ("omnitrust run: error: ..."), not the top
            owner = parser.command_parsers.get(getattr(args, "command", None), parser)
            owner.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    if args.handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    from .options import threads_of_one_command

    try:
        # --workers (run, compare, sweep, calibrate, sensitivity) named as the option, before
        # anything runs; make_map's own check names the Python keyword
        workers = getattr(args, "workers", None)
        if workers is not None and workers < 1:
            raise UserError(f"--workers must be at least 1, got {workers}")
        with threads_of_one_command():  # --threads and its default: for this command only
            return int(args.handler(args) or EXIT_OK)
    except UserError as exc:
        sys.stdout.flush()
        print(_error_text(exc, args.command), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as exc:
        sys.stdout.flush()
        kept = getattr(args, "kept_on_interrupt", None)  # what a resumable command keeps
        print(f"\n{stop_words(exc)}" + (f"; {kept}" if kept else ""), file=sys.stderr)
        return EXIT_INTERRUPTED


def stop_words(exc: BaseException) -> str:
    """How a command stopped by ``exc`` (a `KeyboardInterrupt`) says so."""
    return "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"


def console() -> NoReturn:
    """The ``omnitrust`` program (``[project.scripts]`` and ``python -m sim``): `main`, then a quick
    exit.

    When the command has finished, every file it wrote is closed (atomic writes) and stdout and
    stderr are flushed here; the exit handlers registered with `atexit` run (multiprocessing,
    logging, timings). The model's block threads (`sim.core.blocks`, idle once the command is
    done) are stopped first. When no thread is left that the interpreter would wait for, `os._exit`
    then skips the interpreter's teardown of every module and object, which after a run costs
    0.1-0.5 s (freeing Numba's compiled code, LLVM, pandas and pyarrow state) and changes nothing
    outside the process. Call `main` instead to stay in Python
    (tests, a notebook); a bug's exception ends the process the usual way, with its traceback.

    First, when a warm server of this environment runs (``omnitrust serve``), the command is
    handed to it and this process only waits for its exit code (`sim.cli.server.delegate`).

    Unless set, ``OPENBLAS_NUM_THREADS`` is 1 for the program and the processes it starts: the
    package does no linear algebra on arrays large enough for OpenBLAS to use threads (its
    parallel work is the model's block threads and worker processes), and NumPy's OpenBLAS
    otherwise starts a thread per core when NumPy is imported (~0.04 s of CPU on every command,
    issue 14). And a command may keep the garbage collector off the modules it loads
    (`sim.core.startup.loading`): the program's objects are its own, unlike a notebook's.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .server import delegate

    served = delegate(sys.argv[1:])  # a warm server of this environment runs it (`serve`)
    if served is not None:
        _flush_standard_streams()
        os._exit(served)
    startup.as_program()  # a command may keep the collector off what it loads (sim.core.startup)
    stop_on_sigterm()
    try:
        code = main()
        command_done()
    except Terminated:  # (outside `main`'s own handling: parsing the arguments, its return)
        command_done()
        code = EXIT_INTERRUPTED
    finish(code)


def finish(code: int, *, in_place: bool = False) -> NoReturn:
    """End the program with exit code ``code`` once the command is done (see `console`).
    ``in_place``: wait for the threads the interpreter would wait for here, instead of leaving
    by `sys.exit` (a child of the warm server, `sim.cli.server`, whose stack is the server's)."""
    command_done()  # (a SIGTERM from here on: the process ends by it once this is done)
    if code == EXIT_INTERRUPTED:
        # Ctrl-C: what finished is on disk (atomic writes), so nothing below may keep the user
        # waiting. A pool cancelled mid-task has been seen, rarely and under load, to leave the
        # exit hanging (a queue's feeder thread or the pool's manager thread joined at exit):
        # whatever the cause, the process ends at most INTERRUPTED_EXIT_GRACE seconds from here.
        watchdog = threading.Timer(INTERRUPTED_EXIT_GRACE, _end, (code,))
        watchdog.daemon = True
        watchdog.start()
    blocks = sys.modules.get("sim.core.blocks")
    if blocks is not None:
        blocks.shutdown()  # the model's idle threads: not a reason for the slow exit below
    waited = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if waited and not in_place and not _terminated:  # a thread the interpreter would wait for
        sys.exit(code)  # (a Dask client?): the usual exit
    for thread in waited:  # (stopped by SIGTERM: a cancelled pool's manager thread, still
        # ending, is waited for here, under the watchdog, so the process ends by SIGTERM after)
        thread.join()
    _flush_standard_streams()
    atexit._run_exitfuncs()
    _end(code)


def _end(code: int) -> NoReturn:
    """Leave now with ``code``, or by SIGTERM if one came (`Terminated`). From the watchdog's
    thread (the exit took too long), without flushing (the main thread may hold a stream's lock,
    blocked on a full pipe) and with a shell's status of a death by SIGTERM, 143 (only the main
    thread can restore SIGTERM's default action)."""
    main_thread = threading.current_thread() is threading.main_thread()
    if _terminated:
        if not main_thread:
            os._exit(128 + signal.SIGTERM)
        _flush_standard_streams()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        os.kill(os.getpid(), signal.SIGTERM)
    os._exit(code)


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (omnitrust ... | head)
            stream.flush()


def _error_text(exc: UserError, command: str) -> str:
    """A scenario error as is (each line names its file); anything else after the command."""
    if isinstance(exc, ScenarioError):
        return str(exc)
    lines = str(exc).splitlines() or [type(exc).__name__]
    return "\n".join([f"{PROG} {command}: error: {lines[0]}", *lines[1:]])


def _write_or_print(text: str, out: Path | None) -> None:
    """Write ``text`` to ``out`` (creating its folder), or print it when ``out`` is None."""
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    print(f"wrote {out}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# omnitrust validate
# ---------------------------------------------------------------------------------------------
def add_validate_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``omnitrust validate``."""
    from .options import SCENARIOS_HELP

    p = subparsers.add_parser(
        "validate",
        help="check scenario files and report every problem",
        description="Read each scenario file (with its `extends` chain), validate it and report "
        "every problem in one pass, one line each: file, field, value and what is allowed. Rules "
        "across keys (an event's day within the horizon, the brand it names, unique brand names, "
        "segment shares that sum to 1) are checked beside the fields they read; a value that is "
        "itself bad is reported once, as itself. A file that cannot be read (TOML syntax, a "
        "missing or circular `extends`, an experiment or calibration file) gets that one line. "
        "Exit code 2 if any file is bad.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help=SCENARIOS_HELP)
    p.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    """``omnitrust validate``: one ``ok`` line per good file, the errors of each bad one."""
    from ..scenario.loading import load_scenario

    bad = 0
    for path in args.files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            sys.stdout.flush()
            print(exc, file=sys.stderr)
            continue
        print(
            f"ok  {path}  ({scenario.name}, {scenario.content_hash()[:12]}, "
            f"{len(scenario.brands)} brands)"
        )
    if bad:
        print(f"{bad} of {len(args.files)} file(s) have problems", file=sys.stderr)
    return EXIT_USER_ERROR if bad else EXIT_OK


# ---------------------------------------------------------------------------------------------
# omnitrust schema
# ---------------------------------------------------------------------------------------------
def add_schema_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``omnitrust schema``."""
    p = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of scenario files (for editors)",
        description="The JSON Schema (draft 2020-12) of scenario files, for editor completion "
        "and checking (taplo, Even Better TOML: `#:schema ./scenario.schema.json`).",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    """``omnitrust schema``: print or write the scenario JSON Schema."""
    from ..scenario.loading import scenario_json_schema

    _write_or_print(json.dumps(scenario_json_schema(), indent=2) + "\n", args.out)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# omnitrust params
# ---------------------------------------------------------------------------------------------
def add_params_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``omnitrust params``."""
    p = subparsers.add_parser(
        "params",
        help="print the parameter tables of docs/PARAMETERS.md",
        description="Markdown tables of every scenario parameter (key, default, unit, range, "
        "source), generated from the schema.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    where.add_argument(
        "--update",
        type=Path,
        metavar="FILE",
        help="replace the generated part of FILE (e.g. docs/PARAMETERS.md) between its markers",
    )
    p.set_defaults(handler=cmd_params)


def cmd_params(args: argparse.Namespace) -> int:
    """``omnitrust params``: print, write, or update in place the parameter tables."""
    from ..scenario import paramdoc

    if args.update is None:
        _write_or_print(paramdoc.parameters_markdown(), args.out)
        return EXIT_OK
    try:
        text = args.update.read_text()
    except OSError as exc:
        raise UserError(f"cannot read {args.update}: {exc.strerror}") from None
    if paramdoc.BEGIN not in text or paramdoc.END not in text:
        raise UserError(
            f"{args.update}: no generated part to update; add the lines {paramdoc.BEGIN} "
            f"and {paramdoc.END} where the tables go"
        )
    _write_or_print(paramdoc.replace_generated(text), args.update)
    return EXIT_OK
