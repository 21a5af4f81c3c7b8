"""The timerfd scheduler the vrrp child uses (vrrpd/precise_timers.py) on a real event loop
(asyncio and uvloop): deadline order, never before a deadline (the kernel's timerfd
guarantee, checked on the same monotonic clock), cancel, and a callback re-arming itself
"now" does not starve the loop. Real time, a few tens of milliseconds; no upper bound on
lateness is asserted (a loaded CI machine decides that, `make bench` reports it)."""

from __future__ import annotations

import asyncio

import pytest

from keepalived_py.clock import MonotonicClock
from keepalived_py.vrrpd.precise_timers import TimerFdScheduler, make_scheduler


def _loops():
    out = [asyncio.new_event_loop]
    try:
        import uvloop
        out.append(uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop is a dependency
        pass
    return out


@pytest.mark.parametrize("new_loop", _loops(), ids=lambda f: f.__module__.split(".")[0])
def test_order_cancel_and_never_early(new_loop):
    loop = new_loop()
    clock = MonotonicClock()
    try:
        async def go():
            sched = make_scheduler(asyncio.get_running_loop(), clock)
            assert isinstance(sched, TimerFdScheduler)
            fired: list[tuple[str, float, float]] = []
            done = asyncio.Event()

            def cb(name: str, at: float) -> None:
                fired.append((name, at, clock.now()))
                if name == "last":
                    done.set()

            t0 = clock.now()
            sched.call_at(t0 + 0.020, cb, "b", t0 + 0.020)
            sched.call_at(t0 + 0.010, cb, "a", t0 + 0.010)
            gone = sched.call_at(t0 + 0.015, cb, "cancelled", t0 + 0.015)
            sched.call_at(t0 - 1.0, cb, "past", t0 - 1.0)  # due already: fires at once
            sched.call_at(t0 + 0.030, cb, "last", t0 + 0.030)
            gone.cancel()
            await asyncio.wait_for(done.wait(), 10)
            sched.close()
            return fired

        fired = loop.run_until_complete(go())
    finally:
        loop.close()
    assert [f[0] for f in fired] == ["past", "a", "b", "last"]
    assert all(now >= at for _n, at, now in fired), fired


def test_self_rearming_callback_lets_the_loop_run():
    loop = asyncio.new_event_loop()
    clock = MonotonicClock()
    try:
        async def go():
            sched = make_scheduler(asyncio.get_running_loop(), clock)
            count = 0

            def again() -> None:
                nonlocal count
                count += 1
                sched.call_at(clock.now(), again)

            sched.call_at(clock.now(), again)
            await asyncio.sleep(0.05)  # the loop still runs other work
            n = count
            sched.close()
            return n

        n = loop.run_until_complete(go())
    finally:
        loop.close()
    assert n > 1


def test_cancelled_next_timer_costs_no_wakeup():
    loop = asyncio.new_event_loop()
    clock = MonotonicClock()
    try:
        async def go():
            sched = make_scheduler(asyncio.get_running_loop(), clock)
            done = asyncio.Event()
            t0 = clock.now()
            first = sched.call_at(t0 + 0.02, done.set)  # armed, then re-armed elsewhere:
            first.cancel()                              # a BACKUP hearing an advert
            sched.call_at(t0 + 0.04, done.set)
            await asyncio.wait_for(done.wait(), 10)
            n = sched.wakeups
            sched.close()
            return n

        assert loop.run_until_complete(go()) == 1
    finally:
        loop.close()


def test_fake_clock_gets_no_timerfd():
    from keepalived_py.clock import FakeClock

    assert make_scheduler(None, FakeClock()) is None


@pytest.mark.parametrize("new_loop", _loops(), ids=lambda f: f.__module__.split(".")[0])
def test_one_wakeup_per_slot_and_no_read_needed(new_loop):
    """Timers on one deadline share a wake-up; after it the timerfd is re-armed without a
    read(2) (re-arming resets its expiry count), so the loop does not call the scheduler
    again before the next deadline: exactly one wake-up per distinct deadline."""
    loop = new_loop()
    clock = MonotonicClock()
    try:
        async def go():
            sched = make_scheduler(asyncio.get_running_loop(), clock)
            fired: list[int] = []
            done = asyncio.Event()
            t0 = clock.now()
            for i in range(50):
                sched.call_at(t0 + 0.010, fired.append, i)
            sched.call_at(t0 + 0.040, fired.append, 50)
            sched.call_at(t0 + 0.060, done.set)
            await asyncio.wait_for(done.wait(), 10)
            await asyncio.sleep(0.02)  # nothing armed now: a readable fd would show here
            n = sched.wakeups
            sched.close()
            return fired, n

        fired, n = loop.run_until_complete(go())
    finally:
        loop.close()
    assert fired == list(range(51))
    assert n == 3
