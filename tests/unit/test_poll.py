"""The one polling helper (conformance/lab/poll.py): returns the first truthy value, looks
once more at the deadline, says what it waited for on timeout; watch() gives None instead of
raising, settle() waits for a reading to stop changing. Counted by calls, not by time."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from conformance.lab.poll import (
    WaitTimeout,
    settle,
    wait_until,
    wait_until_async,
    watch,
    watch_async,
)


def flips(after: int, value: object = "yes"):
    """A condition false for its first `after` looks, then `value`."""
    calls = itertools.count(1)
    return lambda: value if next(calls) > after else 0


def test_wait_until_returns_the_first_truthy_value():
    assert wait_until(flips(3, {"a": 1}), 30, step=0.001) == {"a": 1}


def test_wait_until_raises_with_what_and_the_last_value():
    with pytest.raises(WaitTimeout, match=r"timed out after 0 s waiting for the VIP \(last value 0\)"):
        wait_until(lambda: 0, 0, what="the VIP")
    with pytest.raises(AssertionError, match="built late"):
        wait_until(lambda: [], 0.01, step=0.001, what=lambda: "built late")


def test_watch_gives_none_on_timeout_and_the_value_otherwise():
    assert watch(lambda: 0, 0.01, step=0.001) is None
    assert watch(flips(2), 30, step=0.001) == "yes"


def test_async_variants_await_and_yield_to_the_loop():
    async def main():
        ran = []
        asyncio.get_running_loop().call_soon(ran.append, 1)

        async def later():
            return bool(ran)      # true only once the loop ran the other callback
        got = await wait_until_async(later, 30, step=0.001)
        nothing = await watch_async(lambda: 0, 0.01, step=0.001)
        with pytest.raises(WaitTimeout, match="last value False"):
            await wait_until_async(lambda: False, 0)
        return got, nothing
    assert asyncio.run(main()) == (True, None)


def test_settle_waits_for_the_reading_to_stop_changing():
    readings = iter([1, 2, 3])
    last = [0]

    def read():
        last[0] = next(readings, last[0])
        return last[0]
    assert settle(read, 30, quiet=0.01, step=0.001) == 3
