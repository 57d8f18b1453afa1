"""``omnitrust serve``: keep the program loaded in the background, so later commands start warm.

A command's first ~0.7 s on this project's 2-core machine is loading, the same every time: Python
modules (pydantic's scenario schema, pandas, pyarrow, Numba, Mesa, the model: ~0.45 s), Numba's
compiled kernels from its cache (~0.2 s) and matplotlib in the chart painter (issue 14;
docs/PERFORMANCE.md, "A warm server"). ``omnitrust serve`` starts a server process that loads all
of that once, runs a small model so that the kernels of a run are loaded, and then waits on a
Unix socket. An ``omnitrust`` command started afterwards **in the same environment** (`delegate`)
does not load anything: it sends its arguments, working folder, environment, umask and its
standard input, output and error (the file descriptors themselves) to the server, which forks a
child for it. The child is the command: it runs `sim.cli.main` exactly as a fresh process would,
writes to the caller's terminal or pipes, and its exit status is the caller's (a command ended
by a signal ends the caller by the same signal). Ctrl-C (SIGINT), SIGTERM, SIGHUP and SIGQUIT
sent to the caller are passed on to the child's process group (the child, its painter and its
worker processes, as a terminal would; signals that come before the server has answered are
passed on once it has, and the child blocks them until it has its own group and a fresh
process's handlers); Ctrl-Z stops the child's group with the caller and ``fg`` resumes both; a
caller that goes away (killed outright, or gone before the server answered) gets its child
stopped by the server (SIGHUP), as closing a terminal would. Signals the caller ignores
(``nohup``, a script's background job) are neither passed on nor taken by the child, which
ignores them as it would have inherited them. Standard output and error are buffered as in a
fresh process (line-buffered on a terminal; unbuffered under ``-u``/``PYTHONUNBUFFERED``).

The numbers are the same: the child runs the same code on the same inputs; nothing a command
computes is kept by the server (it forks from the state it had after loading, never from a
command's). Loading runs one small model of the bundled baseline on one thread and then stops
the model's block threads: the server forks with no Python thread but its own (pyarrow's
allocator keeps a native background thread; jemalloc handles ``fork`` itself).

When the server is used, and when not:

* only by commands whose environment equals the server's (every variable but those in
  `VOLATILE`: a shell's or terminal's bookkeeping), from the same Python executable with the same
  options (``-O``, ``-X``, ``-W``, ``-u``: `interpreter_options`) and the same installed package:
  the socket's name is a hash of these (`socket_path`), so ``OMNITRUST_THREADS=1 omnitrust run
  ...`` in a shell whose server was started without it runs on its own;
* not when ``OMNITRUST_SERVER=off``, nor for ``omnitrust serve`` and ``omnitrust dashboard`` (a
  long-lived web server of its own), nor when the server does not answer within
  `ANSWER_TIMEOUT` (a stopped or overloaded server: the command runs on its own);
* not once the package's source files (``sim/**/*.py``) or the distributions installed on
  ``sys.path`` (their ``.dist-info``/``.egg-info`` and ``.pth`` files: an install, an upgrade, a
  removal) changed since the server started loading them: it answers that it is out of date,
  stops, and the command runs on its own (its kernels and modules are the files as they are now);
* the server takes no more commands after ``--idle`` minutes without one (counted from the end
  of the last; default `IDLE_MINUTES`), on ``omnitrust serve --stop`` or SIGTERM, or when another server
  takes its socket; it then removes its socket and lock at once (a new server may start) and
  ends when the commands it still runs have ended, their callers getting their exit status.
  One server per environment: a lock file held while it takes commands; two ``omnitrust
  serve`` at once start one server.

``omnitrust serve`` forks the server from itself (a daemon: a new session, output to a log
next to the socket), so the server has the starter's interpreter, options, ``sys.path`` and
package, hence the socket its commands look for; the starter waits until it listens.

Only the server's user can connect: the socket's folder is ``$XDG_RUNTIME_DIR/omnitrust`` or
``/tmp/omnitrust-<uid>``, mode 0700, and both sides check the other's user id. Linux only (it
needs ``fork``, file-descriptor passing and peer credentials); elsewhere ``serve`` says so and
commands run on their own.

This module's top level imports only what the caller needs to find and use a server (`delegate`
runs in every ``omnitrust`` command before anything else is loaded: ~4 ms when no server runs,
most of it importing `socket`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import struct
import sys

ENV = "OMNITRUST_SERVER"
"""``OMNITRUST_SERVER=off`` (or 0, no, false): commands never use a server."""
VOLATILE = frozenset({
    "_", "OLDPWD", "PWD", "SHLVL", "PS1", "PS2", "PROMPT_COMMAND", "COLUMNS", "LINES",
    "WINDOWID", "TMUX_PANE", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "TERM_SESSION_ID", ENV,
})  # fmt: skip
"""Variables that differ between shells, terminals or commands of one user and that nothing the
server loads reads: not part of the environment a server serves (the child still gets the
caller's values)."""
NOT_SERVED = frozenset({"serve", "dashboard"})
IDLE_MINUTES = 30.0
"""Minutes without a command after which the server ends itself (``--idle``; 0: never)."""
READY_TIMEOUT = 900.0
"""Seconds ``omnitrust serve`` waits for a new server to load (compiling the kernels after an
install or a change of the model takes a few minutes on 2 cores; loading them ~3 s)."""
ANSWER_TIMEOUT = 10.0
"""Seconds a command waits for a server to take it (connect and answer) before it runs on its
own (a server that is stopped, e.g. by Ctrl-Z on ``serve --foreground``, or overloaded)."""
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_BLOCKED_AT_FORK = {*_FORWARDED, signal.SIGTSTP, signal.SIGCHLD}
_MAX_LINE = 1 << 22
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the installed sim/


# ---------------------------------------------------------------------------------------------
# Where a server is: one socket per (executable, package, environment)
# ---------------------------------------------------------------------------------------------
def served_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) without the `VOLATILE` variables."""
    env = dict(os.environ if env is None else env)
    return {k: v for k, v in env.items() if k not in VOLATILE}


def socket_folder() -> str:
    """The folder of this user's server sockets (not created here)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        return os.path.join(runtime, "omnitrust")
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", f"omnitrust-{os.getuid()}")


