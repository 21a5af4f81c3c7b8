"""GARP / NA pacing, refresh and garp_extra_if on capture timestamps: keepalived-py as a
daemon against keepalived 2.2.7 on the same config (two instances on one interface taking
over together, sharing its vrrp_garp_interval / vrrp_gna_interval, a VIP on a second
interface, garp_master_delay, garp_master_refresh, garp_extra_if all), see
conformance/packets/garp_pacing_differential.py.

Every frame keepalived sends, we send, on the same interface, for the same address; the
spacing on an interface is never under its interval.

Time per frame (the issue asks for 5 ms per packet), judged inside each burst, each side from
its own first frame of the burst (conformance/packets/garp_burst_timing.py), so that load
shifting a whole burst, or keepalived's advert ticks drifting (each re-armed from when its
thread ran: 20-30 ms per tick at load 7), cannot fail it. Keepalived's own lateness is not
ours to match either: its paced frames come 1-6 ms late per interval step (vrrp_arp_thread
re-arms from when it ran) and its first round goes frame by frame (at CI load its NA came
9-11 ms after its GARP where ours came within 0.5 ms; a raw median comparison failed CI by
0.02 ms on that alone). So each frame of ours must lie within 5 ms of keepalived's frame or
of the pacing slot keepalived's frame was meant for, or between the two
(`unexplained_s`); our own lateness or earliness counts in full. Every per-frame figure is
printed. What is asserted: the median frame within 5 ms, at least 90% of the frames within
5 ms, and every frame within PER_FRAME_MAX_S (a frame in the wrong pacing slot fails). Why
not every frame within 5 ms: our own process gets descheduled on a loaded 2-core machine
(at load 1.5, with a qemu guest taking a core, two frames of one burst both came 40 ms late,
the rest of the run within 1.4 ms); on such a run keepalived's frames straggle the same way.

The older after-the-first-advert comparison stays, with its tick-drift allowance and a
slack of PER_FRAME_MAX_S: measured from each side's first advert, a whole burst shifts with
the time the addresses take to install under load (CI at load ~2: every keepalived-py frame
+16 ms, the same in every burst, which the in-burst comparison sees as 0).
"""

from __future__ import annotations

import pytest

from conformance.packets.garp_burst_timing import offsets, summary, unexplained_s
from conformance.packets.garp_pacing_differential import TOPOLOGY, compare, run, spacing

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

BURST_GAP_S = 0.5  # paced frames are 0.2 / 0.3 s apart, bursts start at advert ticks (1 s)
PER_PACKET_S = 0.005
INTERVALS_S = {"arp": 0.2, "na": 0.3}  # vrrp_garp_interval / vrrp_gna_interval in CONF
PER_FRAME_MAX_S = 0.05  # a quarter of the shortest pacing interval: a frame in the wrong slot fails
SLACK_S = PER_FRAME_MAX_S
DRIFT = 0.02


def test_garp_na_frames_match_keepalived(lab, implementation, keepalived_impl):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = run(lab(TOPOLOGY), keepalived_impl)
    ours = run(lab(TOPOLOGY), py)
    print("keepalived:\n " + "\n ".join(map(str, ka)))
    print("keepalived-py:\n " + "\n ".join(map(str, ours)))
    # keepalived's own run shows what is under test: the extra interface, paced frames
    assert any(s.bridge == "back" for s in ka), ka
    assert min(spacing(ka, "lan", "arp")) >= 0.19, ka
    problems, worst = compare(ka, ours, SLACK_S, DRIFT)
    print(f"largest difference per frame after the first advert: {worst * 1000:.1f} ms")
    assert problems == []
    # our spacing per interface is never under the interval (0.2 s ARP, 0.3 s NA)
    assert min(spacing(ours, "lan", "arp")) >= 0.2 - 0.002
    assert min(spacing(ours, "lan", "na")) >= 0.3 - 0.002

    offs, problems = offsets(ka, ours, BURST_GAP_S)
    print("per frame, after each side's first frame of its burst:\n " + "\n ".join(map(str, offs)))
    median, largest = summary(offs)
    print(f"in-burst difference per frame: median {median * 1000:.1f} ms, largest {largest * 1000:.1f} ms")
    assert problems == []
    unexplained = [(unexplained_s(o, INTERVALS_S[o.kind]), o) for o in offs]
    print("beyond keepalived's frame or its slot: " + ", ".join(f"{u * 1000:.1f}" for u, _ in unexplained) + " ms")
    beyond = [str(o) for u, o in unexplained if u > PER_PACKET_S]
    print(f"frames beyond {PER_PACKET_S * 1000:.0f} ms: {len(beyond)} of {len(offs)}: {beyond}")
    assert sorted(u for u, _ in unexplained)[len(unexplained) // 2] <= PER_PACKET_S
    assert len(beyond) <= len(offs) // 10
    assert [str(o) for u, o in unexplained if u > PER_FRAME_MAX_S] == []
    assert [str(o) for o in offs if abs(o.diff_s) > PER_FRAME_MAX_S] == []
