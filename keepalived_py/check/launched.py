"""The scheduler's checks started without a Task (a probe module's `launch`, TCP_CHECK's): one
record per checker (Slot), the starters bound to the running loop, the steady runs started
from the per-delay_loop FIFOs (in batches where the kind has a batch starter), and their
outcomes booked. Why apart from scheduler.py: this is the hot path of thousands of checks a
second, kept in one place with the bookkeeping it needs; the Scheduler mixes it in.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from keepalived_py.check import hysteresis as hy
from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Result, Status
from keepalived_py.check.spec import CheckerSpec

_OK = Status.OK
#: run() wakes at most once per TICK while checks keep coming due: a check starts up to this
#: much after its time (never before), and thousands of checks a second share a wake-up
TICK = 0.01
#: how much of a steady run's late start is not carried into its next run: the grid's
#: lateness (TICK), the loop timer's rounding and the checks ahead of it in a batch; a loop
#: late by more than this (overload) is not made up for
MAKE_UP = 2 * TICK


class Slot:
    """A checker's hot-path record: what a launched check needs without hashing its id (a
    checker id holds ipaddress objects, whose hash is Python code) for every step."""

    __slots__ = ("cid", "spec", "launch", "handle", "started", "lat", "target", "per_url", "index", "state",
                 "steady", "delay", "fifo", "start", "burst", "late", "due")

    def __init__(self, cid: Hashable, spec: CheckerSpec, launch: Callable | None, lat: list, index: int) -> None:
        self.cid, self.spec, self.launch, self.lat, self.index = cid, spec, launch, lat, index
        #: the checker's state as of its last result (None: read self.states); apply() keeps it
        self.state: hy.CheckerState | None = None
        #: hysteresis.steady_state() of that state (None: not worked out yet)
        self.steady: bool | None = None
        self.delay = spec.policy.delay_loop
        #: the steady-success FIFO of this delay_loop, once used
        self.fifo: deque[tuple[float, int]] | None = None
        #: launch bound to the running loop (LaunchedMixin._bind): start(target, done, token)
        self.start: Callable | None = None
        #: the kind's batch starter bound to the running loop, when it has one (_bind)
        self.burst: Callable | None = None
        self.handle: Any = None
        self.started = 0.0
        #: how late the grid started this run of a steady checker (at most MAKE_UP): its next
        #: run is counted from the end the check would have had on time (see _start_steady())
        self.late = 0.0
        #: when this run of a steady checker was due (its FIFO time)
        self.due = 0.0
        self.target: Target | None = None
        #: the target follows the checker's url (HTTP_GET / SSL_GET): made again every run
        self.per_url = spec.kind is hy.Kind.HTTP or spec.kind is hy.Kind.SSL


class LaunchedMixin:
    """The launched half of check.scheduler.Scheduler (its state is the Scheduler's)."""

    specs: dict[Hashable, CheckerSpec]
    states: dict[Hashable, hy.CheckerState]
    latency: dict[Hashable, list]
    max_launched: int
    runs: int
    _launchers: dict[hy.Kind, Callable | None]
    _probes: dict[hy.Kind, object]
    _slot_list: list[Slot]
    _slots: dict[Hashable, Slot]
    _fifos: dict[float, deque[tuple[float, int]]]
    _bound_loop: Any
    _launched: int
    _suspended: set[Hashable]
    _waiting: deque[Slot]
    _wake: Any
    _armed: float | None
    _stopped: bool
    _now: Callable[[], float]
    _push: Callable[[float, Hashable], None]
    _loop: Callable[[], Any]
    target: Callable[[CheckerSpec, hy.CheckerState], Target]
    emit: Callable[[list], None]
    apply: Callable[[Hashable, Result, float], list]

    def _make_slots(self) -> None:
        self._slot_list = [Slot(cid, spec, self._launchers.get(spec.kind), self.latency.setdefault(cid, [0.0, 0.0, 0]), i)
                           for i, (cid, spec) in enumerate((c, s) for c, s in self.specs.items()
                                                           if s.kind not in hy.EVENT_DRIVEN)]
        self._slots = {slot.cid: slot for slot in self._slot_list}
        self._fifos = {}
        self._bound_loop = None

    def _bind(self, loop: Any) -> None:
        """Give every launched slot its kind's starter on `loop`: the probe module's
        `launcher(loop)` when it has one (TCP_CHECK: the loop's connect engine's start, no
        per-check lookup), else its `launch` with the loop filled in."""
        starters: dict[hy.Kind, Callable] = {}
        bursters: dict[hy.Kind, Callable] = {}
        for kind, launch in self._launchers.items():
            if launch is not None:
                probe = self._probes[kind]
                launcher = getattr(probe, "launcher", None)
                starters[kind] = launcher(loop) if launcher is not None else functools.partial(launch, loop)
                burster = getattr(probe, "burster", None)
                if burster is not None:
                    bursters[kind] = burster(loop)
        for slot in self._slot_list:
            slot.start = starters.get(slot.spec.kind)
            slot.burst = bursters.get(slot.spec.kind)
        self._bound_loop = loop

    def _start_steady(self, now: float, waiting: deque) -> tuple[int, Any]:
        """tick()'s steady runs: every due FIFO entry started (a batch per batch starter) or
        queued behind `waiting`; returns how many started and the loop (None: not looked up)."""
        started = 0
        loop = None
        states = self.states
        # a steady success's next run starts here, not through the waiting queue, while
        # nothing waits ahead of it and a launch slot is free (the same order either way);
        # a kind with a batch starter gets its due checks in one call (bursts)
        slot_list, suspended = self._slot_list, self._suspended
        bursts: dict[Callable, tuple[list, list]] = {}
        batched = 0
        for q in self._fifos.values():
            while q and q[0][0] <= now:
                due, index = q.popleft()
                slot = slot_list[index]
                # the 10 ms grid's own lateness is not carried into the next run, so the
                # cadence stays keepalived's (delay_loop after the end); a loop that is
                # itself late (overload) is not made up for
                late = now - due
                slot.late = late if late < MAKE_UP else MAKE_UP
                slot.due = due
                if suspended and slot.spec.vs_key in suspended:
                    self._push(now + slot.spec.policy.delay_loop, slot)
                    continue
                if waiting or self._launched + batched >= self.max_launched:
                    waiting.append(slot)
                    continue
                if slot.handle is not None:
                    continue          # still running: as the waiting queue drops it
                if loop is None:
                    loop = self._loop()
                    if loop is not self._bound_loop:
                        self._bind(loop)
                if slot.target is None or slot.per_url:
                    slot.target = self.target(slot.spec, states[slot.cid])
                started += 1
                burst = slot.burst
                if burst is not None:
                    batch = bursts.get(burst)
                    if batch is None:
                        batch = bursts[burst] = ([], [])
                    batch[0].append(slot.target)
                    batch[1].append(slot)
                    batched += 1
                    continue
                slot.started = now
                slot.handle = slot.start(slot.target, self._launched_done, slot)  # type: ignore[misc]
                self._launched += 1
        for burst, (targets, batch) in bursts.items():
            self._burst_done(now, batch, burst(targets, batch, self._launched_done, self._now))
        return started, loop

    def _launched_done(self, handle: Any, result: Result, _sock: Any = None) -> None:
        """A launched probe's outcome (a loop callback): as _run_one() does for a Task. A
        success that changes nothing (hysteresis.steady) only schedules the next run."""
        slot: Slot = handle.token
        if slot.handle is not handle:
            return   # abandoned by a reload or stop
        slot.handle = None
        self._launched -= 1
        self.runs += 1
        now = self._now()
        took = now - slot.started
        lat = slot.lat
        lat[0] = took
        lat[1] += took
        lat[2] += 1
        if self._waiting and self._wake is not None:
            self._wake.set()   # a slot is free
        if self._stopped:
            return
        steady = slot.steady
        if steady is None:
            state = slot.state
            if state is None:
                state = slot.state = self.states[slot.cid]
            steady = slot.steady = hy.steady_state(slot.spec.policy, state)
        if steady and result.status is _OK:    # hysteresis.steady(), its parts kept per slot
            when = now + slot.delay - slot.late
            q = slot.fifo
            if q is None:
                q = slot.fifo = self._fifos.setdefault(slot.delay, deque())
            q.append((when, slot.index))
            if (self._armed is None or when < self._armed) and self._wake is not None:
                self._wake.set()
        else:
            self.emit(self.apply(slot.cid, result, slot.started))

    def _burst_done(self, now: float, slots: list[Slot], outcomes: list) -> None:
        """A batch starter's outcomes (inside tick(), whose step then sleeps to the next due
        time, so no wake-up): a float is the time a check succeeded at once (steady: its next
        run is delay_loop after that, less the lateness of its start, as _launched_done books
        it), anything else the handle of a check that reports later."""
        fifos = self._fifos
        ok = 0
        began = now       # a check of the batch begins as the one before it ends
        for slot, got in zip(slots, outcomes, strict=True):
            if got.__class__ is float:
                ok += 1
                took = got - began
                lat = slot.lat
                lat[0] = took
                lat[1] += took
                lat[2] += 1
                q = slot.fifo
                if q is None:
                    q = slot.fifo = fifos.setdefault(slot.delay, deque())
                # the grid's lateness and the checks ahead of it in the batch (at most MAKE_UP
                # in all) are not carried into the next run: delay_loop after the end the
                # check would have had begun at its own time, as keepalived's timer begins it
                late = began - slot.due
                q.append((got + slot.delay - (late if late < MAKE_UP else MAKE_UP), slot.index))
                began = got
            else:
                slot.started = now
                slot.handle = got
                self._launched += 1
        self.runs += ok

    def _launched_pending(self) -> bool:
        return self._launched > 0

    def _abandon_launched(self) -> None:
        for slot in self._slot_list:
            handle, slot.handle = slot.handle, None
            if handle is not None:
                handle.cancel()
        self._launched = 0
