"""The scheduler's Task-free path (a probe module's `launch`) and its late-sweep grace, with a
fake clock and fake launchers: results flow through the same hysteresis as coroutine probes,
a reload or stop abandons launched checks (their late callbacks change nothing), and a guard
sweep that comes late (the loop was blocked) gives a probe its own turn before cutting it off."""

from __future__ import annotations

import asyncio

import pytest

from keepalived_py.check.hysteresis import Kind
from keepalived_py.check.quorum import Log, Pool
from keepalived_py.check.result import Result, Status
from keepalived_py.check.scheduler import GUARD_SLACK, LATE_TICK, Scheduler
from keepalived_py.clock import FakeClock
from tests.unit.check.test_spec_scheduler import build


class Handle:
    def __init__(self, target, done, token) -> None:
        self.target, self.done, self.token, self.cancelled = target, done, token, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLauncher:
    """A TCP probe module with `launch`: the test completes each check by hand."""

    def __init__(self) -> None:
        self.handles: list[Handle] = []

        async def probe(target, params):   # must not be used when launch exists
            raise AssertionError("the coroutine probe ran instead of launch")

        def launch(loop, target, done, token):
            h = Handle(target, done, token)
            self.handles.append(h)
            return h
        probe.launch = launch  # type: ignore[attr-defined]
        self.probe = probe

    def __call__(self, kind):
        return self.probe


def tcp_only():
    servers, specs = build()
    return servers, [s for s in specs if s.kind is Kind.TCP]


def test_launched_checks_go_through_the_hysteresis_without_a_task():
    servers, specs = tcp_only()
    tcp = specs[0]
    fake = FakeLauncher()
    out: list = []

    async def main():
        sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=out.extend, rand=lambda: 0.0,
                          probe_for=fake)
        sched.start()
        sched.clock.set(1.0)
        assert sched.tick() == 1 and sched.in_flight == 1
        assert not any(isinstance(t, asyncio.Task) for t in sched._running.values())
        assert sched._deadline == {}            # launched checks keep their own deadline
        h = fake.handles[0]
        assert h.target.address == "192.0.2.10" and h.target.timeout == 2
        sched.clock.set(1.01)
        h.done(h, Result(Status.OK, "connected"))
        assert sched.in_flight == 0 and sched.runs == 1
        assert sched.next_due() == 11.01       # delay_loop 10 after the end
        assert sched.states[tcp.id].is_up
        sched.clock.set(11.01)
        assert sched.tick() == 1
        h = fake.handles[1]
        sched.clock.set(11.02)
        h.done(h, Result(Status.FAILED, "connect failed: Connection refused"))
        assert sched.next_due() == 12.02       # delay_before_retry 1 after the end
        return sched
    sched = asyncio.run(main())
    assert sched.states[tcp.id].retry_it == 1 and sched.states[tcp.id].is_up
    assert sched.latency[tcp.id][2] == 2 and abs(sched.latency[tcp.id][0] - 0.01) < 1e-9


def test_reload_and_stop_abandon_launched_checks():
    servers, specs = tcp_only()
    tcp = specs[0]
    fake = FakeLauncher()
    out: list = []

    async def main():
        sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=out.extend, rand=lambda: 0.0,
                          probe_for=fake)
        sched.start()
        sched.clock.set(1.0)
        sched.tick()
        first = fake.handles[0]
        sched.reload(specs, servers)
        assert first.cancelled and sched.in_flight == 0
        runs = sched.runs
        first.done(first, Result(Status.FAILED, "late"))    # a callback racing the cancel
        assert sched.runs == runs and sched.in_flight == 0
        await sched.settle()                                  # nothing left to wait for
        sched.clock.set(2.0)
        sched.tick()
        second = fake.handles[1]
        await sched.stop()
        assert second.cancelled and sched.in_flight == 0
        second.done(second, Result(Status.OK))
        return sched
    sched = asyncio.run(main())
    assert sched.runs == 0
    assert not [d for d in out if isinstance(d, Log) and "TCP_CHECK on service" in d.text]
    assert tcp.id in sched.states


