"""`wsrelay loadtest` and `wsrelay loadtest-merge` on the command-line convention: a bad flag or
a mistyped prefix exits 2; ``--max-p99-ms`` is judged the same by both; ``--json -`` puts the
report alone on stdout; a bad ``--plot`` or a missing output folder is refused before any work;
Ctrl-C during a run exits 130 without a traceback, with one generator process or several;
``--config`` sets the same settings as the flags (flags win). (Unreachable endpoints, exit 3:
tests/test_loadtest.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from cli_support import cli
from waiting import wait_until

from wsrelay.tools.loadtest.histograms import Latency

URL = "ws://127.0.0.1:9/local"


def wsrelay(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "wsrelay.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "argv",
    [
        ["loadtest", URL, "--no-such-flag"],
        ["loadtest", URL, "--rate"],  # no value
        ["loadtest", URL, "--dur", "5"],  # a prefix of --duration-s: no abbreviations
        ["loadtest", URL, "--duration", "5"],  # the old name
        ["loadtest", URL, "--grace", "5"],
        ["loadtest", URL, "--max-p99", "5"],
        ["loadtest-merge", "a.json", "--no-such-flag"],
        ["loadtest-merge", "a.json", "--max-p99", "5"],  # a prefix of --max-p99-ms
        ["loadtest-merge", "a.json", "--js", "out.json"],  # a prefix of --json
        ["loadtest-merge"],  # no report
    ],
)
def test_a_bad_flag_or_a_mistyped_prefix_exits_2_with_one_line(argv):
    code, out, err = cli(*argv)
    assert code == 2, err
    assert out == "" and len(err.splitlines()) == 1 and err.startswith(f"wsrelay {argv[0]}: error: ")


@pytest.mark.parametrize("value", ["-1", "0", "inf", "nan", "soon"])
def test_max_p99_ms_is_judged_the_same_by_both(value):
    load = cli("loadtest", URL, "--max-p99-ms", value)
    merge = cli("loadtest-merge", "a.json", "--max-p99-ms", value)
    assert load[0] == merge[0] == 2
    assert load[2].removeprefix("wsrelay loadtest: ") == merge[2].removeprefix("wsrelay loadtest-merge: ")
    assert "--max-p99-ms" in load[2]


@pytest.mark.processes
def test_json_to_stdout_is_the_report_alone_and_merges(served, tmp_path):
    server = served("--quiet")
    config = tmp_path / "load.toml"
    config.write_text('rate = 20\nduration_s = 30\nprogress = "on"\nworkers = 2\n')
    # The flags win over the file: half a second, no progress bar.
    done = wsrelay(
        "loadtest", server.websocket, "--config", str(config), "--duration-s", "0.5", "--progress", "off",
        "--json", "-",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # nothing else on stdout
    assert (report["rate"], report["duration_s"], report["workers"]) == (20.0, 0.5, 2)
    assert report["sent"] == report["acked"] == 10
    assert "publish -> deliver" in done.stderr and "PASSED" in done.stderr  # the tables: stderr
    assert "wrote" not in done.stderr

    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    paths[0].write_text(done.stdout)
    twin = {**report, "runs": [{**report["runs"][0], "id": "twin"}]}  # another run just like it
    paths[1].write_text(json.dumps(twin))
    refused = wsrelay("loadtest-merge", str(paths[0]), str(paths[0]), "--json", "-")
    assert refused.returncode == 2 and "the same run twice" in refused.stderr
    merged = wsrelay("loadtest-merge", *map(str, paths), "--json", "-")
    assert merged.returncode == 0, merged.stderr
    whole = json.loads(merged.stdout)
    assert whole["sent"] == 20 and Latency.decode(whole["histograms"]["deliver"]).count == 20
    assert "publish -> deliver" in merged.stderr and "PASSED" in merged.stderr


@pytest.mark.parametrize(
    ("flag", "name", "problem"),
    [
        ("--plot", "load.txt", "expected a FILE.png"),
        ("--plot", "noext", "expected a FILE.png"),
        ("--plot", "missing/load.png", "does not exist"),
        ("--json", "missing/load.json", "does not exist"),
        ("--json", ".", "is a folder"),
    ],
)
@pytest.mark.processes
def test_a_bad_output_is_refused_before_any_work(served, tmp_path, flag, name, problem):
    server = served("--quiet")
    out = tmp_path / "out"
    out.mkdir()
    opened = server.stats()["connections"]["opened"]
    started = time.monotonic()
    code, stdout, err = cli("loadtest", server.websocket, "--duration-s", "30", flag, str(out / name))
    assert code == 2 and stdout == "" and len(err.splitlines()) == 1
    assert err.startswith(f"wsrelay loadtest: error: {flag} ") and problem in err
    assert time.monotonic() - started < 5  # not after a 30 s load
    assert server.stats()["connections"]["opened"] == opened  # not one connection
    # loadtest-merge checks its outputs before it reads a report (these do not exist).
    code, stdout, err = cli("loadtest-merge", str(out / "a.json"), flag, str(out / name))
    assert code == 2 and err.startswith(f"wsrelay loadtest-merge: error: {flag} ") and problem in err
    assert list(out.iterdir()) == []  # no folder created, nothing written


@pytest.mark.parametrize("processes", ["1", "2"])
@pytest.mark.processes
def test_ctrl_c_during_a_run_exits_130_without_a_traceback(served, processes):
    """SIGINT to the whole process group, as a terminal sends it: the generator processes too."""
    server = served("--quiet")
    before = server.invocations()
    command = [sys.executable, "-m", "wsrelay.cli", "loadtest", server.websocket, "--rate", "20"]
    command += ["--duration-s", "120", "--processes", processes, "--progress", "off"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            # Running: every connection open (4 routers, 16 workers), jobs flowing.
            wait_until(
                lambda: server.stats()["connections"]["open"] >= 20 and server.invocations() >= before + 10,
                timeout=60,
                what="the load test's connections and first jobs",
            )
            os.killpg(proc.pid, signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err == "wsrelay loadtest: interrupted\n" and out == ""
    # No generator is left behind: every connection closes.
    wait_until(lambda: server.stats()["connections"]["open"] == 0, timeout=30, what="connections closed")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("duration_s = -1\n", "duration_s must be a positive finite number, got -1"),
        ("duration = 5\n", "unknown key 'duration'"),
        ("rate = 5\npairs = 2\n", "--rate and --pairs: give one"),
        ('arrivals = "bursty"\n', "arrivals must be one of uniform, poisson"),
        ('rate = "fast"\n', "rate: expected a number"),
        ('url = "ws://x/y"\n', "unknown key 'url'"),
    ],
)
def test_a_bad_config_file_exits_2_naming_the_key(content, problem, tmp_path):
    config = tmp_path / "load.toml"
    config.write_text(content)
    code, out, err = cli("loadtest", URL, "--config", str(config))
    assert code == 2 and out == "" and problem in err and len(err.splitlines()) == 1
