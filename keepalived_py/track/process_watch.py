"""vrrp_track_process: counting matching processes, quorum and delays.

keepalived 2.2.7 keepalived/core/track_process.c follows process events (netlink proc
connector). We scan /proc periodically instead (SCAN_INTERVAL, bounded; the scan runs in a
worker thread, never on the event loop): a process that starts and exits between two scans
is not seen, and changes show up within one interval plus the configured delay.

Matching (read_procs(), check_params()):
- without `full_command` (and without parameters or param_match) the name is compared with
  the process's comm (/proc/PID/stat, at most 15 characters); otherwise with argv[0] from
  /proc/PID/cmdline; zombies are skipped;
- parameters are compared as NUL-separated bytes: `exact` the whole remaining command
  line, `partial` the leading parameters, `initial` the same but the last given parameter
  may be a prefix of the process's; `param_match` with no parameters (exact) matches only
  processes without parameters.

Quorum (quorum .. quorum_max, quorum_max 0 meaning 'no process running' via quorum 0):
a change caused by more processes waits `fork_delay`, one caused by fewer waits
`terminate_delay` (`delay` sets both); a change the other way while a delay runs cancels
it, as keepalived's timers do. At start-up the quorum is reported at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from keepalived_py.clock import Clock, LoopScheduler, MonotonicClock, Scheduler, Timer

log = logging.getLogger("keepalived_py.track.process")

SCAN_INTERVAL = 1.0
UINT_MAX = 2 ** 32 - 1


@dataclass(frozen=True, slots=True)
class ProcInfo:
    pid: int
    comm: str
    #: the raw command line (NUL-separated words, each NUL-terminated)
    cmdline: bytes


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    name: str
    process_path: str
    params: bytes | None  # NUL-joined, each NUL-terminated; None when no parameters
    param_match: str | None  # None, "exact", "partial", "initial"
    full_command: bool
    quorum: int
    quorum_max: int
    fork_delay: float
    terminate_delay: float

    @classmethod
    def from_model(cls, tp) -> ProcessSpec:
        words = tuple(tp.process or ())
        params = b"".join(os.fsencode(w) + b"\0" for w in words[1:]) if len(words) > 1 else None
        quorum_max = tp.quorum_max if tp.quorum_max is not None else UINT_MAX
        return cls(tp.name, words[0] if words else "", params, tp.effective_param_match,
                   tp.uses_full_command, tp.effective_quorum, quorum_max,
                   tp.effective_fork_delay, tp.effective_terminate_delay)

    def check_params(self, params: bytes) -> bool:
        """track_process.c check_params()."""
        mine = self.params
        if self.param_match == "exact" and mine is None and len(params) == 0:
            return True
        mine_len = len(mine) if mine is not None else 0
        if len(params) < mine_len:
            return False
        if self.param_match == "exact":
            return len(params) == mine_len and (mine is None or params == mine)
        if mine is None:
            return True
        if self.param_match == "partial":
            return params[:mine_len] == mine
        return mine_len == 1 or params[:mine_len - 1] == mine[:-1]

    def matches(self, proc: ProcInfo) -> bool:
        if self.full_command:
            argv0, _, rest = proc.cmdline.partition(b"\0")
            if argv0 != os.fsencode(self.process_path):
                return False
            params = rest
        else:
            if proc.comm != self.process_path:
                return False
            params = b""
        if self.param_match is not None:
            return self.check_params(params)
        return True

    def have_quorum(self, count: int) -> bool:
        return self.quorum <= count <= self.quorum_max


@dataclass
class ProcessQuorum:
    """Sans-IO: the reported quorum of one tracked process from successive counts."""

    spec: ProcessSpec
    count: int = 0
    have_quorum: bool = False
    #: pending delayed re-evaluation: ("fork" | "terminate", deadline)
    timer: tuple[str, float] | None = None
    started: bool = False

    def start(self, count: int) -> bool:
        """The first count: reported at once (initialise_process_tracking_priorities())."""
        self.count, self.started = count, True
        self.have_quorum = self.spec.have_quorum(count)
        return self.have_quorum

    def _crossed(self, old: int, new: int) -> bool:
        lo, hi = min(old, new), max(old, new)
        q, qmax = self.spec.quorum, self.spec.quorum_max
        # the quorum status differs on the two sides of q-1|q or of qmax|qmax+1
        return (lo < q <= hi) or (lo <= qmax < hi)

    def observe(self, count: int, now: float) -> bool | None:
        """A new count; returns the status to report (or None)."""
        old, self.count = self.count, count
        if count == old or not self._crossed(old, count):
            return None
        going_up = count > old
        opposite = "terminate" if going_up else "fork"
        delay = self.spec.fork_delay if going_up else self.spec.terminate_delay
        if self.timer is not None and self.timer[0] == opposite:
            self.timer = None
        elif delay:
            self.timer = ("fork" if going_up else "terminate", now + delay)
            return None
        return self._set(self.spec.have_quorum(count))

    def next_deadline(self) -> float | None:
        return self.timer[1] if self.timer else None

    def tick(self, now: float) -> bool | None:
        """A delay may have expired: report the quorum as it is now."""
        if self.timer is None or now < self.timer[1]:
            return None
        self.timer = None
        return self._set(self.spec.have_quorum(self.count))

    def _set(self, up: bool) -> bool | None:
        if up == self.have_quorum:
            return None
        self.have_quorum = up
        return up


# ---------------------------------------------------------------------------- /proc scan
def read_proc(pid: int, want_comm: bool, want_cmdline: bool, proc_root: str = "/proc") -> ProcInfo | None:
    comm = ""
    cmdline = b""
    if want_cmdline:
        try:
            with open(f"{proc_root}/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            return None
    if want_comm:
        try:
            with open(f"{proc_root}/{pid}/stat", "rb") as f:
                stat_buf = f.read(127)
        except OSError:
            return None
        start = stat_buf.find(b"(", 2)
        end = stat_buf.find(b")", start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            return None
        if stat_buf[end + 2: end + 3] == b"Z":
            return None
        comm = stat_buf[start + 1:end].decode("utf-8", "surrogateescape")
    elif want_cmdline and not cmdline:
        return None  # zombies and kernel threads have no command line
    return ProcInfo(pid, comm, cmdline)


def scan(specs: Iterable[ProcessSpec], proc_root: str = "/proc",
         pids: Callable[[], Iterable[int]] | None = None) -> dict[str, int]:
    """Count the processes matching each spec (blocking: run it in a thread)."""
    specs = list(specs)
    counts = {s.name: 0 for s in specs}
    if not specs:
        return counts
    want_cmdline = any(s.full_command for s in specs)
    want_comm = any(not s.full_command for s in specs)
    if pids is None:
        import psutil
        pids = psutil.pids
    for pid in pids():
        info = read_proc(pid, want_comm, want_cmdline, proc_root)
        if info is None:
            continue
        for s in specs:
            if s.matches(info):
                counts[s.name] += 1
    return counts


async def scan_in_thread(specs: list[ProcessSpec]) -> dict[str, int]:
    """scan() off the event loop: reading /proc for every process takes milliseconds."""
    return await asyncio.to_thread(scan, specs)


class ProcessWatcher:
    """Scans /proc every `interval` seconds and reports quorum changes via `on_change`.

    Time is the injected `clock` and `scheduler` (keepalived_py/clock.py); `scanner`
    counts the matching processes (default: scan() in a worker thread), so tests drive a
    watcher with a FakeScheduler and made-up counts."""

    def __init__(self, on_change: Callable[[str, bool], None], *, interval: float = SCAN_INTERVAL,
                 clock: Clock | None = None, scheduler: Scheduler | None = None,
                 scanner: Callable[[list[ProcessSpec]], Awaitable[dict[str, int]]] = scan_in_thread,
                 log_fn: Callable[[str], None] | None = None) -> None:
        self.on_change = on_change
        self.interval = interval
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.scheduler = scheduler
        self.scanner = scanner
        self.log_fn = log_fn or log.info
        self.quorums: dict[str, ProcessQuorum] = {}
        self._scan_timer: Timer | None = None
        self._delay_timer: tuple[float, Timer] | None = None
        self._scan_task: asyncio.Task | None = None
        self._closed = False

    async def add(self, specs: list[ProcessSpec]) -> dict[str, bool]:
        """Start tracking `specs`; returns their initial quorum."""
        counts = await self.scanner(specs)
        out = {}
        for s in specs:
            q = ProcessQuorum(s)
            out[s.name] = q.start(counts.get(s.name, 0))
            self.quorums[s.name] = q
        return out

    def remove(self, name: str) -> None:
        self.quorums.pop(name, None)

    def start(self) -> None:
        if self.scheduler is None:
            self.scheduler = LoopScheduler(asyncio.get_running_loop(), self.clock)
        self._scan_timer = self.scheduler.call_at(self.clock.now() + self.interval, self._scan_due)

    def _report(self, q: ProcessQuorum, up: bool | None) -> None:
        if up is None:
            return
        self.log_fn(f"Quorum {'gained' if up else 'lost'} for tracked process {q.spec.name}")
        self.on_change(q.spec.name, up)

    def _scan_due(self) -> None:
        """Every `interval`: count again (a scan still going makes this one wait its turn)."""
        if self._closed:
            return
        assert self.scheduler is not None
        self._scan_timer = self.scheduler.call_at(self.clock.now() + self.interval, self._scan_due)
        if self.quorums and (self._scan_task is None or self._scan_task.done()):
            self._scan_task = asyncio.get_running_loop().create_task(self._scan())

    async def _scan(self) -> None:
        specs = [q.spec for q in self.quorums.values()]
        counts = await self.scanner(specs)
        if self._closed:
            return
        now = self.clock.now()
        for name, count in counts.items():
            q = self.quorums.get(name)
            if q is not None:
                self._report(q, q.observe(count, now))
        self._tick()

    def _tick(self) -> None:
        """Report the quorums whose delay ran out; arm a timer for the next delay."""
        if self._closed:
            return
        now = self.clock.now()
        for q in list(self.quorums.values()):
            self._report(q, q.tick(now))
        deadlines = [d for q in self.quorums.values() if (d := q.next_deadline()) is not None]
        nxt = min(deadlines) if deadlines else None
        if self._delay_timer is not None and self._delay_timer[0] != nxt:
            self._delay_timer[1].cancel()
            self._delay_timer = None
        if nxt is not None and self._delay_timer is None:
            assert self.scheduler is not None
            self._delay_timer = (nxt, self.scheduler.call_at(nxt, self._delay_over))

    def _delay_over(self) -> None:
        self._delay_timer = None
        self._tick()

    async def close(self) -> None:
        self._closed = True
        for timer in (self._scan_timer, self._delay_timer[1] if self._delay_timer else None):
            if timer is not None:
                timer.cancel()
        self._scan_timer = self._delay_timer = None
        if self._scan_task is not None:
            self._scan_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scan_task
            self._scan_task = None