def test_a_late_sweep_gives_the_probe_its_turn_before_cutting_it_off():
    servers, specs = tcp_only()
    tcp = specs[0]

    async def main():
        async def hang(target, params):
            await asyncio.sleep(3600)
        sched = Scheduler([tcp], Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                          probe_for=lambda kind: hang)
        sched.guard = lambda spec: 0.05
        sched.start()
        sched.clock.set(1.0)
        sched.tick()
        await asyncio.sleep(0)
        late = 1.05 + LATE_TICK + 2.0            # the loop was blocked for 2 s past the guard
        sched.clock.set(late)
        sched.tick()
        await asyncio.sleep(0)
        assert sched.in_flight == 1, "a late sweep does not cut off at once"
        assert sched.next_wakeup() == late + GUARD_SLACK
        sched.clock.set(late + GUARD_SLACK)
        sched.tick()                             # the probe had its turn: now it goes
        await sched.settle()
        return sched
    sched = asyncio.run(main())
    assert sched.in_flight == 0 and sched.runs == 1
    assert sched.latency[tcp.id][2] == 1     # the cut-off counted as the run's (timed-out) result


def test_launched_checks_have_their_own_bound():
    """max_in_flight bounds the coroutine probes; launched checks wait on max_launched only,
    in order, and a freed slot lets the next one start."""
    from dataclasses import replace
    servers, specs = tcp_only()
    many = [replace(specs[0], id=("x", i)) for i in range(10)]
    fake = FakeLauncher()

    async def main():
        sched = Scheduler(many, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                          probe_for=fake, max_in_flight=1, max_launched=4)
        sched.start()
        sched.clock.set(1.0)
        assert sched.tick() == 4 and sched.in_flight == 4 and sched._stalled
        h = fake.handles[0]
        h.done(h, Result(Status.OK))
        assert sched.tick() == 1 and [x.token.cid for x in fake.handles] == [("x", i) for i in range(5)]
        return sched
    asyncio.run(main())


def test_a_steady_success_only_reschedules_and_anything_else_goes_through_apply():
    """The hot path (hysteresis.steady) schedules delay_loop after the end and emits nothing;
    a failure still takes the full path (its retry is counted and logged as before)."""
    servers, specs = tcp_only()
    tcp = specs[0]
    fake = FakeLauncher()
    out: list = []

    async def main():
        sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=out.extend, rand=lambda: 0.0,
                          probe_for=fake)
        sched.start()
        calls: list = []
        real_apply = sched.apply
        sched.apply = lambda *a: calls.append(a) or real_apply(*a)
        sched.clock.set(1.0)
        sched.tick()
        h = fake.handles[-1]
        sched.clock.set(1.01)
        h.done(h, Result(Status.OK, "connected"))      # first run: "success" logged, via apply
        assert len(calls) == 1
        emitted = len(out)
        for t in (11.01, 21.02):
            sched.clock.set(t)
            assert sched.tick() == 1
            h = fake.handles[-1]
            sched.clock.set(t + 0.01)
            h.done(h, Result(Status.OK, "connected"))
            assert sched.next_due() == t + 0.01 + 10   # delay_loop after the end
        assert len(calls) == 1 and len(out) == emitted  # steady: no apply, nothing emitted
        sched.clock.set(31.03)
        sched.tick()
        h = fake.handles[-1]
        h.done(h, Result(Status.FAILED, "connect failed: Connection refused"))
        assert len(calls) == 2 and sched.states[tcp.id].retry_it == 1
        assert sched.next_due() == 32.03                # delay_before_retry
        return sched
    sched = asyncio.run(main())
    assert sched.runs == 4 and sched.latency[tcp.id][2] == 4


