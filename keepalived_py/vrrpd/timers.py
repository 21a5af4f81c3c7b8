"""The vrrp runtime's timers (a mixin of VrrpRuntime): firing, arming after a master's
addresses are set, and timing each advert against its deadline.

Why apart: runtime.py keeps the lifecycle and the action executor; this is the part where
time enters - a timer fires (the scheduler: precise_timers.py in the child), the machine
hears TimerExpired at its deadline, and the advert that follows is measured against that
deadline into the lateness histograms (vrrp/lateness.py): MASTER adverts, and master-down
expiries (the BACKUP's timer whose first act as MASTER is an advert).
"""

from __future__ import annotations

from typing import Any

from keepalived_py.vrrp.events import TimerExpired
from keepalived_py.vrrp.machine import ADVERT_TIMER, State
from keepalived_py.vrrp.timers import slot_deadline

SLOT_CAP = 4  # instances per advert slot (a wake-up serves them one after the other)
SLOT_SKIP_MAX = 250  # spill steps (1 ms at advert_int 1 s) past full slots: 1,000 instances at once


_EXPIRED: dict[str, TimerExpired] = {}  # one (frozen) event per timer name, made once


class TimersMixin:
    """Needs of the host class: by_name, clock, log, scheduler, _stopping, _execute(),
    _resumed(), lateness_advert, lateness_master_down, _due, _slot_fill (slot -> count)."""

    def _timer_fired(self, name: str, timer: str, at: float) -> None:
        run = self.by_name.get(name)
        if run is None:
            return
        run.timers.pop(timer, None)
        now = max(self.clock.now(), at)
        if timer == ADVERT_TIMER:
            # the advert this timer sends (MASTER: the next one; BACKUP: master down, the
            # first as MASTER) is timed against `at` when it goes out (_execute_one)
            self._due = (name, at, run.machine.state == State.MASTER)
        resuming = run.machine.resuming
        event = _EXPIRED.get(timer)
        if event is None:
            event = _EXPIRED[timer] = TimerExpired(timer)
        try:
            if run.sync is not None and run.name in run.sync.members:
                actions = run.sync.handle(run.name, event, now)
            else:
                actions = run.machine.handle(event, now)
        except Exception:  # noqa: BLE001
            self.log.exception(f"({name}) error in timer {timer}")
            self._due = None
            return
        self._execute(actions)
        self._due = None
        if resuming:
            self._resumed(run, resuming)

    def _arm_deferred(self, name: str, t0: float) -> None:
        run = self.by_name.get(name)
        if run is None or self._stopping:
            return
        now = self.clock.now()
        shift = max(0.0, now - t0)
        for timer, at in run.deferred.items():
            at += shift
            if timer == ADVERT_TIMER:  # on the slot grid: instances anchored together share wake-ups
                at = self._advert_slot(at, run.machine.params.advert_int_us, now)
            run.machine.rebase_timer(timer, at)
            run.timers[timer] = self.scheduler.call_at(at, self._timer_fired, name, timer, at)
        run.deferred.clear()

    def _advert_slot(self, at: float, advert_int_us: int, now: float) -> float:
        """The slot (vrrp/timers.slot_deadline) for a first advert due at `at`: the grid
        point after it, or a spill step (1 ms) further each time SLOT_CAP instances
        anchored since the last interval already wait there: the last of a batch is not
        served more than SLOT_CAP adverts late, and many instances anchored at once (owners
        at start) spread over spill slots instead of one long batch."""
        fill = self._slot_fill
        if fill and min(fill) <= now:
            for key in [k for k in fill if k <= now]:
                del fill[key]
        for skip in range(SLOT_SKIP_MAX + 1):
            slot = slot_deadline(at, advert_int_us, skip)
            if fill.get(slot, 0) < SLOT_CAP or skip == SLOT_SKIP_MAX:
                fill[slot] = fill.get(slot, 0) + 1
                return slot
        return at  # not reached

    def _observe_lateness(self, instance: str) -> None:
        """An advert goes out: if a timer's deadline sent it, count how late."""
        due = self._due
        if due is not None and due[0] == instance:
            self._due = None
            late = self.clock.now() - due[1]
            (self.lateness_advert if due[2] else self.lateness_master_down).observe(late)

    def lateness_views(self) -> dict[str, dict[str, Any]]:
        """The send-lateness histograms as plain data (metrics, bench): per-bucket counts,
        the last one above every bound."""
        out = {}
        for kind, hist in (("advert", self.lateness_advert), ("master_down", self.lateness_master_down)):
            v = hist.view()
            out[kind] = {"bounds": list(v.bounds), "counts": list(v.counts), "count": v.count,
                         "sum": v.sum, "max": v.max}
        return out
