"""The deadlines a probe arms, read from the event loop instead of a stopwatch.

A wall-clock upper bound such as `took < T + 0.3` breaks when a loaded 2-core machine runs
the loop late, not only when a probe is wrong (issue 13). What such a bound was written for
(the probe waits its own connect_timeout: not twice it, not the kernel's SYN retries, not
forever) shows exactly in the timers the probe asks the loop for: every asyncio timeout
(asyncio.timeout, wait_for, aiohttp's, the check engine's) goes through loop.call_at,
call_later included, and records the delay it was armed with whatever the load.
asyncio.sleep's timers are left out: in these tests they are the servers' pauses.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import asyncio.futures
from collections.abc import Iterator
from contextlib import contextmanager

#: A wall-clock bound only a hang breaks: the servers these tests make hold a connection
#: 5 s or 10 s and a black-holed connect waits ~127 s of SYN retries, where a loaded loop
#: runs late by milliseconds (well under a second even during a full CI run).
HANG = 4.0

#: Below the expected value, a delay may fall short by the time between the clock reading
#: a deadline is computed from and the call_at (a few statements; under load, a preemption).
#: Above it, only rounding: a deadline computed from an older reading is never longer.
SLACK = 0.1


@contextmanager
def armed() -> Iterator[list[float]]:
    """Collect the delay (seconds from now) of every timer armed on any event loop meanwhile."""
    delays: list[float] = []
    real = asyncio.base_events.BaseEventLoop.call_at

    def call_at(self, when, callback, *args, context=None):  # type: ignore[no-untyped-def]
        if callback is not asyncio.futures._set_result_unless_cancelled:  # asyncio.sleep
            delays.append(when - self.time())
        return real(self, when, callback, *args, context=context)

    asyncio.base_events.BaseEventLoop.call_at = call_at  # type: ignore[method-assign]
    try:
        yield delays
    finally:
        asyncio.base_events.BaseEventLoop.call_at = real  # type: ignore[method-assign]


def deadlines_are(delays: list[float], *expected: float) -> bool:
    """Every armed delay is one of `expected` (within SLACK below, 1 ms above), and every
    expected value was armed: the probe's deadlines are its configured ones, no others."""
    def match(d: float, e: float) -> bool:
        return e - SLACK < d <= e + 1e-3
    return (bool(delays) and all(any(match(d, e) for e in expected) for d in delays)
            and all(any(match(d, e) for d in delays) for e in expected))