def test_sleep_for_never_wakes_before_a_due_time_and_at_most_once_per_tick():
    from keepalived_py.check.scheduler import TICK
    servers, specs = tcp_only()
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                      probe_for=FakeLauncher())
    assert sched.sleep_for(0.0) is None                 # nothing scheduled
    sched._push(5.0, specs[0].id)
    assert sched.sleep_for(1.0) == 4.0                  # far away: exactly then
    assert abs(sched.sleep_for(4.999) - TICK) < 1e-9    # within a tick of now: the tick's end
    assert sched.sleep_for(5.0) == 0.0 and sched.sleep_for(6.0) == 0.0   # due: at once


def _steady_sched(fake, out):
    servers, specs = tcp_only()
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=out.extend, rand=lambda: 0.0,
                      probe_for=fake)
    sched.start()
    for t in (1.0, 11.02):           # the first run (via apply), then a steady one (the FIFO)
        sched.clock.set(t)
        assert sched.tick() == 1
        h = fake.handles[-1]
        sched.clock.set(t + 0.01)
        h.done(h, Result(Status.OK, "connected"))
    assert sched._fifos and sched.next_due() == 21.03
    return sched, servers, specs


def test_a_suspended_checker_skips_its_fifo_run_and_keeps_its_cadence():
    fake = FakeLauncher()
    out: list = []

    async def main():
        sched, _, specs = _steady_sched(fake, out)
        sched.suspend(specs[0].vs_key, True)
        launched = len(fake.handles)
        sched.clock.set(21.03)
        assert sched.tick() == 0 and len(fake.handles) == launched
        assert sched.next_due() == 31.03                # delay_loop later, as keepalived skips
        sched.suspend(specs[0].vs_key, False)
        sched.clock.set(31.03)
        assert sched.tick() == 1
    asyncio.run(main())


def test_reload_drops_the_old_fifo_runs():
    fake = FakeLauncher()
    out: list = []

    async def main():
        sched, servers, specs = _steady_sched(fake, out)
        sched.clock.set(12.0)
        sched.reload(specs, servers)
        assert not any(sched._fifos.values())
        assert sched.next_due() == 13.0                 # the fresh schedule (bootstrap delay)
        sched.clock.set(13.0)
        assert sched.tick() == 1
        sched.clock.set(21.03)                          # the old FIFO time: nothing stale runs
        assert sched.tick() == 0
    asyncio.run(main())


def test_a_launcher_is_bound_once_per_loop_and_again_after_a_reload():
    """A probe module's launcher(loop) gives the starter every check of its kind uses (the
    scheduler does not look the loop's engine up per check); a reload makes new slots, which
    are bound again, and a new loop gets a new starter."""
    servers, specs = tcp_only()
    fake = FakeLauncher()
    bound: list = []

    def launcher(loop):
        bound.append(loop)
        return lambda target, done, token: fake.probe.launch(loop, target, done, token)
    fake.probe.launcher = launcher  # type: ignore[attr-defined]
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                      probe_for=fake)

    async def first():
        sched.start()
        sched.clock.set(1.0)
        assert sched.tick() == len(specs)
        for h in list(fake.handles):
            h.done(h, Result(Status.OK, "connected"))
        sched.clock.set(12.0)
        assert sched.tick() == len(specs)
        assert len(bound) == 1
        sched.reload(specs, servers)
        sched.clock.set(13.0)
        assert sched.tick() == len(specs)
        assert len(bound) == 2 and bound[1] is bound[0]
    asyncio.run(first())

    async def second():
        sched.clock.set(14.0)
        for h in fake.handles[-len(specs):]:
            h.done(h, Result(Status.OK, "connected"))
        sched.clock.set(30.0)
        assert sched.tick() == len(specs)
        assert len(bound) == 3 and bound[2] is asyncio.get_running_loop()
    asyncio.run(second())
    assert len(fake.handles) == 4 * len(specs)


