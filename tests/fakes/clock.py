"""Time for tests: a scheduler on a FakeClock, and a way to let an event loop catch up.

- `FakeScheduler`: the Scheduler port (keepalived_py/clock.py); `advance(seconds)` moves
  the clock and fires what is due, in deadline order, each at its own time.
- `run_for(sched, seconds)`: advance timer by timer, letting the loop run in between.
- `settle()`: after a timer started a task (a script run, a /proc scan), let the loop run
  it to its next real wait. It yields to the loop, it never sleeps.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

from keepalived_py.clock import FakeClock

__all__ = ["FakeClock", "FakeScheduler", "run_for", "settle"]


class _Handle:
    def __init__(self, entry: list) -> None:
        self._entry = entry

    def cancel(self) -> None:
        self._entry[3] = None

    @property
    def cancelled(self) -> bool:
        return self._entry[3] is None


class FakeScheduler:
    """call_at(at, cb, *args) on a FakeClock; advance() fires what is due, in order."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self._heap: list[list] = []
        self._seq = itertools.count()

    def call_at(self, at: float, callback, *args) -> _Handle:
        entry = [at, next(self._seq), args, callback]
        heapq.heappush(self._heap, entry)
        return _Handle(entry)

    def pending(self) -> list[tuple[float, tuple]]:
        return sorted((e[0], e[2]) for e in self._heap if e[3] is not None)

    def next_deadline(self) -> float | None:
        due = [e[0] for e in self._heap if e[3] is not None]
        return min(due) if due else None

    def advance(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self._heap and self._heap[0][0] <= end:
            at, _seq, args, cb = heapq.heappop(self._heap)
            if cb is None:
                continue
            if at > self.clock.now():
                self.clock.set(at)
            cb(*args)
        if end > self.clock.now():
            self.clock.set(end)


async def settle(rounds: int = 20) -> None:
    """Yield to the event loop `rounds` times: tasks that timers started run until they
    wait on something not yet done (a fake script's result, a future)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def run_for(sched: FakeScheduler, seconds: float) -> None:
    """Move the fake clock `seconds` on, one due timer at a time, letting the loop run what
    each timer started before the next fires (as a real loop would, given the time)."""
    end = sched.clock.now() + seconds
    await settle()
    while (due := sched.next_deadline()) is not None and due <= end:
        sched.advance(max(0.0, due - sched.clock.now()))
        await settle()
    sched.advance(max(0.0, end - sched.clock.now()))
    await settle()
