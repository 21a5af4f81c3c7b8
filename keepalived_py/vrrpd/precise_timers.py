"""VRRP timers on a timerfd: deadlines kept to the microsecond, not to uvloop's millisecond.

Why: uvloop (libuv) keeps its timers in whole milliseconds against a loop time cached at
each iteration, so a timer fires anywhere up to ~1 ms off its deadline, and the adverts'
send lateness and interval deviation cannot get under issue 16's 0.1 / 0.5 ms targets.
One CLOCK_MONOTONIC timerfd (absolute deadline, nanoseconds) watched by the loop wakes
epoll at the deadline itself; the deadlines live in a heap here. The runtime's clock
(clock.MonotonicClock, time.monotonic) is CLOCK_MONOTONIC, so its deadlines are the
timerfd's. Linux only: `make_scheduler` falls back to the loop's timers elsewhere.

A wake-up costs more than an advert here (epoll, the loop's iteration, the timerfd calls:
~40 us of CPU on these VMs against ~2 us per callback once awake), so one wake-up serves
every timer due by then, and each wake-up makes one timerfd call: re-arming (or disarming)
resets the timerfd's expiry count (fs/timerfd.c, timerfd_setup), which is what would
otherwise take a read(2) to clear.
"""

from __future__ import annotations

import contextlib
import ctypes
import heapq
import itertools
import os
from collections.abc import Callable
from typing import Any

CLOCK_MONOTONIC = 1
TFD_NONBLOCK = 0o4000
TFD_CLOEXEC = 0o2000000
TFD_TIMER_ABSTIME = 1
PR_SET_TIMERSLACK = 29
TIMER_SLACK_NS = 1000  # the kernel's default 50 us of slack is a tenth of the 0.5 ms target


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class _Handle:
    __slots__ = ("_entry", "_sched")

    def __init__(self, entry: list, sched: TimerFdScheduler) -> None:
        self._entry = entry
        self._sched = sched

    def cancel(self) -> None:
        if self._entry[2] is not None:
            self._entry[2] = None
            self._sched._cancelled(self._entry)


class TimerFdScheduler:
    """The Scheduler port (clock.py): call_at(at, callback, *args) -> handle.cancel()."""

    def __init__(self, loop: Any, clock: Any) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._settime = libc.timerfd_settime
        fd = libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        libc.prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0)  # best effort: the slack is this process's
        self.fd = fd
        self.loop = loop
        self.clock = clock
        self._heap: list[list] = []
        self._seq = itertools.count()
        self._armed: float | None = None
        self._firing = False
        self._spec = _Itimerspec()
        self._spec_ref = ctypes.byref(self._spec)  # made once: no allocation per arm
        self.wakeups = 0  # timerfd expiries handled (tests: no wake-up for a cancelled timer)
        loop.add_reader(fd, self._fire)

    def call_at(self, at: float, callback: Callable[..., object], *args: object) -> _Handle:
        entry = [at, next(self._seq), callback, args]
        heapq.heappush(self._heap, entry)
        if not self._firing and (self._armed is None or at < self._armed):
            self._arm(at)
        return _Handle(entry, self)

    def _cancelled(self, entry: list) -> None:
        """A BACKUP re-arms its master-down timer at every advert it hears: when the
        cancelled timer is the one the timerfd waits for, wait for the next live one
        instead of waking up for nothing (dead entries deeper in the heap are dropped
        when they surface, in _fire)."""
        heap = self._heap
        if self._firing or not heap or heap[0] is not entry:
            return
        while heap and heap[0][2] is None:
            heapq.heappop(heap)
        if heap:
            self._arm(heap[0][0])
        else:
            self._disarm()

    def _disarm(self) -> None:
        self._arm_raw(0, 0)
        self._armed = None

    def _arm(self, at: float) -> None:
        sec = int(at)
        nsec = int((at - sec) * 1e9)
        if sec <= 0 and nsec <= 0:
            nsec = 1  # a zero it_value disarms; "due already" must still fire
        self._arm_raw(sec, nsec)
        self._armed = at

    def _arm_raw(self, sec: int, nsec: int) -> None:
        """Absolute CLOCK_MONOTONIC expiry; 0, 0 disarms."""
        spec = self._spec
        spec.it_value.tv_sec = sec
        spec.it_value.tv_nsec = nsec
        if self._settime(self.fd, TFD_TIMER_ABSTIME, self._spec_ref, None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")

    def _fire(self) -> None:
        """Every timer due by now (the clock read again as the batch runs late), then one
        timerfd call: the next deadline, or disarmed; either clears the readiness."""
        self.wakeups += 1
        self._armed = None
        heap = self._heap
        now = self.clock.now()
        # timers armed by these callbacks wait for the next wake-up (at once when due),
        # so a callback that re-arms itself "now" cannot keep this loop spinning
        first_new = next(self._seq)
        self._firing = True
        try:
            while heap:
                entry = heap[0]
                if entry[2] is None:  # cancelled
                    heapq.heappop(heap)
                    continue
                if entry[1] > first_new:
                    break
                if entry[0] > now:
                    now = self.clock.now()
                    if entry[0] > now:
                        break
                heapq.heappop(heap)
                callback, args = entry[2], entry[3]
                entry[2] = None
                try:
                    callback(*args)
                except Exception as exc:  # noqa: BLE001 - one timer must not stop the others
                    self.loop.call_exception_handler({"message": "timer callback failed", "exception": exc})
        finally:
            self._firing = False
            while heap and heap[0][2] is None:
                heapq.heappop(heap)
            try:
                if heap:
                    self._arm(heap[0][0])
                else:
                    self._disarm()
            except OSError:
                # not re-armed: read the expiry instead, or the loop would call us again at once
                with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
                    os.read(self.fd, 8)
                raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self._heap.clear()


def make_scheduler(loop: Any, clock: Any, log: Any = None) -> Any:
    """A TimerFdScheduler, or None when timerfd is not available (the runtime then uses
    the loop's own timers). Only for the real monotonic clock: the timerfd counts on it."""
    from keepalived_py.clock import MonotonicClock

    if not isinstance(clock, MonotonicClock):
        return None
    try:
        return TimerFdScheduler(loop, clock)
    except (OSError, AttributeError, NotImplementedError) as exc:
        if log is not None:
            log.info(f"timerfd unavailable, VRRP timers on the event loop: {exc}")
        return None