def test_a_steady_checker_that_fails_goes_through_the_hysteresis_again():
    """The per-slot steady flag follows the state: once worked out as steady (here after a
    reload), a failure that moves the checker clears it, so the next success is applied
    (retry count cleared), not merely rescheduled."""
    servers, specs = tcp_only()
    tcp = specs[0]
    fake = FakeLauncher()

    async def main():
        sched = Scheduler([tcp], Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                          probe_for=fake)
        sched.start()
        t = 1.0
        for status in (Status.OK, None, Status.OK, Status.FAILED, Status.OK):
            if status is None:     # a reload: new slots, the settled up state carried over
                sched.reload([tcp], servers)
                t = sched.next_due()
                continue
            sched.clock.set(t)
            assert sched.tick() == 1
            h = fake.handles[-1]
            h.done(h, Result(status, "x"))
            if status is Status.FAILED:
                assert sched.states[tcp.id].retry_it == 1
            t = sched.next_due()
        return sched
    sched = asyncio.run(main())
    state = sched.states[tcp.id]
    assert state.is_up and state.retry_it == 0 and sched.runs == 4


def test_run_ticks_from_loop_callbacks_and_ends_on_stop():
    """run()'s ticks are loop callbacks: a wake-up (here a freed slot's) runs the tick within
    one loop pass, and stop() ends run()."""
    fake = FakeLauncher()
    servers, specs = tcp_only()
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                      probe_for=fake, max_launched=1)
    sched.start()

    async def main():
        sched.clock.set(100.0)            # every checker due, one may run at a time
        task = asyncio.get_running_loop().create_task(sched.run())
        await asyncio.sleep(0)
        assert len(fake.handles) == 1 and sched._wake.timer is None   # stalled: no timer
        h = fake.handles[0]
        h.done(h, Result(Status.OK, "connected"))   # frees the slot: the tick is called soon
        assert sched._wake.soon is not None
        sched.clock.set(1000.0)                     # its next run is due by the time the tick runs
        await asyncio.sleep(0)
        assert len(fake.handles) == 2
        assert not task.done()
        await sched.stop()
        await asyncio.wait_for(task, 1)
        assert task.result() is None and sched._wake.soon is None and sched._wake.timer is None

    asyncio.run(main())


def test_run_sleeps_on_one_timer_and_raises_what_a_tick_raised():
    fake = FakeLauncher()
    servers, specs = tcp_only()
    sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                      probe_for=fake)
    sched.start()
    boom = RuntimeError("tick failed")

    async def main():
        task = asyncio.get_running_loop().create_task(sched.run())
        await asyncio.sleep(0)
        timer = sched._wake.timer
        assert timer is not None and sched._armed == sched.next_due()   # asleep until the first run
        sched._push(0.0, specs[0].id)      # an earlier due time wakes it: the old timer goes
        assert sched._wake.soon is not None

        def bad_tick():
            raise boom
        sched.tick = bad_tick
        try:
            await asyncio.wait_for(task, 1)
        except RuntimeError as e:
            assert e is boom
        else:
            raise AssertionError("run() did not raise the tick's error")
        assert timer.cancelled() and sched._wake.soon is None and sched._wake.timer is None

    asyncio.run(main())


def test_a_steady_run_due_while_launches_are_full_waits_its_turn():
    """A steady success's next run starts straight from its FIFO only with a launch slot free;
    otherwise it waits in the queue (stalled, not dropped) and starts when one frees."""
    fake = FakeLauncher()
    out: list = []

    async def main():
        sched, _, _ = _steady_sched(fake, out)
        n = len(fake.handles)
        sched.max_launched = 0            # full (runtime.py sets the bound this way)
        sched.clock.set(21.03)
        assert sched.tick() == 0 and len(fake.handles) == n
        assert sched._stalled and len(sched._waiting) == 1 and not any(sched._fifos.values())
        assert sched.sleep_for(21.03) is None                 # waits for a freed slot
        sched.max_launched = 1
        assert sched.tick() == 1 and len(fake.handles) == n + 1 and not sched._waiting
        assert sched.in_flight == 1
        assert sched.tick() == 0                              # running: not started twice
        h = fake.handles[-1]
        h.done(h, Result(Status.OK, "connected"))
        assert sched.in_flight == 0 and sched.next_due() == 21.03 + 10.0

    asyncio.run(main())


