"""The Lambda zip: reproducible, lean, pure Python, and importable on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from wsrelay import package

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return package.build(tmp_path_factory.mktemp("dist") / "wsrelay-lambda.zip")


def test_reproducible_byte_for_byte(built, tmp_path):
    again = package.build(tmp_path / "again.zip")
    assert again.read_bytes() == built.read_bytes()


def test_contents_are_lean(built):
    names = zipfile.ZipFile(built).namelist()
    assert "wsrelay/handlers.py" in names and "wsrelay/relay.py" in names
    local_only = ("gateway", "tools", "client", "smoke", "loadtest", "cost", "simulate")
    assert not any(n.startswith(("boto3/", "botocore/")) for n in names)
    assert not any(n.startswith(tuple(f"wsrelay/{p}/" for p in local_only)) for n in names)
    assert {n.split("/")[1] for n in names if n.count("/") == 2} == {"stores", "outbound"}
    assert not any(n.endswith((".pyc", ".so")) or "__pycache__" in n for n in names)
    assert names == sorted(names)


def test_runtime_closure_excludes_what_lambda_provides():
    assert package.runtime_closure() == []  # boto3 is wsrelay's only runtime dependency


def test_compiled_dependency_is_refused(monkeypatch):
    # websockets ships a C speedups module: packaging it must fail loudly, not ship x86 code.
    monkeypatch.setattr(package, "runtime_closure", lambda: ["websockets"])
    with pytest.raises(package.PackagingError, match="compiled extension"):
        package.build(Path("/tmp/never-written.zip"))


def test_cli_prints_size_and_hash(tmp_path):
    out = tmp_path / "x.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "wsrelay.package", "--output", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(out) in proc.stdout and "sha256" in proc.stdout


def test_handlers_import_and_run_from_the_zip_alone(built, moto_endpoint, table, management_api):
    script = textwrap.dedent(
        f"""
        import sys, json
        src = {str(SRC)!r}
        sys.path[:] = [p for p in sys.path if not p.startswith(src)]
        sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                            and "editable" not in repr(f).lower()]
        sys.path.insert(0, {str(built)!r})
        import wsrelay.handlers as h
        assert h.__file__.startswith({str(built)!r}), h.__file__
        ctx = lambda c, r: {{"requestContext": {{"connectionId": c, "routeKey": r}},
                             "body": None, "isBase64Encoded": False}}
        out = [h.onconnect(ctx("R=", "$connect"), None)]
        ev = ctx("R=", "$default"); ev["body"] = "subscribe: zip-1"
        out.append(h.sendmessage(ev, None))
        ev = ctx("W=", "$default"); ev["body"] = '{{"guid":"zip-1"}}'
        out.append(h.sendmessage(ev, None))
        out.append(h.ondisconnect(ctx("R=", "$disconnect"), None))
        print("RESULT", json.dumps(out))
        """
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_FUNCTION_NAME": "events-sendmessage",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint,
        "CONNECTIONS_TABLE": table,
        "WSRELAY_MANAGEMENT_ENDPOINT": management_api.endpoint,
    }
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT"))
    assert json.loads(result.split(" ", 1)[1]) == [{"statusCode": 200}] * 4
    assert management_api.delivered("R=") == ['{"guid":"zip-1"}']
