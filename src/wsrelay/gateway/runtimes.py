"""How the local gateway runs the handlers: three runtimes, all calling the real functions.

- `InProcessRuntime`: the handlers run inside the gateway process; their outbound is wired
  straight to the gateway's connections (no HTTP hop). Fastest; for development. With the
  SQLite store (sub-millisecond, never blocks for long) and no injected post latency they run
  inline on the event loop: a thread pool would only add two thread hops per invocation and a
  GIL convoy (measured: 4x fewer cycles/s). Otherwise (DynamoDB store, --post-latency-ms) they
  run on a thread pool of `--concurrency` threads (16).
- `ProcessRuntime` with the ``lmi`` policy: like Lambda Managed Instances' Python runtime. Per
  function a pool of up to N worker processes, each running the module's init once and then one
  request at a time; the handlers reach the Management API over HTTP, as in AWS. One process per
  function starts with the gateway (LMI starts environments before a version is ACTIVE), the
  others on demand. When all N are busy a request waits for one (LMI would queue or throttle;
  waiting is kinder to local tests, and is counted in the latency).
- `ProcessRuntime` with the ``ondemand`` policy: like classic Lambda. One environment per
  concurrent request, created on demand with an extra cold-start delay, reused while warm
  (``keep_warm_s``), and an optional concurrency limit above which invokes are throttled.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from wsrelay.gateway.handler_log import HandlerLog
from wsrelay.gateway.housekeeping import every, write_batch
from wsrelay.gateway.settings import GatewaySettings

WORKER_READY_TIMEOUT_S = 60.0
_STREAM_LIMIT = 4 * 1024 * 1024


@dataclass
class Invocation:
    """How one invocation ended. `status_code` is None when it did not return."""

    status_code: int | None
    failure: str | None = None  # "error" | "throttled" | "timeout"
    detail: str | None = None
    cold_start: bool = False
    duration_ms: float = 0.0


class LambdaContext:
    """The part of Lambda's context object handlers use."""

    def __init__(self, request_id: str, function_name: str, timeout_s: float) -> None:
        self.aws_request_id = request_id
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 2048
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve_handler(path: str) -> Callable[[Any, Any], Any]:
    """Import ``module.function`` (the module's import is the function's init)."""
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def function_name(handler: str) -> str:
    """The local function name for a handler path, e.g. ``wsrelay-local-sendmessage``."""
    return "wsrelay-local-" + handler.rpartition(".")[2]


