"""What the client saw, and the numbers the demo reports from it (pure: no I/O, no clock).

Every request is `(start, ok, who, end)`: its start and end on the monotonic clock, whether it
got a web server's answer, and the server's name or the failure's reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    start: float
    ok: bool
    who: str
    end: float | None = None   # when the answer (or the failure) came


def parse(line: str) -> Request | None:
    """One client line (`1234.5 ok web1 1234.6` / `1234.5 fail timeout 1235.5`), None if
    garbled."""
    parts = line.split()
    if len(parts) not in (3, 4) or parts[1] not in ("ok", "fail"):
        return None
    try:
        times = [float(parts[0]), *(float(x) for x in parts[3:])]
    except ValueError:
        return None
    return Request(times[0], parts[1] == "ok", parts[2], times[1] if len(times) > 1 else None)


def since(reqs: Iterable[Request], t: float) -> list[Request]:
    return [r for r in reqs if r.start >= t]


def spread(reqs: Sequence[Request]) -> Counter[str]:
    """Answers per server (failures under "failed")."""
    return Counter(r.who if r.ok else "failed" for r in reqs)


@dataclass(frozen=True)
class Outage:
    """Requests around an event at `t0`: the failures from it until service came back."""

    failed: int
    back_after: float | None   # seconds from t0 to the first request of a run of `steady` oks
    first_ok: float | None


def outage(reqs: Sequence[Request], t0: float, steady: int = 3,
           avoid: str | None = None) -> Outage:
    """Count failed requests from the event at `t0` (those in flight then included: they
    ended after it) until the first run of `steady` good answers started after `t0`
    (answers from `avoid`, a server being taken out, do not count as good)."""
    window = [r for r in reqs if r.start >= t0 or (r.end is not None and r.end >= t0)]
    good = [r.ok and r.who != avoid for r in window]
    back = None
    for i in range(len(window) - steady + 1):
        if window[i].start >= t0 and all(good[i:i + steady]):
            back = i
            break
    upto = window if back is None else window[:back]
    failed = sum(1 for r in upto if not r.ok)
    if back is None:
        return Outage(failed, None, None)
    return Outage(failed, window[back].start - t0, window[back].start)


def last_from(reqs: Sequence[Request], who: str) -> float | None:
    """Start of the last answer from `who`."""
    return max((r.start for r in reqs if r.ok and r.who == who), default=None)


def first_from(reqs: Sequence[Request], who: str, after: float) -> float | None:
    return min((r.start for r in reqs if r.ok and r.who == who and r.start >= after), default=None)