def interpreter_options() -> list:
    """This interpreter's options (``-O``, ``-P``, ``-X dev``, ``-W error``, ``-u``, ...): a
    server (forked from ``omnitrust serve``, so with that command's options) serves only callers
    started with the same."""
    return [
        list(sys.flags),
        list(sys.warnoptions),
        sorted((str(k), str(v)) for k, v in sys._xoptions.items()),
        bool(getattr(sys.__stdout__, "write_through", False)),
    ]


def socket_path(env: dict[str, str] | None = None) -> str:
    """The socket of the server for this executable, its options, this package and ``env``."""
    text = json.dumps(
        [
            sys.executable,
            interpreter_options(),
            _PACKAGE,
            os.getuid(),
            sorted(served_environment(env).items()),
        ]
    )
    key = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    return os.path.join(socket_folder(), f"{key}.sock")


def _write(sock: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(message).encode() + b"\n"
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    if data:
        sock.sendall(data)


class _Lines:
    """Newline-ended JSON messages from a socket (file descriptors, if any, come with the first
    bytes)."""

    def __init__(self, sock: socket.socket):
        self.sock, self.buffer, self.fds = sock, b"", []

    def read(self, with_fds: bool = False) -> dict | None:
        while b"\n" not in self.buffer:
            if len(self.buffer) > _MAX_LINE:
                raise OSError("message too long")
            if with_fds and not self.fds:
                chunk, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 3)
                self.fds.extend(fds)
            else:
                chunk = self.sock.recv(1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)