def handler_environment(settings: GatewaySettings, management_endpoint: str) -> dict[str, str]:
    """The environment the handlers run with (as Terraform sets it in AWS)."""
    env = {
        "WSRELAY_STORE": settings.store,
        "WSRELAY_SQLITE_PATH": str((settings.state_dir / "relay.sqlite3").resolve()),
        "RESULT_TTL_SECONDS": str(settings.result_ttl_seconds),
        "CONNECTIONS_TABLE": settings.table,
        "WSRELAY_MANAGEMENT_ENDPOINT": management_endpoint,
        "WSRELAY_LEGACY_SUBSCRIPTIONS": "true" if settings.legacy_subscriptions else "false",
        # One process (inprocess runtime) may keep the SQLite file to itself; workers share it.
        "WSRELAY_SQLITE_SHARED": "false" if settings.runtime == "inprocess" else "true",
        "AWS_REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    }
    if settings.dynamodb_endpoint:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = settings.dynamodb_endpoint
    return env


class Runtime(Protocol):
    """What the gateway needs from a runtime."""

    async def start(self) -> None: ...

    async def invoke(self, handler: str, event: dict[str, Any]) -> Invocation: ...

    async def stop(self) -> None: ...


class InProcessRuntime:
    """Handlers in the gateway process (inline on its loop, or on a thread pool), posting straight
    to its connections."""

    def __init__(self, settings: GatewaySettings, env: dict[str, str], outbound: Any, inline: bool) -> None:
        self.settings = settings
        self.env = env
        self.outbound = outbound
        self.inline = inline
        self.pool = ThreadPoolExecutor(settings.concurrency or 16, thread_name_prefix="wsrelay-fn")
        self._functions: dict[str, Callable[[Any, Any], Any]] = {}
        self._log: HandlerLog | None = None
        self._lines: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._flush_store: Callable[[], None] | None = None

    async def start(self) -> None:
        os.environ.update(self.env)
        from wsrelay import handlers, telemetry

        # Lines are collected in a list (append is atomic, so handler threads need no lock) and
        # written every 0.1 s: a write per line cost ~9% of the gateway's time, a buffered
        # text-file write per line ~3%.
        self._log = HandlerLog(self.settings.state_dir / "handlers.log", self.settings.log_max_bytes)
        telemetry.set_sink(self._lines.append)
        # An owned SQLite store writes behind (stores/sqlite.py): flushed with the log.
        self._flush_store = getattr(handlers.current_store(), "flush", None)
        self._flusher = asyncio.create_task(self._flush_log())
        handlers.bind(outbound=self.outbound)
        for handler in set(self.settings.routes.values()):
            self._functions[handler] = resolve_handler(handler)

    def invoke_inline(self, handler: str, event: dict[str, Any]) -> Invocation:
        """Run the handler now, on the calling (event loop) thread."""
        context = LambdaContext(
            event["requestContext"]["requestId"],
            function_name(handler),
            self.settings.integration_timeout_s,
        )
        started = time.perf_counter()
        try:
            result = self._functions[handler](event, context)
        except Exception as error:
            return Invocation(None, "error", f"{type(error).__name__}: {error}", False, _ms(started))
        elapsed = _ms(started)
        if elapsed > self.settings.integration_timeout_s * 1000:
            # Nothing can stop a call on the loop's thread; API Gateway does not stop the
            # function either: it answers the client with a timeout and the function finishes.
            return Invocation(None, "timeout", "integration timeout", False, elapsed)
        return Invocation(_status(result), None, None, False, elapsed)

    async def invoke(self, handler: str, event: dict[str, Any]) -> Invocation:
        if self.inline:
            return self.invoke_inline(handler, event)
        function = self._functions[handler]
        context = LambdaContext(
            event["requestContext"]["requestId"],
            function_name(handler),
            self.settings.integration_timeout_s,
        )
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, function, event, context)
        try:
            result = await asyncio.wait_for(future, self.settings.integration_timeout_s)
        except TimeoutError:
            return Invocation(None, "timeout", "integration timeout", False, _ms(started))
        except Exception as error:
            return Invocation(None, "error", f"{type(error).__name__}: {error}", False, _ms(started))
        return Invocation(_status(result), None, None, False, _ms(started))

    async def _flush_log(self) -> None:
        """Every 0.1 s: the store keeps its unwritten rows and the list its lines until a flush
        succeeds."""
        await every(0.1, self._flush, "flush failed, retrying")

    def _flush(self) -> None:
        assert self._log is not None
        try:
            if self._flush_store is not None:
                self._flush_store()
        finally:
            write_batch(self._lines, self._log.write)
            self._log.rotate_if_full()

    async def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self._flusher is not None:
            self._flusher.cancel()
        if self._log is not None:
            try:
                self._flush()
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                print(f"wsrelay serve: warning: last flush failed: {message}", file=sys.stderr)
            self._log.close()


