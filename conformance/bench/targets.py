"""The issues' targets for the bench's rows, and the verdict arithmetic (met / missed by how much).

Pure: the targets are data (a row-name pattern and what the issue asks of it) so that the
table says, beside each number, whether issue 14, 16, 17 or 18 is met, and nobody has to
recompute it by hand from the README. A row no pattern matches has no target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .stats import Metric, fmt, ratio

OURS, THEIRS = "keepalived-py", "keepalived"


@dataclass(frozen=True)
class Target:
    """What an issue asks of one row: keepalived-py's `stat` (median, or max when every
    sample must meet it) `op` `limit` in the row's unit, or, with `of_ratio`, the ratio of
    medians keepalived-py / reference `op` `limit`."""

    issue: int
    op: str  # "<=" or ">="
    limit: float
    of_ratio: bool = False
    stat: str = "median"  # "median" or "max"
    reference: str = "keepalived's"

    def text(self, unit: str) -> str:
        sign = "≤" if self.op == "<=" else "≥"
        what = f"{self.limit:,g}x {self.reference}" if self.of_ratio else f"{self.limit:,g} {_short(unit)}"
        every = ", every sample" if self.stat == "max" and not self.of_ratio else ""
        return f"{sign} {what}{every} (#{self.issue})"


# Row-name patterns (re.search) and their targets, from the issues' texts:
# 16: the table at its top and its scope (timer precision, reload proof); 14 acceptance 5;
# 17 acceptance 3 (Down within the detection time + 50 ms); 18 acceptance 3.
TARGETS: tuple[tuple[str, Target], ...] = (
    (r"^launch -> BACKUP state", Target(16, "<=", 100.0)),
    (r"^SIGTERM -> VIP gone", Target(16, "<=", 2.0)),
    (r"^`-t` on \d{1,3} lines: time", Target(16, "<=", 50.0)),
    (r"^`-t` on \d{1,3}(,\d{3})+ lines: time", Target(16, "<=", 600.0)),
    (r"^`-t` on \d{1,3}(,\d{3})+ lines: peak RSS", Target(16, "<=", 64.0)),
    (r"^failover ", Target(16, "<=", 1.0)),
    (r"^advert interval deviation p50", Target(16, "<=", 0.1)),
    (r"^advert interval deviation p99", Target(16, "<=", 0.5)),
    (r"^advert send lateness p(50|99) .*, 255 instances$", Target(16, "<=", 0.5)),
    (r"^CPU, 255 instances$", Target(16, "<=", 1.0, of_ratio=True)),
    (r"^PSS summed, 1 instance$", Target(16, "<=", 48.0)),
    (r"^PSS summed, 255 instances$", Target(16, "<=", 64.0)),
    (r"^reload of 1 instance among \d+: other VIPs' address events", Target(16, "<=", 0.0, stat="max")),
    # 14: 5,000 checkers at delay_loop 1 offer 5,000 / (1 s + a check's time) per second, as
    # keepalived runs a checker again delay_loop after its check ended: the issue's 5,000/s
    # is this case's ceiling, which keepalived would not reach either; 2 ms a round (0.2%)
    # is allowed for the check itself and the timer
    (r"^TCP_CHECK, 5,000 listeners, delay_loop 1 \(host\): checks$", Target(14, ">=", 4990.0)),
    # 14: "CPU no more than 2x keepalived's" on the same work: in the guest that is delay_loop
    # 20 (250 checks/s, which both keep up with); at delay_loop 1 neither keeps up on the one
    # emulated CPU and each does a different amount (check_cases.guest_case)
    (r"^TCP_CHECK, 5,000 listeners, delay_loop 20 \(guest\): daemon CPU per 1,000 checks$",
     Target(14, "<=", 2.0, of_ratio=True)),
    (r"^BFD detection, .*, p(50|99)$", Target(17, "<=", 200.0)),
    (r"^BFD detection, ", Target(17, "<=", 200.0, stat="max")),
    (r"^dataplane\b.*: (new connections|small requests|large streams)$",
     Target(18, ">=", 0.5, of_ratio=True, reference="HAProxy's")),
)


def target_for(case: str) -> Target | None:
    """The first target whose pattern matches the row's name."""
    return next((t for pattern, t in TARGETS if re.search(pattern, case)), None)


def _short(unit: str) -> str:
    return unit.removesuffix(" over bound")


def judge(target: Target | None, ours: float | None, theirs: float | None, unit: str) -> str:
    """The verdict on one row. `ours` is keepalived-py's statistic (shown unit), `theirs` the
    reference's median (only for ratio targets). A miss is said as a difference in the row's
    unit when the value is within 2x of the limit (or the limit is 0), else as a factor;
    ratio targets always as a factor."""
    if target is None:
        return "no target"
    if target.of_ratio:
        value = ratio(ours, theirs)
        if value is None:
            return "not measured"
    elif ours is None:
        return "not measured"
    else:
        value = ours
    le = target.op == "<="
    if (value <= target.limit) if le else (value >= target.limit):
        return "met"
    if target.of_ratio:
        factor = value / target.limit if le else (target.limit / value if value > 0 else float("inf"))
        return f"missed by {_factor(factor)}"
    lo, hi = (target.limit, value) if le else (value, target.limit)
    if target.limit == 0 or lo <= 0 or hi < 2 * lo:
        return f"missed by {fmt(hi - lo)} {_short(unit)}"
    return f"missed by {_factor(hi / lo)}"


def _factor(f: float) -> str:
    if f == float("inf"):
        return "∞"
    if f >= 100:
        return f"{f:,.0f}x"
    return f"{f:.1f}x" if f >= 2 else f"{f:.2f}x"  # a near miss keeps its second digit (1.04x, not 1.0x)


def row_verdict(m: Metric) -> tuple[str, str]:
    """(target text, verdict) for one metric of the bench."""
    t = target_for(m.case)
    if t is None:
        return "-", "no target"
    ours, theirs = m.summary(OURS), m.summary(THEIRS)
    stat = None if ours is None else (ours.max if t.stat == "max" else ours.median)
    return t.text(m.unit), judge(t, stat, theirs and theirs.median, m.unit)
