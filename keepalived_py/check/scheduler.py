"""Cadence and timeouts for every checker of the check child, on one event loop.

The scheduler owns the timer heap (when each checker runs next), a bounded number of probes
in flight, and feeds each result through the pure parts: hysteresis.on_result() for the
checker, then the quorum Pool for its real server. Decisions (keepalived's log lines, notify
requests, DestChanged for the IPVS plan) go to `emit`. Time comes from an injected clock
(`clock.now()`), randomness (warmup) from an injected `rand()`, probes from an injected
`probe_for(kind)`, so tests run it with a fake clock and fake probes and no sleeping.

A probe module may offer `probe.launch(loop, target, done, token)` (TCP_CHECK does: see
check.fastconnect): the scheduler then starts it without a Task, and it reports through
`done(handle, result, _)` within its own timeout, so it needs no outer guard. With
`probe.launcher(loop)` as well, the starter it returns is bound once per loop (and reload).

Guarantees: a probe that overruns its own timeouts is cut off by an outer guard (a sweep at
each tick; a probe found overdue by more than LATE_TICK gets GUARD_SLACK more from that
moment, so a loop that was itself late does not cut off probes that never had their turn) and counts as a timeout; a probe that raises counts as a failure with the exception as its reason; when
`max_in_flight` probes are running, due checkers queue in order and start as slots free.
Checkers of a suspended virtual server (ha_suspend) skip their runs, delay_loop apart, as
keepalived's do. FILE_CHECKs have no runs: `file_value()` reports a tracked file's new value.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from keepalived_py.check import hysteresis as hy
from keepalived_py.check import reload as reloading
from keepalived_py.check.kinds import probe_for as default_probe_for
from keepalived_py.check.kinds.base import Resources, Target
from keepalived_py.check.launched import TICK, LaunchedMixin, Slot
from keepalived_py.check.quorum import Decision, Log, Pool
from keepalived_py.check.result import Result, Status
from keepalived_py.check.spec import CheckerSpec
from keepalived_py.clock import MonotonicClock

_OK = Status.OK
#: the outer guard: a probe gets its own time limit plus this much before it is cut off
GUARD_SLACK = 1.0
#: a sweep this long after a guard deadline means the loop itself was late (blocked): the
#: probe may not have had its own turn yet, so it gets GUARD_SLACK from now first
LATE_TICK = 0.25
#: a MISC_CHECK script that ignores SIGTERM is killed 2 s later, reaped up to 2 s after that
MISC_GUARD = 5.0


class _Wake:
    """run()'s wake-up: the tick runs as a loop callback (`step`), called soon by set() (a
    freed slot, an earlier due time, stop()) or by the sleep's timer. Why not a Task waiting on
    an Event or a future: every wake-up (up to 100 a second) would add a future, its done
    callback, a Task step and a coroutine resume to the tick itself."""

    __slots__ = ("flag", "loop", "step", "soon", "timer")

    def __init__(self, loop: Any, step: Callable[[], None] | None) -> None:
        self.flag = False
        self.loop = loop
        #: the tick callback while run() runs (None: set() only records the flag)
        self.step = step
        self.soon: Any = None
        self.timer: Any = None

    def set(self) -> None:
        self.flag = True
        if self.soon is None and self.step is not None:
            self.soon = self.loop.call_soon(self.step)

    def disarm(self) -> None:
        """Drop the pending call and the sleep's timer (the step runs now, or run() ends)."""
        soon, timer = self.soon, self.timer
        if soon is not None:
            self.soon = None
            soon.cancel()
        if timer is not None:
            self.timer = None
            timer.cancel()


