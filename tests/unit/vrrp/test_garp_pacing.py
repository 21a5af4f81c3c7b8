"""GARP / NA pacing per interface (vrrp/garp_pacing.py), keepalived 2.2.7's rules."""

from __future__ import annotations

from ipaddress import ip_address

from keepalived_py.vrrp.garp_pacing import Frame, GarpPacer

A, B, C = ip_address("192.0.2.100"), ip_address("192.0.2.101"), ip_address("192.0.2.102")
N = ip_address("2001:db8::100")


def delays(ifname: str):
    if ifname in ("eth1", "eth2"):
        return ("group", 0), 0.5, 0.0  # a garp_group over eth1 and eth2
    return ("if", ifname), 0.1, 0.2


def burst(p: GarpPacer, inst: str, rank: int, ifname: str, addrs, now: float, repeat: int = 1):
    sent = []
    for _ in range(repeat):
        for n, a in enumerate(addrs):
            f = Frame(inst, ifname, a)
            if p.offer(f, ifname, (rank, n), now):
                sent.append(f)
    return sent


def test_first_frame_goes_then_one_per_interval_and_repeats_collapse():
    p = GarpPacer(delays)
    sent = burst(p, "VI_1", 0, "eth0", (A, B), 0.0, repeat=5)
    assert sent == [Frame("VI_1", "eth0", A)]
    assert p.wakeup == 0.1
    # B waits, and so does A from round 2: each address once, in address order
    assert p.due(0.1, lambda _n: True) == [Frame("VI_1", "eth0", A)]
    assert p.wakeup == 0.2 and p.due(0.2, lambda _n: True) == [Frame("VI_1", "eth0", B)]
    assert p.wakeup is None and not p.pending


def test_pending_go_in_instance_then_address_order_one_per_pass():
    p = GarpPacer(delays)
    burst(p, "VI_2", 1, "eth0", (C,), 0.0)
    burst(p, "VI_1", 0, "eth0", (A, B), 0.01)
    out = []
    t = p.wakeup
    while t is not None:
        out += [(round(t, 3), f.address) for f in p.due(t, lambda _n: True)]
        t = p.wakeup
    # queue_garp: the timer runs one interval from when the first frame had to wait
    assert out == [(0.11, A), (0.21, B)]


def test_interfaces_of_one_garp_group_share_the_spacing_and_families_do_not():
    p = GarpPacer(delays)
    assert burst(p, "VI_1", 0, "eth1", (A,), 0.0) == [Frame("VI_1", "eth1", A)]
    assert burst(p, "VI_2", 1, "eth2", (B,), 0.1) == []  # same group: waits until 0.5
    assert burst(p, "VI_2", 1, "eth2", (N,), 0.1) == [Frame("VI_2", "eth2", N)]  # NA: no gna interval
    assert p.due(0.4, lambda _n: True) == [] and p.wakeup == 0.5
    assert p.due(0.5, lambda _n: True) == [Frame("VI_2", "eth2", B)]


def test_no_interval_sends_everything_at_once():
    p = GarpPacer(lambda ifname: (("if", ifname), 0.0, 0.0))
    assert len(burst(p, "VI_1", 0, "eth0", (A, B), 0.0, repeat=3)) == 6 and p.wakeup is None


def test_frames_of_an_instance_no_longer_master_are_dropped():
    p = GarpPacer(delays)
    burst(p, "VI_1", 0, "eth0", (A, B), 0.0)
    assert p.due(0.1, lambda n: n != "VI_1") == [] and not p.pending and p.wakeup is None