def _peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end of a Unix socket (Linux: SO_PEERCRED)."""
    _, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return uid


def _ask(path: str, message: dict, timeout: float = 10.0) -> dict | None:
    """Send ``message`` to the server at ``path``; its answer, or None when none answers."""
    if not os.path.exists(path):
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            _write(sock, message)
            return _Lines(sock).read()
        except (OSError, ValueError):
            return None


# ---------------------------------------------------------------------------------------------
# The caller's side
# ---------------------------------------------------------------------------------------------
def delegate(argv: list[str]) -> int | None:
    """Run the command ``argv`` in this environment's server and return its exit code; None when
    no server runs it (none running, not this environment, out of date, off, or a command that is
    not served): the caller then runs it itself. A command the server's child ended by a signal
    ends this process by the same signal."""
    if os.environ.get(ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return None
    command = next((a for a in argv if not a.startswith("-")), None)
    if command is None or command in NOT_SERVED or not hasattr(socket, "SO_PEERCRED"):
        return None
    path = socket_path()
    try:
        folder = os.lstat(os.path.dirname(path))
    except OSError:
        return None
    if folder.st_uid != os.getuid() or folder.st_mode & 0o077:  # not this user's own folder
        return None
    if not os.path.exists(path):
        return None
    group = 0  # the child's process group, once the server has said which
    pending: list[int] = []  # signals that came before

    def forward(signum, frame):
        if group:
            _signal_group(group, signum)
        else:
            pending.append(signum)

    def suspend(signum, frame):  # Ctrl-Z: stop the command, then this process; on `fg`, resume
        if group:  # (SIGSTOP: a session of its own is an orphaned group, which ignores SIGTSTP)
            _signal_group(group, signal.SIGSTOP)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        signal.signal(signal.SIGTSTP, suspend)
        if group:
            _signal_group(group, signal.SIGCONT)

    # Signals this process ignores (nohup, a background job of a script) stay ignored: not
    # forwarded, and ignored by the command too, as it would inherit them.
    ignored = [
        int(n) for n in (*_FORWARDED, signal.SIGTSTP) if signal.getsignal(n) == signal.SIG_IGN
    ]
    previous = {n: signal.signal(n, forward) for n in _FORWARDED if n not in ignored}
    if signal.SIGTSTP not in ignored:
        previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, suspend)

    def on_its_own() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending:  # (as if they came now, to a process that runs the command)
            os.kill(os.getpid(), signum)

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(ANSWER_TIMEOUT)
    try:
        sock.connect(path)
        if _peer_uid(sock) != os.getuid():
            raise OSError("the server is another user's")
        mask = os.umask(0o022)
        os.umask(mask)
        request = {
            "argv": [sys.argv[0], *argv],
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "umask": mask,
            "ignored": ignored,
        }
        _write(sock, request, (0, 1, 2))
        lines = _Lines(sock)
        reply = lines.read()
    except TimeoutError:
        reply = {"not_served": f"the omnitrust server did not answer in {ANSWER_TIMEOUT:g} s"}
    except (OSError, ValueError):  # no server behind the socket, a closed stdin, a gone folder
        reply = None
    if reply is None or "pid" not in reply:
        sock.close()  # (a server that forked a child after all stops it: its caller is gone)
        if reply is not None and reply.get("not_served"):
            print(f"omnitrust: {reply['not_served']}; running without it", file=sys.stderr)
        on_its_own()
        return None
    group = int(reply["pid"])
    for signum in pending:
        _signal_group(group, signum)
    sock.settimeout(None)
    try:
        done = lines.read()
    except (OSError, ValueError):
        done = None
    sock.close()
    if done is None or "exit" not in done:
        print("omnitrust: the server went away before the command ended", file=sys.stderr)
        return 1
    code = int(done["exit"])
    if code < 0:  # the command was ended by signal -code: so is this process, as a shell sees it
        with contextlib.suppress(OSError, ValueError):
            signal.signal(-code, signal.SIG_DFL)
        with contextlib.suppress(ImportError, OSError, ValueError):  # (one core dump is enough)
            import resource

            resource.setrlimit(
                resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1])
            )
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


def _signal_group(group: int, signum: int) -> None:
    """Send ``signum`` to the process group ``group`` (the served command, its painter and
    workers), or to its leader alone if it has not made the group yet."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        with contextlib.suppress(OSError):
            os.kill(group, signum)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------
