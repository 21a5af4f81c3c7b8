"""GARP / NA timing inside each burst, each side measured from its own first frame.

Why: comparing capture times after the first advert mixes two things: how late each
daemon's advert ticks run (keepalived re-arms each tick from when its thread ran, so on a
loaded machine it drifts 20-30 ms per tick) and how each daemon spaces the frames of one
burst (the first round at once, the paced ones vrrp_garp_interval / vrrp_gna_interval
apart). The second is what GARP pacing is about; measuring each frame from its own side's
first frame of the burst takes the tick drift, and any load that shifts a whole burst,
out of the comparison.

Keepalived's own lateness is not ours to match: under load its paced frames come late
(each re-armed from when vrrp_arp_thread ran) and its first round goes out frame by frame
(its NA 9-12 ms after its GARP at CI load). So a frame of ours matches keepalived's when it
lies within the limit of keepalived's frame or of the pacing slot keepalived's frame was meant
for (the nearest multiple of the interface's interval after the burst's first frame), or
anywhere between the two: `unexplained_s` is the distance to that segment. A frame of ours
that is late, or early of its slot, still counts in full.

A burst is a run of frames (every bridge and kind together) with no gap over `gap_s`; the
frames of the two sides are matched per burst and per (bridge, kind, address) in time
order. Pure: the lists come from conformance/packets/garp_pacing_differential.py.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Protocol


class Frame(Protocol):
    t: float
    bridge: str
    kind: str
    address: str


@dataclass(frozen=True)
class Offset:
    burst: int
    bridge: str
    kind: str
    address: str
    keepalived_s: float  # after keepalived's first frame of the burst
    ours_s: float  # after our first frame of the burst

    @property
    def diff_s(self) -> float:
        return self.ours_s - self.keepalived_s

    def __str__(self) -> str:
        return (f"burst {self.burst} {self.bridge} {self.kind} {self.address}: keepalived "
                f"+{self.keepalived_s * 1000:6.1f} ms, keepalived-py +{self.ours_s * 1000:6.1f} ms "
                f"({self.diff_s * 1000:+.1f} ms)")


def bursts(seen: list[Frame], gap_s: float) -> list[list[Frame]]:
    """Frames in time order, split wherever no frame came for more than `gap_s`."""
    out: list[list[Frame]] = []
    last = None
    for s in sorted(seen, key=lambda s: s.t):
        if last is None or s.t - last > gap_s:
            out.append([])
        out[-1].append(s)
        last = s.t
    return out


def offsets(ka: list[Frame], ours: list[Frame], gap_s: float) -> tuple[list[Offset], list[str]]:
    """Per frame, its time after its side's first frame of the burst; and the problems
    (a different number of bursts, or a frame one side sent and the other did not)."""
    kb, ob = bursts(ka, gap_s), bursts(ours, gap_s)
    problems: list[str] = []
    if len(kb) != len(ob):
        problems.append(f"{len(kb)} bursts from keepalived, {len(ob)} from keepalived-py")
    out: list[Offset] = []
    for n, (a, b) in enumerate(zip(kb, ob, strict=False)):
        def rel(frames: list[Frame]) -> dict[tuple[str, str, str], list[float]]:
            first = frames[0].t
            keyed: dict[tuple[str, str, str], list[float]] = {}
            for f in frames:
                keyed.setdefault((f.bridge, f.kind, f.address), []).append(f.t - first)
            return keyed
        ra, rb = rel(a), rel(b)
        for key in sorted(set(ra) | set(rb)):
            ta, tb = ra.get(key, []), rb.get(key, [])
            if len(ta) != len(tb):
                problems.append(f"burst {n} {key}: keepalived {[round(t, 3) for t in ta]}, "
                                f"keepalived-py {[round(t, 3) for t in tb]}")
                continue
            out += [Offset(n, *key, x, y) for x, y in zip(ta, tb, strict=True)]
    return out, problems


def slot_s(offset_s: float, interval_s: float) -> float:
    """The pacing slot a frame after the burst's first frame was meant for."""
    return round(offset_s / interval_s) * interval_s


def unexplained_s(o: Offset, interval_s: float) -> float:
    """How far our frame is from the segment between keepalived's frame and the slot it
    was meant for (0 inside it): the difference that keepalived's lateness does not explain."""
    nominal = slot_s(o.keepalived_s, interval_s)
    low, high = min(nominal, o.keepalived_s), max(nominal, o.keepalived_s)
    return max(0.0, low - o.ours_s, o.ours_s - high)


def summary(offs: list[Offset]) -> tuple[float, float]:
    """(median, largest) absolute per-frame difference in seconds."""
    diffs = [abs(o.diff_s) for o in offs]
    return (statistics.median(diffs), max(diffs)) if diffs else (0.0, 0.0)
