"""The bench's report: one markdown table with each row's target and verdict, under a header
paragraph that says what was run, when, on what, for how long and under what load.

Pure (metrics and facts in, text and a JSON-ready dict out): the runner measures, this
module only renders, so the layout the README receives is unit-tested without a lab.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from .stats import Metric, Summary, fmt, ratio
from .targets import OURS, THEIRS, row_verdict

# Rows grouped by kind (prefix of the case name); within a kind, in the order measured.
ORDER = ("launch", "SIGTERM ->", "`ip netns", "`-t`", "failover SIGTERM", "failover kill", "BFD detection",
         "advert interval deviation p50", "advert interval deviation p99", "advert send lateness", "CPU", "PSS",
         "reload", "dataplane", "TCP_CHECK", "program")


def order_key(m: Metric) -> int:
    return next((i for i, prefix in enumerate(ORDER) if m.case.startswith(prefix)), len(ORDER))


@dataclass
class RunFacts:
    """What the header paragraph says about the run itself."""

    commit: str
    date: str  # UTC, ISO 8601
    host: str
    cpus: int | None
    plan: str
    keepalived: str
    minutes: float
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    case_seconds: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)  # py-spy outputs, relative to the results folder


def _cell(s: Summary | None, ran: bool = True) -> str:
    if s is None:
        return "failed" if ran else "not run"
    if s.n == 1:
        return fmt(s.median)
    return f"{fmt(s.min)} / **{fmt(s.median)}** / {fmt(s.max)}"


def _load(x: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in x)


def header(f: RunFacts) -> str:
    """The paragraph above the table."""
    per = ", ".join(f"{n} {_dur(s)}" for n, s in f.case_seconds.items())
    text = (f"`make bench` ({f.plan} run) at commit {f.commit}, {f.date}, on {f.host} ({f.cpus} CPUs): "
            f"keepalived-py beside {f.keepalived}, alternating in the same run on the same configs. "
            f"Duration {f.minutes:.1f} min ({per}). Load average (1 / 5 / 15 min) "
            f"{_load(f.load_start)} at the start, {_load(f.load_end)} at the end.")
    if f.errors:
        text += f" {len(f.errors)} case(s) failed: see the list under the table."
    return text


def _dur(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def table(metrics: Sequence[Metric]) -> str:
    """One row per metric: min / median / max for each implementation (median in bold; one
    number when there is one sample), the ratio of medians, the issue's target, the verdict."""
    lines = [f"| case | unit | {THEIRS} min / median / max | {OURS} min / median / max | ratio py / ka "
             "| target | verdict |",
             "|---|---|---|---|---|---|---|"]
    for m in metrics:
        a, b = m.summary(THEIRS), m.summary(OURS)
        r = ratio(b and b.median, a and a.median)
        target, verdict = row_verdict(m)
        case = f"{m.case} ({m.note})" if m.note else m.case
        lines.append(f"| {case} | {m.unit} | {_cell(a, THEIRS in m.values)} | {_cell(b, OURS in m.values)} | {'-' if r is None else f'{r:.2f}x'} "
                     f"| {target} | {verdict} |")
    return "\n".join(lines) + "\n"


def tally(metrics: Sequence[Metric]) -> str:
    """'N targets met, M missed, K not measured' over the rows that have a target."""
    c = Counter(row_verdict(m)[1].split(" ")[0] for m in metrics)
    return (f"Targets: {c['met']} met, {c['missed']} missed, {c['not']} not measured; "
            f"{c['no']} rows without a target.")


def markdown(f: RunFacts, metrics: Sequence[Metric]) -> str:
    """The whole report as the README receives it."""
    rows = sorted(metrics, key=order_key)
    out = f"{header(f)}\n\n{table(rows)}\n{tally(rows)}\n"
    if f.profiles:
        out += ("\nProfiles (py-spy; each *.top lists the top frames of its *.txt): "
                + ", ".join(f"`{p}`" for p in f.profiles) + "\n")
    if f.errors:
        out += "\nFailed cases:\n\n" + "".join(f"- {e.splitlines()[0]}\n" for e in f.errors)
    return out


def as_json(f: RunFacts, metrics: Sequence[Metric]) -> dict:
    """The same numbers for machines: every row with its raw values, target and verdict."""
    rows = []
    for m in sorted(metrics, key=order_key):
        d = m.as_json([OURS, THEIRS])
        d["target"], d["verdict"] = row_verdict(m)
        rows.append(d)
    return {"facts": f.__dict__, "metrics": rows}
