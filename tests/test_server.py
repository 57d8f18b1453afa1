"""The warm server (``omnitrust serve``, `sim.cli.server`): a real server process started by the
tests, commands sent to it by the real ``omnitrust`` program.

What a served command must do is what the same command does on its own, so every expected value
here is that command run without the server (``OMNITRUST_SERVER=off``): the same files, the same
output, the same exit code, the same handling of bad input and Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim.cli import server

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the server needs Linux"
)

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
SMALL = ["--replications", "1", "--consumers", "2000", "--days", "30", "--workers", "1"]


def _omnitrust(env: dict, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=900, **kw,
    )  # fmt: skip


def _status(env: dict) -> str:
    return _omnitrust(env, "serve", "--status").stdout


def _served(env: dict) -> int:
    """Commands the server has run so far (from ``serve --status``)."""
    text = _status(env)
    assert "commands served" in text, text
    return int(text.split(", ")[1].split()[0])


def _wait_for(env: dict, text: str, what: str, seconds: float = 60.0) -> None:
    """Poll ``serve --status`` until it says ``text``."""
    deadline = time.monotonic() + seconds
    while text not in _status(env):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _long_run(env: dict, out: Path, replications: int = 8, **popen) -> subprocess.Popen:
    """A served run of ~1 s per replication, once the server runs it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", BASELINE, "--replications", str(replications),
         "--consumers", "20000", "--workers", "1", "--out", str(out)],
        env=env, cwd=ROOT, **popen,
    )  # fmt: skip
    _wait_for(env, "1 running", "the command never started in the server")
    return proc


@pytest.fixture
def own_env():
    """An environment with a socket folder of its own (no server yet); its server, if any, is
    stopped at the end."""
    short = Path(tempfile.mkdtemp(prefix="ots-"))  # (a Unix socket's path is at most ~100 bytes)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(short)}
    env.pop(server.ENV, None)
    yield env
    _omnitrust(env, "serve", "--stop")
    shutil.rmtree(short, ignore_errors=True)


@pytest.fixture(scope="module")
def served_env():
    """A server of its own (its socket folder a short temporary one), in an environment with a
    folder on PYTHONPATH that a test may change; stopped at the end."""
    short = Path(tempfile.mkdtemp(prefix="ots-"))  # (a Unix socket's path is at most ~100 bytes)
    extra = short / "on_path"
    extra.mkdir()
    env = dict(os.environ)
    env.pop(server.ENV, None)
    env["XDG_RUNTIME_DIR"] = str(short)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(extra), *filter(None, [env.get("PYTHONPATH")])]
    )
    started = _omnitrust(env, "serve", "--idle", "20")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "ready: omnitrust server pid" in started.stdout
    yield env, extra
    _omnitrust(env, "serve", "--stop")
    shutil.rmtree(short, ignore_errors=True)


def test_a_served_run_writes_what_the_same_run_writes_on_its_own(served_env, tmp_path):
    env, _ = served_env
    before = _served(env)
    warm = _omnitrust(env, "run", BASELINE, *SMALL, "--out", str(tmp_path / "warm"))
    assert warm.returncode == 0, warm.stderr
    assert _served(env) == before + 1, "the server did not run the command"
    alone = _omnitrust(
        {**env, server.ENV: "off"}, "run", BASELINE, *SMALL, "--out", str(tmp_path / "alone")
    )
    assert alone.returncode == 0, alone.stderr
    assert _served(env) == before + 1, "OMNITRUST_SERVER=off was served"

    a, b = tmp_path / "warm", tmp_path / "alone"
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for name in ("summary.csv", "trust.png", "revenue.png", "consent.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert pq.read_table(a / "timeseries.parquet").equals(pq.read_table(b / "timeseries.parquet"))
    assert warm.stdout.replace(str(a), "OUT") == alone.stdout.replace(str(b), "OUT")


def test_bad_input_through_the_server_is_reported_to_the_caller_with_exit_2(served_env, tmp_path):
    env, _ = served_env
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASELINE}"\n[simulation]\nconsumers = -5\n')
    before = _served(env)
    warm = _omnitrust(env, "run", str(bad), "--out", str(tmp_path / "o"))
    alone = _omnitrust({**env, server.ENV: "off"}, "run", str(bad), "--out", str(tmp_path / "o"))
    assert _served(env) == before + 1
    assert warm.returncode == alone.returncode == 2
    assert warm.stderr == alone.stderr  # the caller's own stderr: the file, field and value
    assert "bad.toml" in warm.stderr and "consumers" in warm.stderr and "-5" in warm.stderr
    assert "Traceback" not in warm.stderr
    assert not (tmp_path / "o").exists()


def test_ctrl_c_reaches_the_served_command_which_exits_130(served_env, tmp_path):
    env, _ = served_env
    out = tmp_path / "interrupted"
    proc = _long_run(env, out, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)  # the caller only, as a terminal's Ctrl-C would
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert "0 running" in _status(env)


