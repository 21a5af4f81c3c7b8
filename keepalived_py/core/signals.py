"""keepalived's signal functions and their numbers (`--signum NAME`).

Scripts and units send these numbers (`kill -s $(keepalived --signum=JSON)`), so the
mapping must be keepalived's: STATS_CLEAR is SIGRTMAX-1 and JSON is SIGRTMIN+2, where
SIGRTMIN is the C library's (34 on glibc), which is also what Python reports.
"""

from __future__ import annotations

import signal
from enum import Enum

SIGJSON: int = int(signal.SIGRTMIN) + 2
SIGSTATS_CLEAR: int = int(signal.SIGRTMAX) - 1
#: keepalived-py's own: restart in place (re-exec the parent; the children stop without
#: releasing and their successors resume). keepalived uses SIGRTMIN+2, SIGRTMAX-1 and
#: SIGRTMAX (TDUMP); SIGRTMIN+6 is none of them.
SIGRESTART: int = int(signal.SIGRTMIN) + 6


class SigFunc(Enum):
    """The functions a signal can ask of the parent (and which it forwards)."""

    STOP = "STOP"
    RELOAD = "RELOAD"
    DATA = "DATA"
    STATS = "STATS"
    STATS_CLEAR = "STATS_CLEAR"
    JSON = "JSON"
    RESTART = "RESTART"  # keepalived-py's: in-place restart


SIGNUMS: dict[SigFunc, int] = {
    SigFunc.STOP: int(signal.SIGTERM),
    SigFunc.RELOAD: int(signal.SIGHUP),
    SigFunc.DATA: int(signal.SIGUSR1),
    SigFunc.STATS: int(signal.SIGUSR2),
    SigFunc.STATS_CLEAR: SIGSTATS_CLEAR,
    SigFunc.JSON: SIGJSON,
    SigFunc.RESTART: SIGRESTART,
}


def get_signum(name: str) -> int | None:
    """keepalived's get_signum(): exact, case-sensitive names; None when unknown."""
    for func, num in SIGNUMS.items():
        if func.value == name:
            return num
    return None


def func_for_signal(signum: int) -> SigFunc | None:
    """Which function a received signal number asks for (SIGINT also stops)."""
    if signum == signal.SIGINT:
        return SigFunc.STOP
    for func, num in SIGNUMS.items():
        if num == signum:
            return func
    return None


# The signals both the parent and the children handle on their loop.
HANDLED: tuple[int, ...] = (
    int(signal.SIGTERM), int(signal.SIGINT), int(signal.SIGHUP), int(signal.SIGUSR1),
    int(signal.SIGUSR2), SIGSTATS_CLEAR, SIGJSON, SIGRESTART,
)


def ignore_until_ready() -> None:
    """Like keepalived's signals_ignore(): reload and dump signals are ignored until the
    loop installs its handlers, so an early HUP does not kill a starting daemon."""
    for num in HANDLED:
        if num not in (signal.SIGTERM, signal.SIGINT):
            signal.signal(num, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


_early: list[int] = []


def catch_early_stop() -> None:
    """From the pid file write until the loop's handlers exist, remember TERM/INT instead
    of dying with the pid file left behind; the supervisor replays them."""
    def remember(signum: int, _frame: object) -> None:
        _early.append(signum)

    signal.signal(signal.SIGTERM, remember)
    signal.signal(signal.SIGINT, remember)


def take_early() -> list[int]:
    got = list(_early)
    _early.clear()
    return got