class FakeBurster(FakeLauncher):
    """A launcher with a batch starter too: each burst's outcomes come from `outcomes`
    (a float: succeeded at once at that time; "later": a handle that reports by hand)."""

    def __init__(self) -> None:
        super().__init__()
        self.bursts: list[list] = []
        self.outcomes: list = []

        def burster(loop):
            def burst(targets, tokens, done, clock):
                self.bursts.append(list(tokens))
                out = []
                for target, token in zip(targets, tokens, strict=True):
                    o = self.outcomes.pop(0)
                    if o == "later":
                        h = Handle(target, done, token)
                        self.handles.append(h)
                        out.append(h)
                    else:
                        out.append(o)
                return out
            return burst
        self.probe.burster = burster  # type: ignore[attr-defined]


def test_due_steady_checks_go_to_the_batch_starter_and_their_successes_are_booked():
    """A steady checker's FIFO run goes through the kind's batch starter, one call per tick;
    a success at once is booked as _launched_done books one (next run delay_loop after its
    time, a run and its latency counted, nothing applied or emitted); a check that reports
    later is in flight and its failure goes through the hysteresis."""
    fake = FakeBurster()
    out: list = []

    async def main():
        sched, _, specs = _steady_sched(fake, out)
        tcp = specs[0]
        calls: list = []
        real_apply = sched.apply
        sched.apply = lambda *a: calls.append(a) or real_apply(*a)
        emitted, launched, runs = len(out), len(fake.handles), sched.runs
        fake.outcomes = [21.05]
        sched.clock.set(21.03)
        assert sched.tick() == 1 and len(fake.bursts) == 1 and len(fake.handles) == launched
        assert sched.in_flight == 0 and sched.runs == runs + 1
        assert sched.next_due() == pytest.approx(31.05)      # delay_loop after its success
        assert sched.latency[tcp.id][0] == pytest.approx(0.02)
        assert calls == [] and len(out) == emitted
        fake.outcomes = ["later"]
        sched.clock.set(31.05)
        assert sched.tick() == 1 and sched.in_flight == 1
        h = fake.handles[-1]
        sched.clock.set(31.06)
        h.done(h, Result(Status.FAILED, "connect failed: Connection refused"))
        assert len(calls) == 1 and sched.states[tcp.id].retry_it == 1 and sched.in_flight == 0
        assert sched.next_due() == pytest.approx(32.06)      # delay_before_retry, via the heap
        sched.clock.set(32.06)
        assert sched.tick() == 1 and len(fake.bursts) == 2   # not steady: the plain starter
    asyncio.run(main())


TWO_TCP = """
virtual_server 192.0.2.1 80 {
    delay_loop 10
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.10 80 {
        TCP_CHECK {
            connect_timeout 2
        }
    }
    real_server 192.0.2.11 80 {
        TCP_CHECK {
            connect_timeout 2
        }
    }
}
"""


