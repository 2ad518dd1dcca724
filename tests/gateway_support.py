"""Start `wsrelay serve` as a real child process on 127.0.0.1 and talk to it over sockets."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent


@dataclass
class Served:
    proc: subprocess.Popen
    websocket: str
    management: str
    stats_url: str
    state_dir: Path
    output: list[str] = field(default_factory=list)
    drain: threading.Thread | None = None

    def stats(self) -> dict:
        with urllib.request.urlopen(self.stats_url, timeout=5) as response:
            return json.loads(response.read())

    def invocations(self, route: str = "$default") -> int:
        """Completed invocations of `route` so far (0 before its first)."""
        return self.stats()["routes"].get(route, {}).get("invocations", 0)

    def handler_log(self) -> list[dict]:
        path = self.state_dir / "handlers.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        if self.drain is not None:
            self.drain.join(timeout)  # every line the process wrote is in `output`
        return code


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    """`wsrelay serve` with `args`; ``--publisher-ack router`` unless `args` name a mode (the
    tests written before the flag existed check today's behaviour, which is router mode)."""
    if not any(arg.startswith("--publisher-ack") for arg in args):
        args = ("--publisher-ack", "router", *args)
    state = tmp_path / "state"
    cmd = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--state-dir", str(state), *args]
    # The test handler modules come first; an existing PYTHONPATH (a checkout under test) stays.
    python_path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    child_env = {**os.environ, "PYTHONPATH": python_path, **(env or {})}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"websocket=(\S+) management=(\S+) stats=(\S+)", first)
    if match is None:
        rest = proc.stdout.read() if proc.poll() is not None else ""
        proc.kill()
        raise RuntimeError(f"wsrelay serve did not start: {first!r} {rest!r}")
    served = Served(proc, match.group(1), match.group(2), match.group(3), state)
    served.output.append(first)

    def drain() -> None:
        for line in proc.stdout:
            served.output.append(line)

    served.drain = threading.Thread(target=drain, daemon=True)
    served.drain.start()
    return served