class Scheduler(LaunchedMixin):
    def __init__(self, specs: Iterable[CheckerSpec], pool: Pool, *, clock, emit: Callable[[list[Decision]], None],
                 rand: Callable[[], float] = random.random, resources: Resources | None = None,
                 probe_for=default_probe_for, max_in_flight: int = 512, log_all: bool = False,
                 max_launched: int | None = None) -> None:
        self.pool = pool
        self.clock = clock
        #: clock.now without a Python frame for the real clock (read per check and per tick)
        self._now: Callable[[], float] = time.monotonic if type(clock) is MonotonicClock else clock.now
        #: the loop the slots' `start` are bound to
        self._bound_loop: Any = None
        self.emit = emit
        self.rand = rand
        self.resources = resources or Resources()
        self.probe_for = probe_for
        self.max_in_flight = max(1, max_in_flight)
        #: launched checks cost an fd each, not a Task: their own, larger bound (the caller
        #: sizes it to the fd limit), so a crowd of dead servers waiting out their
        #: connect_timeout does not hold the healthy ones' checks back
        self.max_launched = max(1, max_launched if max_launched is not None else max_in_flight)
        #: how many launched checks are in flight (slots whose `handle` is set), apart from
        #: the Tasks in _running: a count, not a set of slots, on the hot path
        self._launched = 0
        self._slots: dict[Hashable, Slot] = {}
        self._stalled = False
        self.log_all = log_all
        self.specs: dict[Hashable, CheckerSpec] = {s.id: s for s in specs}
        self.states: dict[Hashable, hy.CheckerState] = {}
        self._heap: list[tuple[float, int, Hashable]] = []
        #: steady successes' next runs: one FIFO per delay_loop (pushed at now + delay_loop, so
        #: each is in time order), entries (time, slot index): no heap sift, and number-only
        #: tuples the cyclic collector stops tracking
        self._fifos: dict[float, deque[tuple[float, int]]] = {}
        self._slot_list: list[Slot] = []
        self._seq = 0
        self._waiting: deque[Slot] = deque()
        #: a Task per coroutine probe, a handle with .cancel() per launched one
        self._running: dict[Hashable, Any] = {}
        self._launchers: dict[hy.Kind, Callable | None] = {}
        #: overdue probes given their one grace period
        self._graced: set[Hashable] = set()
        #: when run() will wake by itself: a push due later needs no wake-up
        self._armed: float | None = None
        #: when each running probe must have finished (the outer guard), and those cut off
        self._deadline: dict[Hashable, float] = {}
        self._cut_off: set[Hashable] = set()
        self._targets: dict[Hashable, tuple[int, Target]] = {}
        #: probes of a previous configuration, cancelled by reload(), not yet finished
        self._orphans: set[asyncio.Task] = set()
        self._scripts: dict[Hashable, object] = {}
        self._probes: dict[hy.Kind, object] = {}
        self._suspended: set[Hashable] = set()
        self._wake: _Wake | None = None
        #: run()'s end: stop(), or the error a tick raised
        self._ended: asyncio.Future | None = None
        self._stopped = False
        self.runs = 0
        #: per checker: [last probe's duration, sum of durations, probes] in seconds, for the
        #: metrics view (observe/check.py); updated in place
        self.latency: dict[Hashable, list] = {}

    # ------------------------------------------------------------------ start-up
    def start(self, file_values: dict[str, int] | None = None) -> list[Decision]:
        """Initial checker states, the pool's start (init_services) and every first run
        (BOOTSTRAP_DELAY + warmup x rand()); FILE_CHECKs take `file_values` (path -> value)."""
        file_values = file_values or {}
        self._load_probes()
        now = self.clock.now()
        down: dict[tuple, set] = {}
        activating: list[Decision] = self._prepare_scripts()
        self._make_slots()
        for cid, spec in self.specs.items():
            if spec.kind is hy.Kind.FILE:
                state = hy.file_initial(spec.policy, file_values.get(spec.file_path or "", 0))
                if state.cur_weight:
                    self.pool.weights(spec.vs_key, spec.rs_key, {cid: state.cur_weight})
            elif spec.kind in hy.EVENT_DRIVEN:   # BFD_CHECK: the bfd child's reports move it
                state = hy.initial(spec.policy)
            else:
                state = hy.initial(spec.policy)
                self._push(now + hy.first_delay(spec.policy, self.rand()), cid)
                verb = "Dea" if spec.vs_key in self._suspended else "A"
                activating.append(Log(f"{verb}ctivating healthchecker for service {spec.policy.rs_label} "
                                      f"for VS {spec.policy.vs_label}"))
            self.states[cid] = state
            if not state.is_up:
                down.setdefault((spec.vs_key, spec.rs_key), set()).add(cid)
        out = activating + self.pool.start(down)
        self.emit(out)
        return out

    def _load_probes(self) -> None:
        """Import every probe module in use now: an import on the loop while probes run
        (aiohttp takes a while) would hold their timers up and fail them."""
        self._probes = {kind: self.probe_for(kind) for kind in {s.kind for s in self.specs.values()}
                        if kind not in hy.EVENT_DRIVEN}
        self._launchers = {kind: getattr(p, "launch", None) for kind, p in self._probes.items()}

    def _prepare_scripts(self) -> list[Decision]:
        """MISC_CHECK scripts are resolved once (user, check_script_secure); a script keepalived
        would not run takes its checker away, as check_misc_script_security() does."""
        out: list[Decision] = []
        self._scripts = {}
        runner = self.resources.runner
        if runner is None:
            return out
        from keepalived_py.check.kinds.misc import prepare_why
        for cid, spec in list(self.specs.items()):
            if spec.kind is not hy.Kind.MISC:
                continue
            script, why = prepare_why(runner, spec.params)
            if script is None:
                if why:
                    out.append(Log(why))
                del self.specs[cid]
            else:
                self._scripts[cid] = script
        return out

    def _push(self, when: float, key: Hashable) -> None:
        """`key`: a checker id, or its Slot (no id hash on the hot path)."""
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, key))
        if self._wake is not None and (self._armed is None or when < self._armed):
            self._wake.set()

    def next_due(self) -> float | None:
        due = self._heap[0][0] if self._heap else None
        for q in self._fifos.values():
            if q and (due is None or q[0][0] < due):
                due = q[0][0]
        return due

    @property
    def in_flight(self) -> int:
        return len(self._running) + self._launched

    # ------------------------------------------------------------------ suspension (ha_suspend)
    def suspend(self, vs_key: Hashable, suspended: bool) -> list[Decision]:
        """ha_suspend: the virtual server's address went away (suspended) or came back
        (check_api.c update_checker_activity: "Suspending/Activating healthchecker ...")."""
        if suspended == (vs_key in self._suspended):
            return []
        if suspended:
            self._suspended.add(vs_key)
        else:
            self._suspended.discard(vs_key)
        verb = "Suspend" if suspended else "Activat"
        out: list[Decision] = [Log(f"{verb}ing healthchecker for service {s.policy.rs_label} for VS "
                                   f"{s.policy.vs_label}")
                               for s in self.specs.values() if s.vs_key == vs_key and s.kind not in hy.EVENT_DRIVEN]
        if self.states:   # after start(): report; before, start() says "Deactivating"
            self.emit(out)
        return out

    # ------------------------------------------------------------------ running
    def tick(self) -> int:
        """Start every checker that is due (up to max_in_flight); returns how many started."""
        now = self._now()
        self._watchdog(now)
        slots, heap, waiting = self._slots, self._heap, self._waiting
        while heap and heap[0][0] <= now:
            key = heapq.heappop(heap)[2]     # a slot (the hot path pushes those) or a checker id
            slot = key if key.__class__ is Slot else slots.get(key)
            if slot is None:
                continue  # removed
            if self._suspended and slot.spec.vs_key in self._suspended:
                self._push(now + slot.spec.policy.delay_loop, slot)
                continue
            slot.late = 0.0
            waiting.append(slot)
        started = 0
        self._stalled = False
        loop = None
        states = self.states
        if self._fifos:
            started, loop = self._start_steady(now, waiting)
        if waiting and loop is None:
            loop = self._loop()
            if loop is not self._bound_loop:
                self._bind(loop)
        while waiting:
            slot = waiting[0]
            cid, spec, launch = slot.cid, slot.spec, slot.launch
            if slot.handle is not None or (launch is None and cid in self._running):
                waiting.popleft()
                continue
            full = (self._launched >= self.max_launched if launch is not None
                    else len(self._running) >= self.max_in_flight)
            if full:             # in order: the head waits for a slot of its own kind
                self._stalled = True
                break
            waiting.popleft()
            if launch is not None:
                if slot.target is None or slot.per_url:
                    slot.target = self.target(spec, states[cid])
                slot.started = now
                slot.handle = slot.start(slot.target, self._launched_done, slot)  # type: ignore[misc]
                self._launched += 1
            else:
                self._running[cid] = loop.create_task(self._run_one(cid))  # type: ignore[union-attr]
                self._deadline[cid] = now + self.guard(spec)
            started += 1
        return started

    def _loop(self) -> Any:
        """The running loop: run()'s own while it runs. Why not always get_running_loop():
        it costs a getpid() system call (its fork check) on every tick."""
        wake = self._wake
        return wake.loop if wake is not None and wake.step is not None else asyncio.get_running_loop()

    def _watchdog(self, now: float) -> None:
        """Cut off probes that overran their guard (one sweep per tick, not a timer per probe)."""
        for cid, deadline in list(self._deadline.items()):
            if deadline <= now and cid in self._running and cid not in self._cut_off:
                if now - deadline > LATE_TICK and cid not in self._graced:
                    self._graced.add(cid)
                    self._deadline[cid] = now + GUARD_SLACK
                    continue
                self._cut_off.add(cid)
                self._running[cid].cancel()

    def next_wakeup(self) -> float | None:
        """The earliest of the next due run and the next guard deadline."""
        times = [t for t in (self.next_due(), min(self._deadline.values(), default=None)) if t is not None]
        return min(times) if times else None

    def target(self, spec: CheckerSpec, state: hy.CheckerState) -> Target:
        cached = self._targets.get(spec.id)
        if cached is not None and cached[0] == state.url_it:
            return cached[1]
        target = self._make_target(spec, state)
        self._targets[spec.id] = (state.url_it, target)
        return target

    def _make_target(self, spec: CheckerSpec, state: hy.CheckerState) -> Target:
        ep = spec.endpoint
        url = state.url_it
        vhost = ep.vhosts[url] if url < len(ep.vhosts) else None
        return Target(address=ep.address, port=ep.port, timeout=ep.timeout, bindto=ep.bindto,
                      bind_port=ep.bind_port, bind_if=ep.bind_if, fwmark=ep.fwmark, label=spec.policy.rs_label,
                      virtualhost=vhost, url_index=url, script=self._scripts.get(spec.id),
                      script_timeout=ep.script_timeout, resources=self.resources)

    def guard(self, spec: CheckerSpec) -> float:
        ep = spec.endpoint
        if spec.kind is hy.Kind.MISC:
            return (ep.script_timeout or ep.timeout) + MISC_GUARD
        if spec.kind in (hy.Kind.HTTP, hy.Kind.SSL):
            return ep.timeout * self.resources.http_total_factor + GUARD_SLACK
        if spec.kind is hy.Kind.SMTP:
            return ep.timeout * 4 + GUARD_SLACK   # connect, banner, HELO, QUIT
        return ep.timeout + GUARD_SLACK

    async def _run_one(self, cid: Hashable) -> None:
        spec = self.specs[cid]
        started = self.clock.now()
        try:
            probe = self._probes.get(spec.kind) or self.probe_for(spec.kind)
            try:
                result = await probe(self.target(spec, self.states[cid]), spec.params)
            except asyncio.CancelledError:
                if cid not in self._cut_off or self._stopped:
                    raise
                result = Result(Status.TIMEOUT, "probe did not finish in time")
            except Exception as e:  # a bug in a probe must not stop the others
                result = Result(Status.FAILED, f"probe error: {type(e).__name__}: {e}"[:300])
            self.runs += 1
            took = self.clock.now() - started
            lat = self.latency.setdefault(cid, [0.0, 0.0, 0])
            lat[0] = took
            lat[1] += took
            lat[2] += 1
            if cid in self.specs and not self._stopped:
                self.emit(self.apply(cid, result, started))
        finally:
            if self._running.get(cid) is asyncio.current_task():
                del self._running[cid]
                self._deadline.pop(cid, None)
                self._cut_off.discard(cid)
                self._graced.discard(cid)
            if self._wake is not None:
                self._wake.set()

    def apply(self, cid: Hashable, result: Result, started: float) -> list[Decision]:
        """Feed one result through the hysteresis and the pool; schedule the next run."""
        spec = self.specs[cid]
        step = hy.on_result(spec.policy, self.states[cid], result, log_all=self.log_all)
        self.states[cid] = step.state
        slot = self._slots.get(cid)
        if slot is not None:
            slot.state, slot.steady = step.state, None
        out: list[Decision] = [Log(text) for text in step.logs]
        out += self._verdict(spec, step)
        now = self.clock.now()
        when = (started if step.from_start else now) + step.delay
        self._push(max(when, now), cid)
        return out

    def _verdict(self, spec: CheckerSpec, step: hy.Step) -> list[Decision]:
        out: list[Decision] = []
        if step.weight is not None:
            out += self.pool.weight(spec.vs_key, spec.rs_key, spec.id, step.weight, quiet=step.weight_quiet)
        if step.verdict is not None:
            out += self.pool.checker(spec.vs_key, spec.rs_key, spec.id, step.verdict, alpha=spec.policy.alpha)
        return out

    def file_value(self, path: str, value: int) -> list[Decision]:
        """A tracked file now holds `value`: every FILE_CHECK on it moves."""
        out: list[Decision] = []
        for cid, spec in self.specs.items():
            if spec.kind is hy.Kind.FILE and spec.file_path == path:
                step = hy.file_update(spec.policy, self.states[cid], value)
                self.states[cid] = step.state
                out += self._verdict(spec, step)
        if out:
            self.emit(out)
        return out

    async def settle(self) -> None:
        """Wait until no probe is running (tests, and stop())."""
        while self._running or self._orphans or self._launched:
            tasks = [t for t in self._running.values() if isinstance(t, asyncio.Future)] + list(self._orphans)
            if not tasks:   # launched probes only: they call back on the loop
                await asyncio.sleep(0.001 if self._launched_pending() else 0)
                continue
            await asyncio.gather(*tasks, return_exceptions=True)
            self._orphans.difference_update(tasks)

    def reload(self, specs: Iterable[CheckerSpec], servers, file_values: dict[str, int] | None = None) -> list[Decision]:
        """A new configuration (SIGHUP): checker and server states carried over as keepalived
        does (reload.py), probes in flight abandoned, every checker scheduled afresh."""
        old_specs = self.specs
        self.specs = {s.id: s for s in specs}
        self._load_probes()
        prepared = self._prepare_scripts()
        new_specs = self.specs
        new_pool = Pool(servers, rs_init_notifies=self.pool.rs_init_notifies,
                        no_checker_emails=self.pool.no_checker_emails)
        states = reloading.migrate_states(old_specs, self.states, new_specs, self.pool)
        file_values = file_values or {}
        for cid, spec in new_specs.items():
            if spec.kind is hy.Kind.FILE:
                value = file_values.get(spec.file_path or "", states[cid].file_value)
                states[cid] = hy.file_initial(spec.policy, value)
        for task in self._running.values():
            task.cancel()
            if isinstance(task, asyncio.Future):
                self._orphans.add(task)
        self._running.clear()
        self._abandon_launched()
        self._deadline.clear()
        self._cut_off.clear()
        self._graced.clear()
        self._waiting.clear()
        self._targets.clear()
        down: dict[tuple, set] = {}
        for cid, state in states.items():
            spec = new_specs[cid]
            if state.cur_weight:
                new_pool.weights(spec.vs_key, spec.rs_key, {cid: state.cur_weight})
            if not state.is_up:
                down.setdefault((spec.vs_key, spec.rs_key), set()).add(cid)
        out = prepared + reloading.adopt(new_pool, self.pool, down)
        self.pool, self.states = new_pool, states
        self.latency = {cid: v for cid, v in self.latency.items() if cid in new_specs}
        self._make_slots()
        self._heap = []
        now = self.clock.now()
        for cid, spec in new_specs.items():
            if spec.kind not in hy.EVENT_DRIVEN:
                self._push(now + hy.first_delay(spec.policy, self.rand()), cid)
                verb = "Dea" if spec.vs_key in self._suspended else "A"
                out.append(Log(f"{verb}ctivating healthchecker for service {spec.policy.rs_label} "
                               f"for VS {spec.policy.vs_label}"))
        self.emit(out)
        return out

    def sleep_for(self, now: float) -> float | None:
        """How long run() sleeps after a tick at `now` (None: until woken). Never past the
        next due time by more than TICK, never before it; while checks keep coming due, one
        wake-up per TICK serves all that fell due meanwhile (a next due time within TICK of
        this tick waits for the tick's end)."""
        if self._waiting and self._stalled:
            return None               # wait for a slot
        due = self.next_wakeup()
        if due is None:
            return None
        return max(due, now + TICK) - now if due > now else 0.0

    async def run(self) -> None:
        """Run checkers until stop(): start what is due, sleep until the next due time or a
        freed slot. The ticks are loop callbacks (_step); this coroutine only waits for the
        end (stop(), or an error a tick raised, which it raises as before)."""
        loop = asyncio.get_running_loop()
        ended = self._ended = loop.create_future()
        wake = self._wake = _Wake(loop, self._step)
        try:
            self._step()
            await ended
        finally:
            wake.step = None
            wake.disarm()
            self._ended = None

    def _step(self) -> None:
        """One wake-up of run(): a tick, then the next wake-up armed (a timer, or none until
        set()). A set() during the tick calls the step again soon, as a set Event would have
        returned at once."""
        wake = self._wake
        ended = self._ended
        if wake is None or ended is None or ended.done():
            return
        wake.disarm()
        if self._stopped:
            ended.set_result(None)
            return
        try:
            wake.flag = False
            self.tick()
            now = self._now()
            timeout = self.sleep_for(now)
        except Exception as e:   # run() raises it, as it did from its own loop
            ended.set_exception(e)
            return
        self._armed = None if timeout is None else now + timeout
        if wake.flag:
            if wake.soon is None:
                wake.soon = wake.loop.call_soon(self._step)
        elif timeout is not None:
            wake.timer = wake.loop.call_later(timeout, self._step)

    async def stop(self) -> list[Decision]:
        """Stop running checks (cancelling those in flight) and clear the pool (clear_services)."""
        self._stopped = True
        if self._wake is not None:
            self._wake.set()
        tasks = list(self._running.values()) + list(self._orphans)
        for task in tasks:
            task.cancel()
        self._abandon_launched()
        await asyncio.gather(*[t for t in tasks if isinstance(t, asyncio.Future)], return_exceptions=True)
        out = self.pool.stop()
        self.emit(out)
        return out
