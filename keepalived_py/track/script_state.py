"""vrrp_script rise/fall hysteresis (pure).

keepalived 2.2.7 keeps one counter per script, `result`, in 0 .. rise+fall-1
(vrrp_scheduler.c vrrp_script_child_thread()):
- down: result < rise; each success counts up, and the success that would take it to rise
  reports "succeeded" and jumps to rise+fall-1; a failure resets it to 0;
- up: result >= rise; a success goes back to rise+fall-1; a failure counts down, and the
  failure at result == rise reports "failed" and resets to 0.
So the status flips after `rise` consecutive successes or `fall` consecutive failures.

At start-up (vrrp_init_script()) a script is in INIT with result = rise-1: its first result
is always reported (one success is enough; one failure reports "failed" too). With
`init_fail` it starts FAILED with result 0: it counts as down from the start and needs
`rise` successes. A script that appears on a reload starts in INIT_RELOAD, like INIT.
`reloaded()` is clear_diff_script(): a script kept across a reload carries its status
(the counter is rescaled to the new rise/fall).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class InitState(Enum):
    DONE = "done"
    INIT = "init"
    INIT_RELOAD = "init_reload"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ScriptState:
    rise: int
    fall: int
    result: int
    init_state: InitState

    @classmethod
    def new(cls, rise: int = 1, fall: int = 1, init_fail: bool = False, reload: bool = False) -> ScriptState:
        rise, fall = max(1, rise), max(1, fall)
        if init_fail:
            return cls(rise, fall, 0, InitState.FAILED)
        return cls(rise, fall, rise - 1, InitState.INIT_RELOAD if reload else InitState.INIT)

    @property
    def ok(self) -> bool | None:
        """Current status: None while no result came in yet (INIT), else up or down."""
        if self.init_state in (InitState.INIT, InitState.INIT_RELOAD):
            return None
        return self.result >= self.rise

    @property
    def initial_report(self) -> bool | None:
        """What to report before the first run: down for init_fail, else nothing yet."""
        return False if self.init_state == InitState.FAILED else None

    def record(self, success: bool) -> tuple[ScriptState, bool | None]:
        """Feed one run's outcome; returns the new state and the status to report
        (True "succeeded", False "failed"/"timed_out") or None when nothing changes."""
        r, rise, fall = self.result, self.rise, self.fall
        report: bool | None = None
        if success:
            if r < rise - 1:
                r += 1
            elif r != rise + fall - 1:
                if r < rise:
                    report = True
                r = rise + fall - 1
        else:
            if r > rise:
                r -= 1
            else:
                if r == rise or self.init_state in (InitState.INIT, InitState.INIT_RELOAD):
                    report = False
                r = 0
        return replace(self, result=r, init_state=InitState.DONE), report

    def reloaded(self, rise: int, fall: int, init_fail: bool = False) -> ScriptState:
        """clear_diff_script(): the state of this script under a new configuration."""
        rise, fall = max(1, rise), max(1, fall)
        if self.init_state == InitState.INIT:
            return ScriptState(rise, fall, rise - 1, InitState.INIT)
        if self.init_state == InitState.INIT_RELOAD:
            return ScriptState(rise, fall, rise - 1, InitState.INIT_RELOAD)
        old = self.result
        if old < self.rise:
            new = 0 if not old else max(0, rise - (self.rise - old))
        elif old == self.rise + self.fall - 1:
            new = rise + fall - 1
        else:
            new = min(rise + (old - self.rise), rise + fall - 1)
        return ScriptState(rise, fall, new, InitState.DONE)


def next_run(due: float, interval: float, now: float) -> float:
    """vrrp_script_thread(): runs start every `interval` seconds counted from the previous
    start's due time; after a hold-up (a busy loop, a suspended host) the next run is one
    interval from now, never a burst of runs to catch up."""
    nxt = due + interval
    return now + interval if now > nxt else nxt
