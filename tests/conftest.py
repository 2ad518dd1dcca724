"""Shared fixtures: a real moto DynamoDB server on loopback, a recording Management API,
fresh tables, the relay's functions built under a given environment, and `wsrelay serve` in a
child process (`served`).

Markers (declared in pyproject.toml; `make test-fast` leaves out all four):

- `processes`: the test starts processes. Added here to every test that uses the `served` or
  `moto_endpoint` fixture (directly or through another fixture such as `table`); the rest carry
  it in their module (`pytestmark`) or on the test. A test without it that starts a Python
  process (`wsrelay serve`, a script, a worker pool) fails, naming the marker it lacks.
- `terraform`: the test checks the Terraform module (terraform, checkov, the provider schema);
  a test without it that runs terraform or checkov fails the same way.
- `bench`: runs a benchmark script; `slow`: a long simulation.
"""

from __future__ import annotations

import multiprocessing.process
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from gateway_support import Served, start

from wsrelay.functions import RelayFunctions
from wsrelay.local.runtimes.inprocess.store import OwnedSqliteStore
from wsrelay.stores.dynamodb import DynamoDBStore, create_table
from wsrelay.stores.memory import MemoryStore
from wsrelay.stores.sqlite_shared import SharedSqliteStore
from wsrelay.testing import moto_serial
from wsrelay.testing.recording_api import RecordingManagementApi
from wsrelay.wiring import from_environment

# Fixtures that start a process: a test using one (even indirectly) is marked `processes`.
PROCESS_FIXTURES = {"served", "moto_endpoint"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.processes)


# -- the guard: a test that starts a process must say so ------------------------------------------

_running: pytest.Item | None = None  # the test whose setup, call or teardown is running


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    global _running
    _running = item
    try:
        return (yield)
    finally:
        _running = None


def _program(args) -> str:
    """The program a `Popen(args, ...)` runs (a string is a path, or a command for a shell)."""
    if isinstance(args, str | bytes | os.PathLike):
        words = os.fsdecode(args).split()
        return words[0] if words else ""
    return os.fsdecode(next(iter(args), ""))


def _marker_for(args) -> str | None:
    """The marker a test needs to run `args`: Python (`wsrelay serve`, scripts, moto's server)
    needs `processes`, terraform and checkov need `terraform`; other programs need none."""
    program = _program(args)
    name = Path(program).name
    if name in ("terraform", "checkov"):
        return "terraform"
    if program == sys.executable or name.startswith(("python", "wsrelay")):
        return "processes"
    return None


def _require(marker: str | None, what: str) -> None:
    item = _running
    if marker is None or item is None or item.get_closest_marker(marker) is not None:
        return
    raise RuntimeError(
        f"{item.nodeid} starts {what} but is not marked `{marker}`: add @pytest.mark.{marker} to "
        f"it (or `pytestmark` to its module) so that `make test-fast` leaves it out"
    )


_popen_init = subprocess.Popen.__init__
_process_start = multiprocessing.process.BaseProcess.start


def _guarded_popen_init(self, args, *rest, **options):
    _require(_marker_for(args), f"a process ({args!r:.120})")
    _popen_init(self, args, *rest, **options)


def _guarded_process_start(self):
    _require("processes", "a multiprocessing process")
    _process_start(self)


def pytest_configure(config: pytest.Config) -> None:
    subprocess.Popen.__init__ = _guarded_popen_init  # type: ignore[method-assign]
    multiprocessing.process.BaseProcess.start = _guarded_process_start  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    subprocess.Popen.__init__ = _popen_init  # type: ignore[method-assign]
    multiprocessing.process.BaseProcess.start = _process_start  # type: ignore[method-assign]


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone server in its own process, over HTTP, one request at a time."""
    with moto_serial.running() as url:
        yield url


@pytest.fixture
def dynamodb_client(moto_endpoint: str):
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def table(dynamodb_client) -> str:
    """A fresh table with the legacy Node relay's schema, including the legacy SubscriptionIndex."""
    name = f"events-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client, name, legacy_index=True)
    return name


@pytest.fixture
def management_api() -> Iterator[RecordingManagementApi]:
    with RecordingManagementApi() as api:
        yield api


@pytest.fixture
def build_functions():
    """The Lambda init under a given environment: `RelayFunctions` as `wsrelay.handlers` builds
    them (AWS credentials and region from the test process's environment).

    ``WSRELAY_PUBLISHER_ACK`` is ``router`` unless the test sets it: the tests written before the
    setting existed check today's behaviour, which is exactly router mode; the ``stored`` mode
    (the default in AWS) has its own tests that say so."""

    def build(**env: str) -> RelayFunctions:
        return from_environment({"AWS_REGION": "us-east-1", "WSRELAY_PUBLISHER_ACK": "router", **env})

    return build


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """A factory: ``served(*flags, runtime=None, env=None, directory=None)`` starts
    ``wsrelay serve --port 0 --state-dir DIRECTORY/state [--runtime RUNTIME] FLAGS`` (DIRECTORY
    is the test's tmp_path unless given; `env` adds to the child's environment) and returns its
    running `Served` handle. Every server it started is stopped at teardown, whether the test
    passed or failed; a test that checks the exit status, or reads what a stopped server left,
    calls ``.stop()`` itself (stopping again is harmless)."""
    started: list[Served] = []

    def serve(
        *flags: str,
        runtime: str | None = None,
        env: dict[str, str] | None = None,
        directory: Path | None = None,
    ) -> Served:
        args = [*(["--runtime", runtime] if runtime else []), *flags]
        server = start(directory or tmp_path, *args, env=env)
        started.append(server)
        return server

    yield serve
    for server in reversed(started):
        try:
            server.stop()
        except subprocess.TimeoutExpired:  # a server that ignores SIGTERM: do not leave it behind
            server.proc.kill()
            server.proc.wait()
            raise


@pytest.fixture(
    params=["sqlite", "sqlite-owned", "memory", pytest.param("dynamodb", marks=pytest.mark.processes)]
)
def make_store(request, tmp_path):
    """A factory: make_store(ttl) -> a Store on one shared backing table/file (memory: a fresh
    `MemoryStore`, the one `wsrelay simulate` runs the relay over)."""
    if request.param == "memory":
        return lambda ttl=600: MemoryStore(ttl)
    if request.param == "sqlite":
        path = tmp_path / "relay.db"
        return lambda ttl=600: SharedSqliteStore(path, ttl)
    if request.param == "sqlite-owned":  # one process owns the file (the gateway's inprocess runtime)
        path = tmp_path / "owned.db"
        return lambda ttl=600: OwnedSqliteStore(path, ttl)
    client = request.getfixturevalue("dynamodb_client")
    table = request.getfixturevalue("table")
    return lambda ttl=600: DynamoDBStore(client, table, ttl)
