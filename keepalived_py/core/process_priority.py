"""The checker_* / bfd_* process knobs of global_defs, applied as keepalived's children do.

Why: operators set `checker_priority` (nice), `checker_rt_priority` (SCHED_RR) with
`checker_rlimit_rttime`, `checker_no_swap` (mlockall) and `checker_cpu_affinity` (and the
bfd_* twins) so the check / BFD process keeps its timing on a loaded director. keepalived's
start_check() / start_bfd() call set_process_priorities() and set_process_cpu_affinity()
(lib/process.c) once the configuration is read:

- a realtime priority means sched_setscheduler(SCHED_RR | SCHED_RESET_ON_FORK), so scripts
  do not inherit it, and then RLIMIT_RTTIME soft = limit / 2, hard = limit; the nice value
  is not applied in that case;
- otherwise a non-zero nice value is applied with setpriority();
- no_swap locks the process in memory (mlockall MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
- the affinity is set when CPUs are named.

Each failure is keepalived's log line and nothing more. A reload resets to standard
scheduling first (reset_process_priorities) and applies the new values after. SIGXCPU
(the soft RLIMIT_RTTIME reached) logs keepalived's warning instead of killing the process.
The vrrp child applies its vrrp_* twins itself (vrrpd/process.py) through ProcessPriority.

Deliberate difference (conformance/DIFFERENCES.md): keepalived's default rlimit_rttime,
10 ms of CPU without a blocking call, is far below what a Python child spends starting its
checkers (measured: SIGKILLed by the hard limit right after "Activating BFD
healthchecker"); when the realtime priority is set but the rlimit is not written, the
limit is DEFAULT_RTTIME_US instead, and a line says so. A written value is applied as is.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4

#: the global_defs prefix of each child's knobs and the name keepalived logs for it
PREFIXES = {"check": ("checker", "Checker"), "bfd": ("bfd", "BFD"), "vrrp": ("vrrp", "VRRP")}
#: the roles core/child.py applies at start; the vrrp child applies its knobs itself
#: (vrrpd/process.py, with its process name) through the same ProcessPriority
ROLES = {role: PREFIXES[role] for role in ("check", "bfd")}
#: RLIMIT_RTTIME hard limit (µs) when *_rt_priority is set and *_rlimit_rttime is not
DEFAULT_RTTIME_US = 1_000_000


@dataclass(frozen=True)
class Knobs:
    """One child's scheduling settings, as read from global_defs."""

    rt_priority: int = 0
    rlimit_rttime: int = 0
    nice: int = 0
    no_swap: bool = False
    cpus: tuple[int, ...] = ()
    #: the rlimit is our default, not the configuration's (logged when applied)
    rlimit_defaulted: bool = False

    @classmethod
    def for_role(cls, role: str, g: Any) -> Knobs | None:
        """The knobs of `role` (None for a role whose knobs are applied elsewhere)."""
        if role not in ROLES:
            return None
        return cls.read(role, g)

    @classmethod
    def read(cls, role: str, g: Any) -> Knobs:
        """The knobs global_defs `g` sets for `role` (any of PREFIXES)."""
        if g is None:
            return cls()
        p = PREFIXES[role][0]
        written = getattr(g, "kw_pos", None) or {}
        rttime = int(getattr(g, f"{p}_rlimit_rttime") or 0)
        defaulted = not ({f"{p}_rlimit_rttime", f"{p}_rlimit_rtime"} & set(written))
        return cls(int(getattr(g, f"{p}_rt_priority") or 0), DEFAULT_RTTIME_US if defaulted else rttime,
                   int(getattr(g, f"{p}_priority") or 0), bool(getattr(g, f"{p}_no_swap")),
                   tuple(getattr(g, f"{p}_cpu_affinity") or ()), defaulted)


class SysOps:
    """The system calls, one method each (unit tests record them instead)."""

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


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


