"""Rate limit for dropped-packet log lines: a flood must not turn into a log flood.

Each key (who dropped it: an instance, or "*ifname" for unknown VRIDs; and why: the core's
DropReason, None for an unknown VRID) may log `per_second` lines per one-second window;
the rest are counted, and the first line of the next window reports how many were left
out. Keyed by the typed reason, so a flood of one kind of bad packet cannot hide a
different problem (an authentication failure from a real peer, say) on the same instance.
Pure: time is the `now` the caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from keepalived_py.vrrp.checks import DropReason

DROP_LOG_PER_S = 10
DropKey = tuple[str, DropReason | None]


@dataclass(slots=True)
class _Window:
    start: float
    count: int = 0
    suppressed: int = 0


class DropLogLimiter:
    def __init__(self, per_second: int = DROP_LOG_PER_S) -> None:
        self.per_second = per_second
        self._windows: dict[DropKey, _Window] = {}

    def allow(self, key: DropKey, now: float) -> tuple[bool, int]:
        """(may this line be logged, how many lines the window that just ended left out)."""
        win = self._windows.get(key)
        ended_suppressed = 0
        if win is None or now - win.start >= 1.0:
            ended_suppressed = win.suppressed if win is not None else 0
            win = self._windows[key] = _Window(now)
        if win.count < self.per_second:
            win.count += 1
            return True, ended_suppressed
        win.suppressed += 1
        return False, ended_suppressed