def test_a_batch_never_takes_more_checks_than_the_launch_bound():
    """Checks in a batch count against max_launched while it is built: with one launch
    slot, the second due checker waits in the queue for the first to finish."""
    from keepalived_py.check import spec as specmod
    from tests.unit.check.test_spec_scheduler import load_text
    servers, specs = specmod.build(load_text(TWO_TCP).config)
    assert len(specs) == 2
    fake = FakeBurster()

    async def main():
        sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                          probe_for=fake, max_launched=1)
        sched.start()
        for t in (1.0, 11.1):            # the first runs (applied), then the steady ones
            for i in range(2):           # one at a time: one launch slot
                sched.clock.set(t + i * 0.01)
                assert sched.tick() == 1
                h = fake.handles[-1]
                h.done(h, Result(Status.OK, "connected"))
        assert fake.bursts == [] and len(sched._fifos[10.0]) == 2
        fake.outcomes = ["later", "later"]
        sched.clock.set(100.0)
        assert sched.tick() == 1
        assert [len(b) for b in fake.bursts] == [1] and sched.in_flight == 1 and len(sched._waiting) == 1
        h = fake.handles[-1]
        h.done(h, Result(Status.OK, "connected"))
        assert sched.tick() == 1 and sched.in_flight == 1 and not sched._waiting   # the queue's way
        assert len(fake.bursts) == 1
    asyncio.run(main())


@pytest.mark.parametrize("batched", [False, True])
def test_the_grids_lateness_is_not_carried_into_the_next_run_but_overload_is(batched):
    """keepalived runs a checker again delay_loop after its check ended, on its own timer. A
    steady run the 10 ms grid started 5 ms late is booked from the end it would have had on
    time (the cadence stays keepalived's); a loop that is itself late by more than the grid
    (overload) is not made up for: only MAKE_UP (twice the grid) of it comes off."""
    from keepalived_py.check.launched import MAKE_UP
    fake = FakeBurster() if batched else FakeLauncher()
    out: list = []

    async def main():
        sched, _, specs = _steady_sched(fake, out)      # steady; next run due at 21.03

        def run(at: float, ends: float) -> None:
            sched.clock.set(at)
            if batched:
                fake.outcomes = [ends]
                assert sched.tick() == 1
                return
            assert sched.tick() == 1
            h = fake.handles[-1]
            sched.clock.set(ends)
            h.done(h, Result(Status.OK, "connected"))
        run(21.035, 21.04)                              # 5 ms late: the grid's
        assert sched.next_due() == pytest.approx(31.035)
        run(31.035 + 0.05, 31.09)                       # 50 ms late: the loop's own
        assert sched.next_due() == pytest.approx(41.09 - MAKE_UP)
    asyncio.run(main())


def test_a_check_later_in_a_batch_is_booked_from_its_own_begin():
    """keepalived begins each check at its own time; in a batch a check begins as the one
    before it ends, and that wait (with the grid's, at most MAKE_UP in all) is not carried into
    its next run either: both checks below keep a delay_loop 10 cadence from their due time
    plus their own duration."""
    from keepalived_py.check import spec as specmod
    from tests.unit.check.test_spec_scheduler import load_text
    servers, specs = specmod.build(load_text(TWO_TCP).config)
    fake = FakeBurster()

    async def main():
        sched = Scheduler(specs, Pool(servers), clock=FakeClock(0.0), emit=lambda d: None, rand=lambda: 0.0,
                          probe_for=fake)
        sched.start()
        for t in (1.0, 11.02):               # the first runs (applied), then steady ones
            sched.clock.set(t)
            assert sched.tick() == 2
            for h in fake.handles[-2:]:
                sched.clock.set(t + 0.01)
                h.done(h, Result(Status.OK, "connected"))
        assert [e[0] for e in sched._fifos[10.0]] == [pytest.approx(21.03)] * 2
        fake.outcomes = [21.036, 21.040]     # 1 ms and 4 ms checks, one after the other
        sched.clock.set(21.035)              # the grid: 5 ms late
        assert sched.tick() == 2 and fake.bursts[-1] and len(fake.bursts[-1]) == 2
        assert sorted(e[0] for e in sched._fifos[10.0]) == [pytest.approx(31.031), pytest.approx(31.034)]
        lat = sorted(sched.latency[s.id][0] for s in specs)
        assert lat == [pytest.approx(0.001), pytest.approx(0.004)]
    asyncio.run(main())
