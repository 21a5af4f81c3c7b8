"""The bench's pure arithmetic: summaries, percentiles, VRRP bounds, and the markdown table.

Pure on purpose (numbers in, numbers or text out): the lab cases measure, this module
judges, and tests/unit/bench checks it without root, a lab or a clock.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Summary:
    n: int
    min: float
    median: float
    max: float


def summarize(values: Iterable[float]) -> Summary | None:
    """min / median / max of the finite values; None when there are none (a case that failed)."""
    vals = sorted(v for v in values if v is not None and math.isfinite(v))
    if not vals:
        return None
    return Summary(len(vals), vals[0], statistics.median(vals), vals[-1])


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100), linear between closest ranks (numpy's default)."""
    vals = sorted(values)
    if not vals:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} outside 0..100")
    pos = (len(vals) - 1) * p / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """keepalived-py / keepalived; None when either is missing or keepalived's is zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


# ------------------------------------------------------------------------------ VRRP bounds
def skew_time(prio: int, advert: float, version: int) -> float:
    """Skew_Time in seconds: RFC 3768 (v2) uses (256 - prio) / 256 s; RFC 5798 (v3) scales
    it by the advert interval, counted in centiseconds as on the wire."""
    if version == 3:
        return (256 - prio) * int(round(advert * 100)) / 25600
    return (256 - prio) / 256


def master_down_interval(prio: int, advert: float, version: int) -> float:
    """Master_Down_Interval: three advert intervals plus the skew of the backup's priority."""
    return 3 * advert + skew_time(prio, advert, version)


def failover_excess(reference_ts: float, first_advert_ts: float, backup_prio: int, advert: float,
                    version: int, graceful: bool) -> float:
    """How long after the protocol's bound the backup's first advert went out (seconds; negative:
    before it). The reference is the master's last advert before a kill -9 (bound: the
    backup's Master_Down_Interval) or its priority 0 advert on SIGTERM (bound: Skew_Time)."""
    bound = skew_time(backup_prio, advert, version) if graceful else \
        master_down_interval(backup_prio, advert, version)
    return first_advert_ts - reference_ts - bound


def takeover_times(adverts: Iterable[tuple[float, int, int]], vrid: int, fault_ts: float, graceful: bool,
                   master_prio: int, backup_prio: int) -> tuple[float | None, float | None]:
    """(reference, first advert of the backup) in capture time from (ts, vrid, priority)
    records: the reference is the master's priority 0 advert at or after the SIGTERM
    (`graceful`; 10 ms of clock slack) or its last advert before the kill -9."""
    mine = sorted((ts, prio) for ts, v, prio in adverts if v == vrid)
    if graceful:
        refs = [ts for ts, prio in mine if prio == 0 and ts >= fault_ts - 0.01][:1]
    else:
        refs = [ts for ts, prio in mine if prio == master_prio and ts < fault_ts][-1:]
    if not refs:
        return None, None
    first = [ts for ts, prio in mine if ts > refs[0] and prio == backup_prio][:1]
    return refs[0], first[0] if first else None


def interval_deviations(times_by_router: dict[object, Sequence[float]], advert: float) -> list[float]:
    """|gap - advert| for every pair of consecutive adverts of each instance (seconds)."""
    out: list[float] = []
    for times in times_by_router.values():
        ts = sorted(times)
        out += [abs(b - a - advert) for a, b in zip(ts, ts[1:], strict=False)]
    return out


def max_gap(times: Sequence[float]) -> float | None:
    ts = sorted(times)
    gaps = [b - a for a, b in zip(ts, ts[1:], strict=False)]
    return max(gaps) if gaps else None


# ------------------------------------------------------------------------------ results
@dataclass
class Metric:
    """One row of the table: a quantity measured for each implementation, `scale` turning the
    stored unit (seconds, bytes, fraction of a core) into the shown one."""

    case: str
    unit: str
    scale: float = 1.0
    values: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    def add(self, impl: str, value: float | None) -> None:
        self.values.setdefault(impl, [])
        if value is not None:
            self.values[impl].append(value)

    def summary(self, impl: str) -> Summary | None:
        return summarize(v * self.scale for v in self.values.get(impl, []))

    def as_json(self, impls: Sequence[str]) -> dict:
        out: dict = {"case": self.case, "unit": self.unit, "note": self.note, "impls": {}}
        for impl in impls:
            s = self.summary(impl)
            out["impls"][impl] = {
                "values": [v * self.scale for v in self.values.get(impl, [])],
                "min": s and s.min, "median": s and s.median, "max": s and s.max,
            }
        ours, theirs = (self.summary(i) for i in impls[:2]) if len(impls) >= 2 else (None, None)
        out["ratio"] = ratio(ours and ours.median, theirs and theirs.median)
        return out


def fmt(v: float | None) -> str:
    """A number with three significant figures, no exponent (the table is read by people)."""
    if v is None or not math.isfinite(v):
        return "-"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def _cell(s: Summary | None) -> str:
    if s is None:
        return "failed / not run"
    if s.n == 1:
        return fmt(s.median)
    return f"{fmt(s.min)} / **{fmt(s.median)}** / {fmt(s.max)}"


def table(metrics: Sequence[Metric], ours: str = "keepalived-py", theirs: str = "keepalived") -> str:
    """The markdown table: one row per metric, min / median / max for each implementation
    (the median in bold; one number when there is one sample) and the ratio of medians."""
    lines = [f"| case | unit | {theirs} min / median / max | {ours} min / median / max | ratio py / ka |",
             "|---|---|---|---|---|"]
    for m in metrics:
        a, b = m.summary(theirs), m.summary(ours)
        r = ratio(b and b.median, a and a.median)
        case = f"{m.case} ({m.note})" if m.note else m.case
        lines.append(f"| {case} | {m.unit} | {_cell(a)} | {_cell(b)} | {'-' if r is None else f'{r:.2f}x'} |")
    return "\n".join(lines) + "\n"
