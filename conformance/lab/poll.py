"""Wait until a condition holds, against a deadline: the one polling helper of the lab and
the tests (tests/integration, tests/unit where a real process or file is awaited).

Why one: a poll that returns on timeout lets a caller forget to check, a poll without a
final look at the deadline fails a condition that became true during the last sleep, and a
poll with a fixed number of tries stretches with the machine's load. Here the condition is
checked once more at the deadline, a timeout raises (an AssertionError, so pytest shows it
as a failed check) with what was awaited and the last value seen, and the deadline is
wall-clock seconds on the monotonic clock.

Negative waits ("the VIP must not move for N s") are not polls: watch for the event with a
timeout instead (AddressObserver.wait_for(..., timeout=N) is None). Where no observer sees
the event (a log line, a table read by a command), watch() looks until the condition holds
or the time is up and returns None then, so the caller says what a timeout means; settle()
waits for a reading to stop changing (a table after a burst of kernel work).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

STEP = 0.02  # seconds between looks: short next to any protocol timer we wait for

Describe = str | Callable[[], str] | None


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline."""


def _fail(pred: object, timeout: float, what: Describe, last: object) -> WaitTimeout:
    text = what() if callable(what) else what
    return WaitTimeout(f"timed out after {timeout:g} s waiting for {text or getattr(pred, '__name__', pred)}"
                       f" (last value {last!r})")


def watch(pred: Callable[[], T], timeout: float, *, step: float = STEP) -> T | None:
    """Call `pred` until it returns something truthy and return that, or None once `timeout`
    seconds have passed (checked once more at the deadline). For negative waits ("keepalived
    must not leave MASTER within 3 s": `watch(left, 3) is None`) and waits whose timeout the
    caller reports itself."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(step, left))


def wait_until(pred: Callable[[], T], timeout: float = 10.0, *, step: float = STEP,
               what: Describe = None) -> T:
    """Call `pred` until it returns something truthy and return that; raise WaitTimeout
    after `timeout` seconds. Exceptions from `pred` propagate (a way to stop early, e.g.
    when the process waited on has died). `what` (a string, or a function giving one,
    called only on failure) says what was awaited."""
    last: list[object] = [None]

    def look() -> T:
        last[0] = value = pred()
        return value
    value = watch(look, timeout, step=step)
    if value is None:
        raise _fail(pred, timeout, what, last[0])
    return value


def settle(read: Callable[[], T], timeout: float = 10.0, *, quiet: float = 0.5,
           step: float = 0.1) -> T:
    """`read()` once it has returned the same value for `quiet` seconds, or its last value
    when `timeout` runs out (the caller compares it with what it wanted and says how they
    differ)."""
    deadline = time.monotonic() + timeout
    last = read()
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(step)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


async def watch_async(pred: Callable[[], T | Awaitable[T]], timeout: float, *,
                      step: float = STEP) -> T | None:
    """watch() for code on an event loop: yields to the loop between looks instead of
    blocking it. `pred` may be a plain function or return an awaitable."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = pred()
        if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        left = deadline - loop.time()
        if left <= 0:
            return None
        await asyncio.sleep(min(step, left))


async def wait_until_async(pred: Callable[[], T | Awaitable[T]], timeout: float = 10.0, *,
                           step: float = STEP, what: Describe = None) -> T:
    """wait_until() for code on an event loop: yields to the loop between looks instead of
    blocking it. `pred` may be a plain function or return an awaitable."""
    last: list[object] = [None]

    async def look() -> T:
        value = pred()
        if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
            value = await value
        last[0] = value
        return value  # type: ignore[return-value]
    value = await watch_async(look, timeout, step=step)
    if value is None:
        raise _fail(pred, timeout, what, last[0])
    return value
