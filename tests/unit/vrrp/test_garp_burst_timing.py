"""The burst-relative GARP / NA timing comparison (conformance/packets/garp_burst_timing.py)."""

from __future__ import annotations

from conformance.packets.garp_burst_timing import bursts, offsets, slot_s, summary, unexplained_s
from conformance.packets.garp_pacing_differential import Seen


def _seen(*frames: tuple[float, str, str, str]) -> list[Seen]:
    return [Seen(*f) for f in frames]


def test_bursts_split_on_gaps():
    s = _seen((0.0, "lan", "arp", "a"), (0.2, "lan", "arp", "b"), (2.0, "lan", "arp", "a"))
    assert [[f.address for f in b] for b in bursts(s, 0.5)] == [["a", "b"], ["a"]]


def test_a_shifted_burst_is_no_difference_but_spacing_is():
    ka = _seen((0.007, "lan", "arp", "a"), (0.211, "lan", "arp", "b"), (3.033, "lan", "arp", "a"))
    # ours: the whole first burst 6 ms earlier (no difference), the second burst shifted
    # by 20 ms (tick drift: no difference), b 3 ms later in its burst (a difference)
    ours = _seen((0.001, "lan", "arp", "a"), (0.208, "lan", "arp", "b"), (3.013, "lan", "arp", "a"))
    offs, problems = offsets(ka, ours, 0.5)
    assert problems == []
    assert [round(o.diff_s * 1000, 1) for o in offs] == [0.0, 3.0, 0.0]
    median, worst = summary(offs)
    assert round(median * 1000, 1) == 0.0 and round(worst * 1000, 1) == 3.0


def test_missing_frame_and_burst_are_problems():
    ka = _seen((0.0, "lan", "arp", "a"), (0.0, "back", "arp", "c"), (2.0, "lan", "arp", "a"))
    ours = _seen((0.0, "lan", "arp", "a"))
    offs, problems = offsets(ka, ours, 0.5)
    assert len(problems) == 2
    assert [o.address for o in offs] == ["a"]


def test_keepalived_late_of_its_slot_is_not_a_difference():
    # keepalived's NA of the first round 8.9 ms after its GARP, its paced GARP 5.9 ms late
    # of its 0.2 s slot; ours on time: nothing unexplained
    ka = _seen((0.0, "lan", "arp", "a"), (0.0089, "lan", "na", "n"), (0.2059, "lan", "arp", "a"))
    ours = _seen((0.0, "lan", "arp", "a"), (0.0004, "lan", "na", "n"), (0.2003, "lan", "arp", "a"))
    offs, problems = offsets(ka, ours, 0.5)
    assert problems == []
    intervals = {"arp": 0.2, "na": 0.3}
    assert [round(unexplained_s(o, intervals[o.kind]) * 1000, 1) for o in offs] == [0.0, 0.0, 0.0]


def test_our_own_lateness_or_earliness_counts():
    ka = _seen((0.0, "lan", "arp", "a"), (0.2010, "lan", "arp", "a"), (0.4000, "lan", "arp", "a"))
    # ours: 7 ms late of keepalived's on-time frame; 6 ms early of its slot
    ours = _seen((0.0, "lan", "arp", "a"), (0.2080, "lan", "arp", "a"), (0.3940, "lan", "arp", "a"))
    offs, _ = offsets(ka, ours, 0.5)
    assert [round(unexplained_s(o, 0.2) * 1000, 1) for o in offs] == [0.0, 7.0, 6.0]
    assert slot_s(0.2059, 0.2) == 0.2 and slot_s(0.0089, 0.3) == 0.0
