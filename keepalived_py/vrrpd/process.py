"""The vrrp child's process knobs from global_defs, applied as keepalived's start_vrrp() does.

Why: operators set `vrrp_rt_priority` / `vrrp_rlimit_rttime`, `vrrp_priority`,
`vrrp_no_swap`, `vrrp_cpu_affinity` and `vrrp_process_name` so that the VRRP process keeps
its timing on a loaded box. The scheduling part is the one every child shares
(core/process_priority.py: keepalived's set_process_priorities(), its log lines, the reset
around a reload, and our rlimit_rttime default); this module adds what only the vrrp child
has: its process name and the `max_auto_priority` note.

`max_auto_priority` / `min_auto_priority_delay` (raise the realtime priority when the
scheduler runs late) are not applied: this runtime's event loop has no per-thread lateness
measure to drive them; start() logs that once.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keepalived_py.core import process_priority as prio

PR_SET_NAME = 15


@dataclass(frozen=True)
class Knobs:
    """The vrrp child's settings: the shared scheduling knobs, its name, the auto note."""

    scheduling: prio.Knobs = field(default_factory=prio.Knobs)
    name: str | None = None
    auto_priority: bool = False

    @classmethod
    def from_global(cls, g: Any) -> Knobs:
        if g is None:
            return cls()
        name = g.vrrp_process_name or ("keepalived_vrrp" if g.process_names else None)
        return cls(prio.Knobs.read("vrrp", g), name, bool(g.max_auto_priority))


class SysOps(prio.SysOps):
    """The shared system calls plus the process name (tests record them instead)."""

    def set_name(self, name: str) -> None:
        if self._libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")


class ProcessSettings:
    """Applies Knobs and undoes them (at reload), logging as keepalived does."""

    def __init__(self, log: Callable[[str], None], ops: Any = None) -> None:
        self.log = log
        self.ops = ops if ops is not None else SysOps()
        self.applied: Knobs | None = None
        self._priority = prio.ProcessPriority("vrrp", log, self.ops)
        self._told_auto = False

    def apply(self, knobs: Knobs, reload: bool = False) -> None:
        if knobs.name and (not reload or self.applied is None or knobs.name != self.applied.name):
            try:
                self.ops.set_name(knobs.name)
            except OSError:
                self.log(f"Failed to set process name '{knobs.name}'")
        self._priority.apply(knobs.scheduling)
        if knobs.auto_priority and not self._told_auto:
            self._told_auto = True
            self.log("max_auto_priority ignored: keepalived-py does not measure scheduling lateness "
                     "to raise the realtime priority")
        self.applied = knobs

    def reset(self) -> None:
        """reset_process_priorities(): standard scheduling while reloading."""
        self._priority.reset()
