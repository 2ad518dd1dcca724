"""`wsrelay serve` start-up failures: each one line naming what failed, exit status 3 (could not
run), nothing on stdout (scripts read the first stdout line for the endpoints)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
from gateway_support import TESTS

pytestmark = pytest.mark.processes


def serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wsrelay.cli", "serve", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "PYTHONPATH": str(TESTS)},
    )


def one_line_error(result: subprocess.CompletedProcess, *words: str, code: int = 3) -> str:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wsrelay serve: error: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


def test_port_in_use(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = serve("--port", str(port), "--state-dir", str(tmp_path))
    one_line_error(result, f"cannot listen on 127.0.0.1:{port}", "in use")


def test_a_host_that_does_not_resolve(tmp_path):
    result = serve("--host", "256.1.1.1", "--port", "0", "--state-dir", str(tmp_path))
    line = one_line_error(result, "cannot listen on 256.1.1.1:0")
    assert "while attempting" not in line and "Unknown error" not in line


def test_state_dir_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = serve("--port", "0", "--state-dir", str(blocker / "state"))
    one_line_error(result, "cannot create --state-dir")


def test_a_state_dir_whose_folder_is_missing_is_refused_not_created(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = serve("--port", "0", "--state-dir", str(missing / "state"))
    one_line_error(result, "cannot create --state-dir", "No such file")
    assert not missing.exists()


@pytest.mark.parametrize("runtime", ["inprocess", "lmi"])
def test_a_handler_that_fails_its_init(tmp_path, runtime):
    result = serve(
        "--port", "0", "--state-dir", str(tmp_path), "--runtime", runtime, "--route", "x=no_such_module.f"
    )
    one_line_error(result, f"the {runtime} runtime cannot start", "no_such_module")


def test_unknown_flag_and_bad_value_are_one_line(tmp_path):
    one_line_error(serve("--no-such-flag"), "unrecognized arguments: --no-such-flag", code=2)
    one_line_error(serve("--fault-seed", "x"), "--fault-seed", code=2)
    for flag in ("--log-max-mib", "--post-latency-ms", "--idle-timeout-s"):
        one_line_error(serve(flag, "inf"), flag, code=2)
        one_line_error(serve(flag, "-1"), f"{flag} must be a", code=2)


@pytest.mark.parametrize("runtime", ["inprocess", "lmi"])
def test_a_stop_signal_right_after_the_first_line_stops_cleanly(tmp_path, runtime):
    """Scripts read the first line and may signal at once: the handlers are in place by then."""
    for attempt in range(2):
        command = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--runtime", runtime]
        command += ["--state-dir", str(tmp_path / str(attempt))]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            first = proc.stdout.readline()
            if not first.startswith("wsrelay serve: websocket="):
                raise AssertionError(f"did not start: {first!r} {proc.communicate(timeout=60)}")
            proc.send_signal(signal.SIGTERM)  # at once
            out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "wsrelay serve: stopped" in out and "Traceback" not in err
