"""Time as an input: the one monotonic clock the adapters read, and a fake for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...


class MonotonicClock:
    """The real clock, used only by I/O adapters."""

    def now(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock tests move by hand; pure code never sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        if when < self._now:
            raise ValueError("time does not go backwards")
        self._now = when


class Timer(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """Calls `callback(*args)` once the clock reaches `at`; tests pass one that fires due
    timers in deadline order on a FakeClock (tests/fakes/clock.py)."""

    def call_at(self, at: float, callback: Callable[..., object], *args: object) -> Timer: ...


class LoopScheduler:
    """Timers on an event loop, deadlines on a Clock (both monotonic). Used only by I/O
    adapters: the loop is passed in, so this module does not import asyncio."""

    def __init__(self, loop, clock: Clock) -> None:
        self.loop = loop
        self.clock = clock

    def call_at(self, at: float, callback: Callable[..., object], *args: object) -> Timer:
        delay = max(0.0, at - self.clock.now())
        return self.loop.call_at(self.loop.time() + delay, callback, *args)
