"""The worker-process runtimes: each function's handlers in child processes running the Lambda
face (``python -m wsrelay.local.runtimes.process.child wsrelay.handlers.sendmessage``), as in AWS.

- ``lmi`` policy, like Lambda Managed Instances' Python runtime: per function a pool of up to N
  worker processes, each running the module's init once and then one request at a time; the
  handlers reach the Management API over HTTP, as in AWS. One process per function starts with
  the gateway (LMI starts environments before a version is ACTIVE), the others on demand. When
  all N are busy a request waits for one (LMI would queue or throttle; waiting is kinder to local
  tests, and is counted in the latency).
- ``ondemand`` policy, like classic Lambda: one environment per concurrent request, created on
  demand with an extra cold-start delay, reused while warm (``keep_warm_s``), and an optional
  concurrency limit above which invokes are throttled.

The handlers get their configuration as Lambda functions do: environment variables
(`handler_environment`, what Terraform sets in AWS), given to the child process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from typing import Any

from wsrelay.local.handler_log import HandlerLog
from wsrelay.local.housekeeping import every
from wsrelay.local.runtimes.base import (
    Event,
    Failure,
    Invocation,
    elapsed_ms,
    function_name,
    raised,
    status_of,
)
from wsrelay.local.settings import GatewaySettings
from wsrelay.wiring import local_credentials

WORKER_READY_TIMEOUT_S = 60.0
LOG_ROTATION_INTERVAL_S = 1.0
_STREAM_LIMIT = 4 * 1024 * 1024


def handler_environment(settings: GatewaySettings, management_endpoint: str) -> dict[str, str]:
    """The environment the worker processes' handlers run with (as Terraform sets it in AWS),
    the authorizer's ``WSRELAY_AUTH_*`` with ``--auth-secret-file``."""
    auth = settings.auth_settings()
    return {
        **settings.relay_settings(management_endpoint).to_env(),
        **(auth.to_env() if auth is not None else {}),
        **local_credentials(),
    }


class WorkerProcess:
    """One execution environment: a child process running `wsrelay.local.runtimes.process.child`."""

    def __init__(self, handler: str, process: asyncio.subprocess.Process) -> None:
        self.handler = handler
        self.process = process
        self.last_used = time.monotonic()

    @classmethod
    async def spawn(cls, handler: str, env: dict[str, str], log: Any) -> WorkerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsrelay.local.runtimes.process.child",
            handler,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env={**os.environ, **env, "AWS_LAMBDA_FUNCTION_NAME": function_name(handler)},
            limit=_STREAM_LIMIT,
        )
        worker = cls(handler, process)
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), WORKER_READY_TIMEOUT_S)
            ready = json.loads(line or b"{}")
        except BaseException:  # hung or garbled init: no process left behind
            await worker.stop()
            raise
        if not isinstance(ready, dict) or "ready" not in ready:
            await worker.stop()
            error = ready.get("initError", "no output") if isinstance(ready, dict) else "bad output"
            raise RuntimeError(f"{handler} failed its init: {error}")
        return worker

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def call(self, event: Event, timeout_s: float) -> dict[str, Any]:
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

    def __init__(
        self,
        settings: GatewaySettings,
        management_endpoint: str,
        rotate_interval_s: float = LOG_ROTATION_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.env = handler_environment(settings, management_endpoint)
        self.policy = settings.runtime
        self.rotate_interval_s = rotate_interval_s
        self.limit = (settings.concurrency or 4) if self.policy == "lmi" else settings.max_concurrency
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

    async def invoke(self, handler: str, event: Event) -> Invocation:
        started = time.perf_counter()
        try:
            worker, cold = await self._acquire(handler)
        except Exception as error:
            return Invocation(None, Failure.ERROR, f"init failed: {error}", True, elapsed_ms(started))
        if worker is None:
            return Invocation(
                None, Failure.THROTTLED, "concurrency limit reached", False, elapsed_ms(started)
            )
        self.served_by.setdefault(handler, set()).add(worker.process.pid)
        try:
            reply = await worker.call(event, self.settings.integration_timeout_s)
        except TimeoutError:
            await worker.stop()  # Lambda stops a timed-out environment
            return Invocation(None, Failure.TIMEOUT, "integration timeout", cold, elapsed_ms(started))
        except Exception as error:
            await worker.stop()
            return raised(error, started, cold)
        finally:
            await self._release(worker)
        if "error" in reply:
            detail = f"{reply['error']}: {reply.get('message', '')}"
            return Invocation(None, Failure.ERROR, detail, cold, elapsed_ms(started))
        result = reply.get("result")
        return Invocation(status_of(result), None, None, cold, elapsed_ms(started), result)

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
        await every(self.rotate_interval_s, self._log.copy_truncate_if_full, "rotating handlers.log failed")

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