class ProcessPriority:
    """Applies one child's Knobs and undoes them for a reload, logging as keepalived does."""

    def __init__(self, role: str, log: Callable[[str], None], ops: Any = None) -> None:
        self.role = role
        self.log = log
        self.ops = ops if ops is not None else SysOps()
        self._orig_nice: int | None = None
        self._nice_set = False
        self._orig_rttime: tuple[int, int] | None = None
        self._rttime_set = False
        self._rr = False
        self._locked = False

    def apply(self, knobs: Knobs) -> None:
        ops = self.ops
        prefix, title = PREFIXES[self.role]
        if knobs.rt_priority:
            try:
                ops.set_rr(knobs.rt_priority)
                self._rr = True
            except OSError:
                self.log("child process: cannot raise priority")
            else:
                if knobs.rlimit_rttime:
                    ops.on_sigxcpu(lambda: self.log(f"{title} process has used too much CPU time, "
                                                    f"{prefix}_rlimit_rttime may need to be increased"))
                    try:
                        if self._orig_rttime is None:
                            self._orig_rttime = ops.getrlimit_rttime()
                        ops.setrlimit_rttime(knobs.rlimit_rttime // 2, knobs.rlimit_rttime)
                        self._rttime_set = True
                        if knobs.rlimit_defaulted:
                            self.log(f"{prefix}_rlimit_rttime not set: using {knobs.rlimit_rttime} "
                                     f"(keepalived's 10000 is too short for this runtime)")
                    except (OSError, ValueError):
                        self.log("child process cannot set realtime rlimit")
        elif knobs.nice:
            try:
                if self._orig_nice is None:
                    self._orig_nice = ops.getpriority()
                ops.setpriority(knobs.nice)
                self._nice_set = True
            except OSError as exc:
                self.log(f"Unable to set process priority to {knobs.nice} - {_why(exc)}")
        if knobs.no_swap and not self._locked:
            try:
                ops.mlockall()
                self._locked = True
            except OSError as exc:
                self.log(f"Unable to lock process in memory - {_why(exc)}")
        if knobs.cpus:
            try:
                ops.set_affinity(knobs.cpus)
            except OSError as exc:
                self.log(f"unable to set cpu affinity to {prefix} process ({_why(exc)})")

    def reset(self) -> None:
        """reset_process_priorities(): standard scheduling while a reload runs. keepalived
        keeps the memory lock across a reload (it never calls munlockall)."""
        ops = self.ops
        if self._rr:
            try:
                ops.set_other()
                self._rr = False
            except OSError:
                self.log("child process: cannot reset realtime scheduling")
            else:
                if self._rttime_set and self._orig_rttime is not None:
                    try:
                        ops.setrlimit_rttime(*self._orig_rttime)
                        self._rttime_set = False
                    except (OSError, ValueError):
                        self.log("child process cannot reset realtime rlimit")
        if self._nice_set and self._orig_nice is not None:
            try:
                ops.setpriority(self._orig_nice)
                self._nice_set = False
            except OSError as exc:
                self.log(f"Unable to reset process priority - {_why(exc)}")


_current: ProcessPriority | None = None


def apply_for_role(role: str, config: KeepalivedConfig, log: Callable[[str], None], ops: Any = None) -> ProcessPriority | None:
    """At child start (and after a reload): apply the role's knobs from `config`'s
    global_defs; a no-op for roles whose knobs live elsewhere (vrrp)."""
    global _current
    knobs = Knobs.for_role(role, getattr(config, "global_defs", None))
    if knobs is None:
        return None
    if _current is None or _current.role != role or ops is not None:
        _current = ProcessPriority(role, log, ops)
    _current.apply(knobs)
    return _current


def reset_for_reload() -> None:
    """Before a reload: back to standard scheduling, as keepalived's reload threads do."""
    if _current is not None:
        with contextlib.suppress(Exception):
            _current.reset()
