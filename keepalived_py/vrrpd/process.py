"""The vrrp child's process knobs from global_defs, applied as keepalived's start_vrrp() does.

Why: operators set `vrrp_rt_priority` / `vrrp_rlimit_rttime`, `vrrp_priority`,
`vrrp_no_swap`, `vrrp_cpu_affinity` and `vrrp_process_name` so that the VRRP process keeps
its timing on a loaded box; keepalived's set_process_priorities() (lib/process.c): a
realtime priority means SCHED_RR (reset on fork, so scripts do not inherit it) with
RLIMIT_RTTIME soft = half, hard = the limit, and no nice value; otherwise the nice value;
`vrrp_no_swap` locks the process in memory; the affinity is set when a CPU is named.
Failures are keepalived's log lines and nothing else. Reload resets them first
(reset_process_priorities) and applies the new ones after.

`max_auto_priority` / `min_auto_priority_delay` (raise the realtime priority when the
scheduler runs late) are not applied: this runtime's event loop has no per-thread lateness
measure to drive them; start() logs that once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4
PR_SET_NAME = 15


@dataclass(frozen=True)
class Knobs:
    rt_priority: int
    rlimit_rttime: int
    nice: int
    no_swap: bool
    cpus: tuple[int, ...]
    name: str | None
    auto_priority: bool

    @classmethod
    def from_global(cls, g: Any) -> Knobs:
        if g is None:
            return cls(0, 0, 0, False, (), None, False)
        name = g.vrrp_process_name or ("keepalived_vrrp" if g.process_names else None)
        return cls(int(g.vrrp_rt_priority or 0), int(g.vrrp_rlimit_rttime or 0), int(g.vrrp_priority or 0),
                   bool(g.vrrp_no_swap), tuple(g.vrrp_cpu_affinity or ()), name, bool(g.max_auto_priority))


class SysOps:
    """The system calls, one method each (tests record them instead)."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)

    def getpriority(self) -> int:
        return os.getpriority(os.PRIO_PROCESS, 0)

    def setpriority(self, value: int) -> None:
        os.setpriority(os.PRIO_PROCESS, 0, value)

    def set_rr(self, priority: int) -> None:
        os.sched_setscheduler(0, os.SCHED_RR | os.SCHED_RESET_ON_FORK, os.sched_param(priority))

    def set_other(self) -> None:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))

    def getrlimit_rttime(self) -> tuple[int, int]:
        return resource.getrlimit(resource.RLIMIT_RTTIME)

    def setrlimit_rttime(self, soft: int, hard: int) -> None:
        resource.setrlimit(resource.RLIMIT_RTTIME, (soft, hard))

    def on_sigxcpu(self, handler: Callable[[], None]) -> None:
        signal.signal(signal.SIGXCPU, lambda _s, _f: handler())

    def mlockall(self) -> None:
        if self._libc.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def munlockall(self) -> None:
        self._libc.munlockall()

    def set_affinity(self, cpus: tuple[int, ...]) -> None:
        os.sched_setaffinity(0, cpus)

    def set_name(self, name: str) -> None:
        if self._libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")


class ProcessSettings:
    """Applies Knobs and undoes them (at reload), logging as keepalived does."""

    def __init__(self, log: Callable[[str], None], ops: Any = None) -> None:
        self.log = log
        self.ops = ops if ops is not None else SysOps()
        self.applied: Knobs | None = None
        self._orig_nice: int | None = None
        self._orig_rttime: tuple[int, int] | None = None
        self._rr = False
        self._locked = False
        self._told_auto = False

    def apply(self, knobs: Knobs, reload: bool = False) -> None:
        ops = self.ops
        if knobs.name and (not reload or self.applied is None or knobs.name != self.applied.name):
            try:
                ops.set_name(knobs.name)
            except OSError:
                self.log(f"Failed to set process name '{knobs.name}'")
        if knobs.rt_priority:
            try:
                ops.set_rr(knobs.rt_priority)
                self._rr = True
            except OSError:
                self.log("child process: cannot raise priority")
            else:
                if knobs.rlimit_rttime:
                    ops.on_sigxcpu(lambda: self.log("vrrp process: realtime CPU time limit (vrrp_rlimit_rttime) "
                                                    "approached - SIGXCPU"))
                    try:
                        if self._orig_rttime is None:
                            self._orig_rttime = ops.getrlimit_rttime()
                        ops.setrlimit_rttime(knobs.rlimit_rttime // 2, knobs.rlimit_rttime)
                    except (OSError, ValueError):
                        self.log("child process cannot set realtime rlimit")
        elif knobs.nice:
            try:
                if self._orig_nice is None:
                    self._orig_nice = ops.getpriority()
                ops.setpriority(knobs.nice)
            except OSError as exc:
                self.log(f"Unable to set process priority to {knobs.nice} - {exc.strerror or exc}")
        if knobs.no_swap and not self._locked:
            try:
                ops.mlockall()
                self._locked = True
            except OSError as exc:
                self.log(f"Unable to lock process in memory - {exc.strerror or exc}")
        if knobs.cpus:
            try:
                ops.set_affinity(knobs.cpus)
            except OSError as exc:
                self.log(f"unable to set cpu affinity to vrrp process ({exc.strerror or exc})")
        if knobs.auto_priority and not self._told_auto:
            self._told_auto = True
            self.log("max_auto_priority ignored: keepalived-py does not measure scheduling lateness "
                     "to raise the realtime priority")
        self.applied = knobs

    def reset(self) -> None:
        """reset_process_priorities(): standard scheduling while reloading."""
        ops = self.ops
        with contextlib.suppress(OSError, ValueError):
            if self._rr:
                ops.set_other()
                self._rr = False
                if self._orig_rttime is not None:
                    ops.setrlimit_rttime(*self._orig_rttime)
            if self._orig_nice is not None:
                ops.setpriority(self._orig_nice)
            if self._locked:
                ops.munlockall()
                self._locked = False