def add_serve_parser(subparsers):
    """Register ``omnitrust serve``."""
    p = subparsers.add_parser(
        "serve",
        help="keep the program loaded in the background so later commands start warm",
        description="Start a server that keeps omnitrust loaded (modules, compiled kernels, "
        "matplotlib), so that later omnitrust commands run from this shell's environment skip "
        "~0.7 s of loading. The numbers are the same. It serves only commands with the same "
        "environment, Python and package; it stops when the package's files change, after "
        "--idle minutes without a command, or with --stop. OMNITRUST_SERVER=off bypasses it. "
        "Linux only.",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--stop", action="store_true", help="stop this environment's server")
    what.add_argument("--status", action="store_true", help="say whether a server runs")
    p.add_argument(
        "--idle",
        type=_minutes,
        default=IDLE_MINUTES,
        metavar="MINUTES",
        help=f"end after this many minutes without a command (default {IDLE_MINUTES:g}; 0: never)",
    )
    p.add_argument(
        "--foreground",
        action="store_true",
        help="serve in this process until stopped (default: start a background server)",
    )
    p.set_defaults(handler=cmd_serve)
    return p


def _minutes(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"--idle must be a number of minutes >= 0, got {text!r}")
    return value


def cmd_serve(args) -> int:
    """``omnitrust serve``: start (in the background, or here), stop, or report the server."""
    from ..core.errors import UserError

    if not (hasattr(os, "fork") and hasattr(socket, "SO_PEERCRED")):
        raise UserError("the server needs Linux (fork, file-descriptor passing, peer credentials)")
    path = socket_path()
    if len(path.encode()) > 100:
        raise UserError(
            f"the server's socket path {path} is too long for a Unix socket (at most 100 "
            "bytes); set XDG_RUNTIME_DIR or TMPDIR to a shorter folder"
        )
    status = _ask(path, {"op": "status"})
    if args.status:
        if status is None:
            print("no omnitrust server runs for this environment")
            return 1
        print(_describe(status, path))
        return 0
    if args.stop:
        if status is None:
            print("no omnitrust server runs for this environment")
            return 0
        answer = _ask(path, {"op": "stop"}) or {}
        left = answer.get("running", 0)
        print(
            f"stopped the omnitrust server (pid {status['pid']}): it takes no more commands"
            + (f"; it ends when its {left} running command(s) end" if left else "")
        )
        return 0
    if status is not None:
        print("already running: " + _describe(status, path))
        return 0
    if args.foreground:
        return serve(path, idle_seconds=args.idle * 60.0)
    return _start_background(path, args.idle)


def _describe(status: dict, path: str) -> str:
    idle = status.get("idle_minutes", 0)
    ends = f"ends after {idle:g} minutes without a command" if idle else "runs until stopped"
    return (
        f"omnitrust server pid {status['pid']}, {status['served']} commands served, "
        f"{status['running']} running; {ends}; socket {path}"
    )


def _start_background(path: str, idle: float) -> int:
    """Start the server as a daemon forked from this process (so it has this interpreter's
    options, ``sys.path`` and package, hence the same socket as the commands that look for it),
    and wait until it says it is listening."""
    import select
    import time

    folder = _own_folder(os.path.dirname(path))
    log = os.path.join(folder, os.path.basename(path)[: -len(".sock")] + ".log")
    print("starting the omnitrust server (loading; the first start after an install or a model "
          "change compiles the kernels: a few minutes)...", flush=True)  # fmt: skip
    sys.stderr.flush()
    said_r, said_w = os.pipe()
    first = os.fork()
    if first == 0:  # a new session, and the server in a child of it (never a terminal's)
        try:
            os.close(said_r)
            os.setsid()
            if os.fork() == 0:
                _daemon(path, idle, said_w, log)
        finally:
            os._exit(0)
    os.close(said_w)
    os.waitpid(first, 0)
    said, deadline = b"", time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and said not in (b"ready", b"busy"):
        if select.select([said_r], [], [], 1.0)[0]:
            chunk = os.read(said_r, 16)
            if not chunk:  # it ended before saying it listens
                break
            said += chunk
    os.close(said_r)
    while said in (b"ready", b"busy") and time.monotonic() < deadline:
        status = _ask(path, {"op": "status"})  # (busy: another `serve` is starting one)
        if status is not None:
            print(
                ("ready: " if said == b"ready" else "already running: ") + _describe(status, path)
            )
            print("omnitrust commands run from this environment now start warm; "
                  "`omnitrust serve --stop` ends it")  # fmt: skip
            return 0
        time.sleep(0.1)
    with open(log, errors="replace") as f:
        tail = f.read()[-2000:]
    print(f"the omnitrust server did not start (log {log}):\n{tail}", file=sys.stderr)
    return 1


def _daemon(path: str, idle: float, said: int, log: str) -> None:
    """The background server: output to ``log``, then `serve`; tells the starter through the
    pipe ``said`` when it listens ("ready") or finds another server ("busy"). Never returns."""
    from . import plain_sigterm

    plain_sigterm()  # (forked from the program: a SIGTERM while loading ends it, as before)
    code = 1
    try:
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(null)
        os.chdir("/")  # (holds no folder; each command goes to its caller's)

        def tell(word: bytes) -> None:
            os.write(said, word)
            os.close(said)

        code = serve(path, idle_seconds=idle * 60.0, ready=tell)
    except BaseException:  # noqa: BLE001 - into the log; the starter reads it
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


def _own_folder(folder: str) -> str:
    """``folder``, created with mode 0700 if missing; it must be a real folder of this user's
    that no one else can write to."""
    from ..core.errors import UserError

    os.makedirs(folder, mode=0o700, exist_ok=True)
    st = os.lstat(folder)
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise UserError(
            f"{folder} must be a folder of this user's that only this user can use "
            "(mode 0700) to hold the server's socket"
        )
    return folder


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------
def _load() -> None:
    """Load what commands need: the modules of ``run``, ``compare`` and ``sweep``, Numba's
    set-up, matplotlib with a throw-away chart, and the kernels of a run (a 400-consumer
    baseline for 20 days on one thread)."""
    import gc
    import importlib

    from ..core.numba_start import quick_start

    quick_start()
    for module in (
        "sim.cli.run",
        "sim.cli.experiments",
        "sim.cli.report",
        "sim.scenario.loading",
        "sim.analysis.outputs",
        "sim.analysis.summary",
        "sim.analysis.stationarity",
        "sim.analysis.painters",
        "sim.analysis.charts",
        "sim.experiments",
        "sim.model",
    ):
        importlib.import_module(module)
    from ..analysis.painters import _warm_up
    from ..core import blocks
    from ..model import TrustModel
    from ..scenario.loading import bundled_scenarios, load_scenario

    _warm_up()
    baseline = bundled_scenarios()["baseline"]
    model = TrustModel(load_scenario(baseline, consumers=400, days=20), threads=1)
    while model.running:
        model.step()
    model.timeseries()
    del model
    blocks.shutdown()
    gc.collect()
    gc.freeze()  # the loaded modules: not scanned again by the children's collections


def _stamps() -> dict[str, tuple[int, int]]:
    """Modification stamps of the package's source files, and of what installing, upgrading or
    removing a distribution changes in the folders on ``sys.path`` (its ``.dist-info`` or
    ``.egg-info`` and ``.pth`` files; not the other files there, such as a project folder's
    results when that folder is on ``sys.path``)."""
    paths = [os.path.join(root, name)
             for root, dirs, files in os.walk(_PACKAGE)
             for name in files if name.endswith(".py")]  # fmt: skip
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        paths += [os.path.join(entry, n) for n in names
                  if n.endswith((".dist-info", ".egg-info", ".egg-link", ".pth"))]  # fmt: skip
    out = {}
    for p in sorted(set(paths)):
        try:
            st = os.stat(p)
        except OSError:
            continue
        out[p] = (st.st_mtime_ns, st.st_size)
    return out


def serve(path: str, idle_seconds: float, ready=None) -> int:
    """Load, then serve commands on ``path`` until stopped, out of date, replaced or idle for
    ``idle_seconds`` (0: never); once it takes no more commands, it ends when the commands it
    runs have ended (their callers wait for their exit status from it). ``ready(word)`` is called
    with b"ready" once it listens, or b"busy" when another server holds the lock."""
    import fcntl
    import selectors
    import threading
    import time
    import traceback

    folder = _own_folder(os.path.dirname(path))
    lock = os.open(path[: -len(".sock")] + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held for the server's life
    except BlockingIOError:
        print("another omnitrust server runs or is starting for this environment", flush=True)
        if ready is not None:
            ready(b"busy")
        return 0
    environment = served_environment()
    stamps = _stamps()  # before loading: a file edited while loading makes it out of date at once
    _load()
    if threading.active_count() != 1:
        print("omnitrust serve: threads are running after loading; not safe to fork", flush=True)
        return 1
    me = os.getpid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    temporary = os.path.join(folder, f".{me}.sock")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    listener.bind(temporary)
    listener.listen(16)
    os.replace(temporary, path)
    inode = os.stat(path).st_ino
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    terminated = False

    def on_sigterm(signum, frame):  # `kill <server>`: as `serve --stop` (handled in the loop)
        nonlocal terminated
        terminated = True

    signal.signal(signal.SIGTERM, on_sigterm)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    selector.register(wake_r, selectors.EVENT_READ, "wake")
    running: dict[int, socket.socket | None] = {}  # child -> its caller's connection
    served, listening, last = 0, True, time.monotonic()
    print(f"omnitrust server pid {me} ready on {path}", flush=True)
    if ready is not None:
        ready(b"ready")

    def stop_listening() -> None:
        """Take no more commands: the socket goes (a new server may start at once)."""
        nonlocal listening
        if not listening:
            return
        listening = False
        selector.unregister(listener)
        listener.close()
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        os.close(lock)  # (the lock goes too: a new server may start while these commands run)

    def forget(pid: int) -> socket.socket | None:
        conn = running.get(pid)
        if conn is not None:
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(conn)
            running[pid] = None
        return conn

    def reap() -> None:
        nonlocal last
        while running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = forget(pid)
            running.pop(pid, None)
            last = time.monotonic()  # (idle counts from the end of the last command)
            if conn is not None:
                with contextlib.suppress(OSError):
                    _write(conn, {"exit": os.waitstatus_to_exitcode(status)})
                conn.close()

    def caller_gone(pid: int) -> None:
        conn = forget(pid)
        if conn is not None:
            conn.close()
        _signal_group(pid, signal.SIGHUP)  # as closing its terminal would

    def handle(conn: socket.socket) -> None:
        nonlocal served, last
        conn.settimeout(2.0)  # (a caller sends its request as soon as it connects)
        lines = _Lines(conn)
        try:
            request = lines.read(with_fds=True) if _peer_uid(conn) == os.getuid() else None
        except (OSError, ValueError):
            request = None
        fds = lines.fds
        try:
            if not isinstance(request, dict):
                return
            if request.get("op") == "status":
                _write(conn, {"pid": me, "served": served, "running": len(running),
                              "idle_minutes": idle_seconds / 60.0})  # fmt: skip
                return
            if request.get("op") == "stop":
                stop_listening()
                _write(conn, {"stopping": True, "running": len(running)})
                return
            if len(fds) != 3 or served_environment(request.get("env", {})) != environment:
                _write(conn, {"not_served": "the omnitrust server has another environment"})
                return
            if _stamps() != stamps:
                stop_listening()
                _write(conn, {"not_served": "the omnitrust server is out of date (the package's "
                              "files changed since it started); it stops"})  # fmt: skip
                return
            sys.stdout.flush()
            sys.stderr.flush()
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED_AT_FORK)
            pid = os.fork()
            if pid == 0:
                _child(request, fds, mask, closing=(listener, selector, wake_r, wake_w, lock,
                                                    *filter(None, running.values()), conn))  # fmt: skip
            # (a command is only forked while listening, so the lock is still open here)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            running[pid] = None
            served += 1
            last = time.monotonic()
            try:
                _write(conn, {"pid": pid})
            except OSError:  # the caller left before it heard: its command stops
                _signal_group(pid, signal.SIGHUP)
                return
            conn.settimeout(None)
            selector.register(conn, selectors.EVENT_READ, pid)
            running[pid], conn = conn, None  # kept until its child ends
        finally:
            for fd in fds:
                os.close(fd)
            if conn is not None:
                conn.close()

    try:
        while listening or running:
            for key, _ in selector.select(timeout=1.0):
                try:
                    if key.data is None:
                        conn, _ = listener.accept()
                        handle(conn)
                    elif key.data == "wake":
                        with contextlib.suppress(BlockingIOError):
                            os.read(wake_r, 4096)
                    else:  # a caller's connection: it has nothing more to say, so it is gone
                        caller_gone(key.data)
                except Exception:  # noqa: BLE001 - one bad connection must not end the server
                    traceback.print_exc()
                    sys.stderr.flush()
            reap()
            if terminated:
                stop_listening()
            if listening:
                try:
                    replaced = os.stat(path).st_ino != inode
                except OSError:
                    replaced = True
                idle = idle_seconds > 0 and time.monotonic() - last > idle_seconds
                if replaced or (idle and not running):
                    stop_listening()
    finally:
        if os.getpid() == me:
            stop_listening()
            selector.close()
    print(f"omnitrust server pid {me} ended", flush=True)
    return 0


def _child(request: dict, fds: list[int], mask, closing: tuple) -> None:
    """The forked child: become the caller's command (its folder, environment, umask, standard
    streams and arguments), run it, and exit with its code. Never returns. Signals are blocked
    until it has its own process group and the handlers a fresh process has."""
    try:
        os.setsid()  # its own process group: the caller's signals reach it and its workers
        for thing in closing:
            if isinstance(thing, int):
                os.close(thing)
            else:
                thing.close()
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                       signal.SIGTSTP):  # fmt: skip
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from . import stop_on_sigterm

        stop_on_sigterm()  # as the program does (`sim.cli.console`)
        for signum in request.get("ignored", []):  # what the caller ignores (nohup)
            signal.signal(signum, signal.SIG_IGN)
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        _reopen_standard_streams()
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(int(request["umask"]))
        os.chdir(request["cwd"])
        sys.argv = [str(a) for a in request["argv"]]
        from ..core import timing

        timing.restart()
    except BaseException as exc:  # noqa: BLE001 - the caller must hear of it, then this exits
        try:
            os.write(2, f"omnitrust: the server could not start the command: {exc}\n".encode())
        finally:
            os._exit(1)
    from . import EXIT_INTERRUPTED, command_done, finish, main, stop_words

    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # (a Ctrl-C that came meanwhile: now)
        code = main(sys.argv[1:])
        command_done()
    except SystemExit as exc:  # as the interpreter reports it
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt as exc:
        command_done()
        print(f"\n{stop_words(exc)}", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except BaseException:  # a bug: its traceback, exit 1, as a fresh process would
        import traceback

        traceback.print_exc()
        code = 1
    finish(code, in_place=True)


def _reopen_standard_streams() -> None:
    """sys.stdin, stdout and stderr on the caller's descriptors, as Python opens them at start-up:
    stdout line-buffered on a terminal, stderr always, both unbuffered under ``-u`` or
    ``PYTHONUNBUFFERED`` (as the server's own, which the caller's match: `interpreter_options`);
    no newline translation."""
    import io

    encoding = sys.stdout.encoding if sys.stdout is not None else "utf-8"
    errors = sys.stdout.errors if sys.stdout is not None else "strict"
    unbuffered = bool(getattr(sys.__stdout__, "write_through", False))
    opened = []
    for fd, errs, line in (
        (0, errors, False),
        (1, errors, os.isatty(1)),
        (2, "backslashreplace", True),
    ):
        raw = io.FileIO(fd, "w" if fd else "r", closefd=False)
        if fd == 0:
            binary = io.BufferedReader(raw)
        else:
            binary = raw if unbuffered else io.BufferedWriter(raw)
        opened.append(io.TextIOWrapper(
            binary, encoding=encoding, errors=errs, newline="\n", line_buffering=line,
            write_through=unbuffered and fd > 0,
        ))  # fmt: skip
    sys.stdin, sys.stdout, sys.stderr = opened
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = opened
