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


def test_contents_are_the_handlers_import_closure_pyjwt_and_nothing_else(built):
    names = zipfile.ZipFile(built).namelist()
    expected = {arcname for arcname, _ in package._dependency_files(["pyjwt"])}
    for module in package.import_closure():
        path = SRC.joinpath(*module.split("."))
        expected.add(
            (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).relative_to(SRC).as_posix()
        )
    assert set(names) == expected
    assert "wsrelay/handlers.py" in names and "wsrelay/relay.py" in names
    # The authorizer deploys from the same zip: `wsrelay.handlers.authorize` names it (imported
    # only when called), so the static closure holds it, with PyJWT beside it.
    assert "wsrelay/auth/__init__.py" in names and "wsrelay/auth/tokens.py" in names
    assert "wsrelay/auth/secrets.py" in names  # the Secrets Manager source (boto3: the runtime's)
    assert "jwt/__init__.py" in names
    assert not any(n.startswith(("cryptography/", "typing_extensions")) for n in names)
    # What Lambda never imports stays out: the command line, the packager, the local stack.
    for absent in (
        "wsrelay/cli/main.py",
        "wsrelay/package.py",
        "wsrelay/local/",
        "wsrelay/tools/",
        "wsrelay/client/",
        "wsrelay/testing/",
    ):
        assert not any(n.startswith(absent) for n in names), absent
    assert not any(n.startswith(("boto3/", "botocore/")) for n in names)
    assert not any(n.endswith((".pyc", ".so")) or "__pycache__" in n for n in names)
    assert names == sorted(names)


def test_the_closure_follows_imports_in_functions_and_under_type_checking():
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import wsrelay.protocol
        if TYPE_CHECKING:
            from wsrelay.ports import Store
        def f():
            from wsrelay.stores import dynamodb
        """
    )
    named = set(package._named_modules(package.ast.parse(source)))
    assert {"wsrelay.protocol", "wsrelay.ports", "wsrelay.stores.dynamodb"} <= named
    assert "wsrelay.local" not in package.import_closure()
    assert "wsrelay.cli.main" in package.import_closure("wsrelay.cli.main")


def test_runtime_closure_excludes_what_lambda_provides():
    # boto3 comes with the runtime; PyJWT's typing_extensions is for Python < 3.11 only and its
    # cryptography is an extra (RS256, which wsrelay refuses).
    assert package.runtime_closure() == ["pyjwt"]


@pytest.mark.parametrize(
    ("marker", "applies"),
    [
        ('python_version < "3.11"', False),
        ('python_version >= "3.8"', True),
        ('extra == "crypto"', False),
        ('python_version >= "3.8" and extra == "x"', False),
        ('sys_platform == "linux"', True),  # not evaluated: shipped rather than lost
    ],
)
def test_requirement_markers_are_judged_for_the_lambda_runtime(marker, applies):
    assert package._applies(marker) is applies


def test_compiled_dependency_is_refused(monkeypatch):
    # websockets ships a C speedups module: packaging it must fail loudly, not ship x86 code.
    monkeypatch.setattr(package, "runtime_closure", lambda: ["websockets"])
    with pytest.raises(package.PackagingError, match="compiled extension"):
        package.build(Path("/tmp/never-written.zip"))


@pytest.mark.processes
def test_cli_prints_size_and_hash(tmp_path):
    out = tmp_path / "x.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "wsrelay.package", "--output", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(out) in proc.stdout and "sha256" in proc.stdout


BOTO3_CLOSURE = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def boto3_only(folder: Path) -> Path:
    """A folder holding boto3 and its own dependencies only (links into site-packages), as the
    Lambda runtime provides them."""
    import importlib.util

    folder.mkdir()
    for name in BOTO3_CLOSURE:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


SECRET = b"z" * 32


def test_handlers_import_and_run_from_the_zip_alone(built, moto_endpoint, table, management_api, tmp_path):
    extracted = tmp_path / "task"
    secret_file = tmp_path / "secret"
    secret_file.write_bytes(SECRET + b"\n")
    zipfile.ZipFile(built).extractall(extracted)
    runtime = boto3_only(tmp_path / "runtime")
    script = textwrap.dedent(
        f"""
        import sys, json
        # python -I -S: no site-packages, no user site, no editable finder; only the extracted
        # zip and boto3's closure besides the standard library.
        sys.path[:0] = [{str(extracted)!r}, {str(runtime)!r}]
        import wsrelay.handlers as h
        assert h.__file__.startswith({str(extracted)!r}), h.__file__
        assert not any(m.startswith(("websockets", "h11", "rich")) for m in sys.modules)
        ctx = lambda c, r: {{"requestContext": {{"connectionId": c, "routeKey": r}},
                             "body": None, "isBase64Encoded": False}}
        out = [h.onconnect(ctx("R=", "$connect"), None)]
        ev = ctx("R=", "$default"); ev["body"] = "subscribe: zip-1"
        out.append(h.sendmessage(ev, None))
        ev = ctx("W=", "$default"); ev["body"] = '{{"guid":"zip-1"}}'
        out.append(h.sendmessage(ev, None))
        out.append(h.ondisconnect(ctx("R=", "$disconnect"), None))
        assert "jwt" not in sys.modules and "wsrelay.auth" not in sys.modules
        # The authorizer, from the same zip: PyJWT without cryptography.
        import wsrelay.auth.tokens as tokens
        token = tokens.issue({SECRET!r}, "publisher", 60)
        auth = {{"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:1:a/s/$connect",
                 "queryStringParameters": {{"token": token}}, "requestContext": {{"connectionId": "W="}}}}
        decision = h.authorize(auth, None)
        assert "cryptography" not in sys.modules
        print("RESULT", json.dumps(out))
        print("AUTH", json.dumps(decision))
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
        "WSRELAY_AUTH_SECRET_FILE": str(secret_file),
    }
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT"))
    assert json.loads(result.split(" ", 1)[1]) == [{"statusCode": 200}] * 4
    assert management_api.delivered("R=") == ['{"guid":"zip-1"}']
    decision = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("AUTH"))[5:])
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert decision["context"]["role"] == "publisher"