class WorkerProcess:
    """One execution environment: a child process running `wsrelay.gateway.worker`."""

    def __init__(self, handler: str, process: asyncio.subprocess.Process) -> None:
        self.handler = handler
        self.process = process
        self.last_used = time.monotonic()

    @classmethod
    async def spawn(cls, handler: str, env: dict[str, str], log: Any) -> WorkerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsrelay.gateway.worker",
            handler,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env={**os.environ, **env, "AWS_LAMBDA_FUNCTION_NAME": function_name(handler)},
            limit=_STREAM_LIMIT,
        )
        worker = cls(handler, process)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), WORKER_READY_TIMEOUT_S)
        ready = json.loads(line or b"{}")
        if "ready" not in ready:
            await worker.stop()
            raise RuntimeError(f"{handler} failed its init: {ready.get('initError', 'no output')}")
        return worker

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def call(self, event: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"event": event, "timeout": timeout_s}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout_s)
        self.last_used = time.monotonic()
        if not line:
            raise RuntimeError("the execution environment exited")
        return json.loads(line)

    async def stop(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.process.wait()


class _Pool:
    """The execution environments of one function."""

    def __init__(self) -> None:
        self.idle: list[WorkerProcess] = []
        self.count = 0  # alive or starting
        self.freed = asyncio.Condition()


class ProcessRuntime:
    """Worker processes per function, with the ``lmi`` or the ``ondemand`` policy."""

    def __init__(self, settings: GatewaySettings, env: dict[str, str], policy: str) -> None:
        self.settings = settings
        self.env = env
        self.policy = policy
        self.limit = (settings.concurrency or 4) if policy == "lmi" else settings.max_concurrency
        self.pools: dict[str, _Pool] = {}
        self.served_by: dict[str, set[int]] = {}  # pids that served each function
        self._log: HandlerLog | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._rotator: asyncio.Task[None] | None = None

    def _pool(self, handler: str) -> _Pool:
        return self.pools.setdefault(handler, _Pool())

    async def start(self) -> None:
        self._log = HandlerLog(self.settings.state_dir / "handlers.log", self.settings.log_max_bytes)
        self._rotator = asyncio.create_task(self._rotate_log())
        if self.policy == "lmi":
            handlers = sorted(set(self.settings.routes.values()))
            workers = await asyncio.gather(*(self._spawn(h) for h in handlers))
            for worker in workers:
                self._pool(worker.handler).idle.append(worker)
        else:
            self._reaper = asyncio.create_task(self._reap_idle())

    async def _spawn(self, handler: str, cold_start_s: float = 0.0) -> WorkerProcess:
        """Start one environment; its slot is counted from the first moment (even while the
        injected cold start sleeps), so concurrent requests see it and throttle."""
        pool = self._pool(handler)
        pool.count += 1
        try:
            if cold_start_s:
                await asyncio.sleep(cold_start_s)
            assert self._log is not None
            return await WorkerProcess.spawn(handler, self.env, self._log.file)
        except BaseException:
            pool.count -= 1
            raise

    async def _acquire(self, handler: str) -> tuple[WorkerProcess | None, bool]:
        """An environment for one request: (worker, cold) or (None, False) when throttled."""
        pool = self._pool(handler)
        while True:
            while pool.idle:
                worker = pool.idle.pop()
                if worker.alive:
                    return worker, False
                pool.count -= 1
            if self.limit == 0 or pool.count < self.limit:
                delay = self.settings.cold_start_ms / 1000 if self.policy == "ondemand" else 0.0
                return await self._spawn(handler, delay), True
            if self.policy == "ondemand":
                return None, False
            async with pool.freed:
                await pool.freed.wait()

    async def _release(self, worker: WorkerProcess) -> None:
        pool = self._pool(worker.handler)
        if worker.alive:
            pool.idle.append(worker)
        else:
            pool.count -= 1
        async with pool.freed:
            pool.freed.notify()

    async def invoke(self, handler: str, event: dict[str, Any]) -> Invocation:
        started = time.perf_counter()
        try:
            worker, cold = await self._acquire(handler)
        except Exception as error:
            return Invocation(None, "error", f"init failed: {error}", True, _ms(started))
        if worker is None:
            return Invocation(None, "throttled", "concurrency limit reached", False, _ms(started))
        self.served_by.setdefault(handler, set()).add(worker.process.pid)
        try:
            reply = await worker.call(event, self.settings.integration_timeout_s)
        except TimeoutError:
            await worker.stop()  # Lambda stops a timed-out environment
            return Invocation(None, "timeout", "integration timeout", cold, _ms(started))
        except Exception as error:
            await worker.stop()
            return Invocation(None, "error", f"{type(error).__name__}: {error}", cold, _ms(started))
        finally:
            await self._release(worker)
        if "error" in reply:
            detail = f"{reply['error']}: {reply.get('message', '')}"
            return Invocation(None, "error", detail, cold, _ms(started))
        return Invocation(_status(reply.get("result")), None, None, cold, _ms(started))

    def describe(self) -> dict[str, Any]:
        """Execution environments per function, for ``/_wsrelay/stats``."""
        return {
            handler: {
                "environments": pool.count,
                "served_by_pids": sorted(self.served_by.get(handler, ())),
            }
            for handler, pool in sorted(self.pools.items())
        }

    async def _reap_idle(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.settings.keep_warm_s))
            cutoff = time.monotonic() - self.settings.keep_warm_s
            for pool in self.pools.values():
                expired = [w for w in pool.idle if w.last_used < cutoff]
                for worker in expired:
                    pool.idle.remove(worker)
                    pool.count -= 1
                    await worker.stop()

    async def _rotate_log(self) -> None:
        """Every second; on a failure (a full disk) the workers keep appending to the file."""
        assert self._log is not None
        await every(1.0, self._log.copy_truncate_if_full, "rotating handlers.log failed")

    async def stop(self) -> None:
        for task in (self._reaper, self._rotator):
            if task is not None:
                task.cancel()
        for pool in self.pools.values():
            for worker in pool.idle:
                await worker.stop()
            pool.idle.clear()
        if self._log is not None:
            self._log.close()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _status(result: Any) -> int:
    """A Lambda proxy result's status (a result without one counts as 200, as in AWS)."""
    if isinstance(result, dict) and isinstance(result.get("statusCode"), int):
        return int(result["statusCode"])
    return 200
