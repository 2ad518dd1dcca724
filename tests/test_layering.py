"""The layering rules of docs/architecture.md, checked on the source: the relay's core and its
adapters import no host (gateway, asyncio, CLI), and the pure core no AWS SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "wsrelay"
CORE = ["protocol.py", "relay.py", "ports.py", "functions.py", "config.py", "telemetry.py"]
HOSTS = ("wsrelay.gateway", "wsrelay.cli", "asyncio", "websockets", "h11")
AWS_SDK = ("boto3", "botocore")


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def files(*names: str) -> list[Path]:
    found: list[Path] = []
    for name in names:
        path = SRC / name
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def offending(path: Path, prefixes: tuple[str, ...]) -> set[str]:
    return {m for m in imports(path) if any(m == p or m.startswith(p + ".") for p in prefixes)}


@pytest.mark.parametrize("path", files(*CORE, "stores", "outbound"), ids=lambda p: str(p.relative_to(SRC)))
def test_core_and_adapters_import_no_host(path):
    assert offending(path, HOSTS) == set()


@pytest.mark.parametrize("path", files(*CORE), ids=lambda p: p.name)
def test_the_pure_core_imports_no_aws_sdk(path):
    assert offending(path, AWS_SDK) == set()


def test_the_check_sees_imports():
    assert "wsrelay.gateway.settings" in imports(SRC / "cli.py")
    assert offending(SRC / "gateway" / "server.py", HOSTS)
