"""The relay handlers' import path does not import the authorizer: importing
`wsrelay.handlers` (the relay functions' Lambda init) leaves `wsrelay.auth` and PyJWT unimported,
and ``wsrelay.handlers.authorize`` imports them only when asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.processes

SCRIPT = """
import json, sys
import wsrelay.handlers as handlers
before = sorted(m for m in sys.modules if m == "jwt" or m.startswith(("jwt.", "wsrelay.auth")))
authorize = handlers.authorize
import wsrelay.auth
print(json.dumps({"before": before, "alias": authorize is wsrelay.auth.handler,
                  "after": "jwt" in sys.modules}))
"""


def test_importing_the_relay_handlers_imports_no_authorizer_and_no_jwt(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "WSRELAY_STORE": "sqlite",
        "WSRELAY_SQLITE_PATH": str(tmp_path / "relay.db"),
        "AWS_REGION": "us-east-1",
    }
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result == {"before": [], "alias": True, "after": True}


def test_an_unknown_attribute_is_still_an_attribute_error(tmp_path):
    script = "import wsrelay.handlers as h\ntry:\n    h.nothing\nexcept AttributeError as e:\n    print(e)"
    env = {**os.environ, "WSRELAY_STORE": "sqlite", "WSRELAY_SQLITE_PATH": str(tmp_path / "r.db")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert "has no attribute 'nothing'" in proc.stdout, proc.stderr
