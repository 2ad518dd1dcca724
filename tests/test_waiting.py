"""tests/waiting.py: returns the condition's value once it holds, fails naming what was awaited."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from waiting import WaitTimeout, wait_until, wait_until_async


def test_returns_the_first_truthy_value():
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "done", timeout=5, interval=0.001) == "done"


def test_timeout_names_the_condition_and_last_value():
    with pytest.raises(WaitTimeout, match=r"waiting for the answer \(last value 0\)"):
        wait_until(lambda: 0, timeout=0.05, what="the answer")


def test_ignored_errors_count_as_not_yet_and_are_reported():
    attempts = itertools.count()

    def flaky() -> bool:
        if next(attempts) < 2:
            raise ConnectionError("not listening")
        return True

    def down() -> bool:
        raise ConnectionError("down")

    assert wait_until(flaky, timeout=5, interval=0.001, ignore=(ConnectionError,)) is True
    with pytest.raises(WaitTimeout, match="ConnectionError: down"):
        wait_until(down, timeout=0.05, ignore=(OSError,))


def test_other_errors_propagate_at_once():
    with pytest.raises(KeyError):
        wait_until(lambda: {}["missing"], timeout=5)


def test_async_lets_the_event_loop_run_between_polls():
    state = {"n": 0}

    async def bump_soon() -> None:
        state["n"] = 1

    async def scenario() -> int:
        task = asyncio.create_task(bump_soon())  # runs only if the wait yields to the loop
        value = await wait_until_async(lambda: state["n"], timeout=5, what="the bump")
        await task
        return value

    assert asyncio.run(scenario()) == 1
    with pytest.raises(WaitTimeout, match="waiting for nothing"):
        asyncio.run(wait_until_async(lambda: None, timeout=0.05, what="nothing"))