def test_a_killed_caller_gets_its_command_stopped(served_env, tmp_path):
    env, _ = served_env
    proc = _long_run(env, tmp_path / "o", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.kill()
    proc.wait()
    _wait_for(env, "0 running", "the orphaned command is still running")
    assert not (tmp_path / "o" / "summary.csv").exists()


def test_another_environment_runs_on_its_own(served_env):
    env, _ = served_env
    before = _served(env)
    other = _omnitrust({**env, "OMNITRUST_SOME_SETTING": "1"}, "validate", BASELINE)
    assert other.returncode == 0, other.stderr
    assert _served(env) == before
    # the shell's own bookkeeping (server.VOLATILE) does not make another environment
    same = _omnitrust({**env, "SHLVL": "7", "_": "/bin/x"}, "validate", BASELINE)
    assert same.returncode == 0, same.stderr
    assert _served(env) == before + 1


def test_a_caller_gone_before_the_answer_neither_ends_the_server_nor_leaves_its_command(
    served_env, tmp_path
):
    """A caller that sends its command and leaves at once (Ctrl-C, a timeout): the server stops
    the command it forked for it and keeps serving."""
    env, _ = served_env
    before = _served(env)
    out = tmp_path / "o"
    request = {
        "argv": ["omnitrust", "run", BASELINE, "--replications", "8", "--consumers", "20000",
                 "--workers", "1", "--out", str(out)],
        "cwd": str(ROOT), "umask": 0o022,
        "env": {"OPENBLAS_NUM_THREADS": "1", **env},  # (as `omnitrust` sets it, sim.cli.console)
    }  # fmt: skip
    path = _status(env).rsplit("socket ", 1)[1].strip()
    with open(os.devnull, "rb") as null_in, open(os.devnull, "wb") as null_out:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        server._write(sock, request, (null_in.fileno(), null_out.fileno(), null_out.fileno()))
        sock.close()
    deadline = time.monotonic() + 60
    while _served(env) != before + 1 or "0 running" not in _status(env):
        assert time.monotonic() < deadline, _status(env)
        time.sleep(0.2)
    assert not (out / "summary.csv").exists()
    ok = _omnitrust(env, "validate", BASELINE)
    assert ok.returncode == 0 and _served(env) == before + 2, ok.stderr


def test_a_command_ended_by_a_signal_ends_its_caller_by_the_same_signal(served_env, tmp_path):
    """SIGTERM to the caller: the command (a Python process, SIGTERM's default action) ends by
    it, and so does the caller, as the command on its own would (returncode -SIGTERM)."""
    env, _ = served_env
    proc = _long_run(env, tmp_path / "o", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.terminate()
    assert proc.wait(timeout=60) == -signal.SIGTERM
    assert "0 running" in _status(env)


def test_a_signal_the_caller_ignores_is_ignored_by_its_command(served_env, tmp_path):
    """`nohup omnitrust run ...` then a hang-up: the command goes on, as it would on its own
    (it inherits SIGHUP ignored)."""
    env, _ = served_env
    ignore_hangup = lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)  # noqa: E731
    proc = _long_run(env, tmp_path / "o", 2, preexec_fn=ignore_hangup, stderr=subprocess.PIPE)
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert (tmp_path / "o" / "summary.csv").exists()


def test_the_package_changed_since_loading_stops_the_server(served_env, tmp_path):
    """Runs last in this module: the server ends. A folder on sys.path changed (what installing
    a package does) or a source file of the package: the server is out of date."""
    env, extra = served_env
    (extra / "results").mkdir()  # a folder's other files (a project's results) do not count
    assert _omnitrust(env, "validate", BASELINE).stderr == ""
    (extra / "newly_installed-1.0.dist-info").mkdir()  # what `pip install` adds
    result = _omnitrust(env, "validate", BASELINE)
    assert result.returncode == 0, result.stderr  # run on its own
    assert "out of date" in result.stderr
    _wait_for(env, "no omnitrust server", "the out-of-date server did not stop", 30)


def test_every_source_file_of_the_package_is_watched():
    watched = set(server._stamps())
    package = ROOT / "sim"
    sources = {str(p) for p in package.rglob("*.py")}
    assert sources and sources <= watched


def test_an_idle_server_ends_itself(own_env):
    started = _omnitrust(own_env, "serve", "--idle", "0.02")  # 1.2 s
    assert started.returncode == 0, started.stdout + started.stderr
    _wait_for(own_env, "no omnitrust server", "the idle server did not end", 30)
    folder = Path(own_env["XDG_RUNTIME_DIR"])
    assert not any(folder.rglob("*.sock"))


def test_stop_takes_no_more_commands_at_once_and_the_running_one_still_gets_its_status(
    own_env, tmp_path
):
    """`serve --stop` while a command runs, then `serve` again at once (two at the same time):
    one new server runs, and the first command's caller still gets exit code 0."""
    env = own_env
    assert _omnitrust(env, "serve").returncode == 0
    first = _status(env).split(",")[0]
    proc = _long_run(env, tmp_path / "o", 3, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stopped = _omnitrust(env, "serve", "--stop")
    assert "it ends when its 1 running command(s) end" in stopped.stdout
    two = [subprocess.Popen([sys.executable, "-m", "sim", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    said = [p.communicate(timeout=900)[0] for p in two]
    assert [p.returncode for p in two] == [0, 0], said
    assert sum("ready:" in t for t in said) == 1, said
    assert _status(env).split(",")[0] != first
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert (tmp_path / "o" / "summary.csv").exists()


def test_sigterm_to_the_server_lets_the_running_command_finish_for_its_caller(own_env, tmp_path):
    env = own_env
    assert _omnitrust(env, "serve").returncode == 0
    pid = int(_status(env).split("pid ")[1].split(",")[0])
    proc = _long_run(env, tmp_path / "o", 2, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.kill(pid, signal.SIGTERM)
    _wait_for(env, "no omnitrust server", "the server still takes commands", 30)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert (tmp_path / "o" / "summary.csv").exists()


@pytest.mark.parametrize("value", ["-1", "soon", "nan"])
def test_a_bad_idle_time_is_a_usage_error(value):
    result = _omnitrust(dict(os.environ), "serve", "--idle", value)
    assert result.returncode == 2
    assert "--idle" in result.stderr and value in result.stderr and "Traceback" not in result.stderr
