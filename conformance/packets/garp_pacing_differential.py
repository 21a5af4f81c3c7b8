"""GARP / unsolicited NA frames on the wire, keepalived 2.2.7 against keepalived-py.

Why: the pacing of vrrp_garp_interval / vrrp_gna_interval is per interface and shared by
the instances on it; garp_master_refresh and garp_extra_if come at advert ticks. Each
implementation runs alone on router r1 of a lab with two LANs (the same config), tcpdump
on both bridges; every GARP / NA is reduced to (time after the first advert, bridge,
kind, address) and the two lists are compared frame by frame: the same frames, each
within `slack_s` of keepalived's (matched per bridge, kind and address in time order).

Used by tests/integration/test_vrrp_garp_pacing_lab.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from conformance.lab import arps, neighbor_adverts, read_pcap, vrrp_adverts
from conformance.lab.poll import wait_until

TOPOLOGY = """
bridge lan 192.0.2.0/24 2001:db8:0:1::/64
bridge back 198.51.100.0/24 2001:db8:0:2::/64
router r1 lan back
"""

CONF = """
global_defs {
    router_id r1
    vrrp_garp_interval 0.2
    vrrp_gna_interval 0.3
}
vrrp_instance A {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    garp_master_delay 2
    garp_master_repeat 2
    garp_master_refresh 3
    garp_master_refresh_repeat 1
    garp_extra_if all 2
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101/24
        198.51.100.100/24 dev eth1
    }
    virtual_ipaddress_excluded {
        2001:db8:0:1::100/64
    }
}
vrrp_instance B {
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    garp_master_delay 0
    garp_master_repeat 1
    virtual_ipaddress {
        192.0.2.110/24
    }
}
"""
RUN_S = 7.5


@dataclass(frozen=True)
class Seen:
    t: float  # seconds after the first advert
    bridge: str
    kind: str  # "arp" or "na"
    address: str

    def __str__(self) -> str:
        return f"{self.t:7.3f} {self.bridge} {self.kind} {self.address}"


def run(la, impl) -> list[Seen]:
    """Start `impl` on r1 with CONF, capture RUN_S seconds, return the frames seen."""
    caps = {b: la.capture(b, "arp or icmp6 or ip proto 112") for b in ("lan", "back")}
    d = la.start_daemon("r1", impl, CONF)

    def advert_seen() -> bool:
        path = caps["lan"].path
        return path.exists() and bool(vrrp_adverts(read_pcap(path)))
    wait_until(advert_seen, 20, what=lambda: d.output()[-3000:])
    time.sleep(RUN_S + 0.5)
    frames = {b: c.stop() for b, c in caps.items()}
    d.stop()
    first = min((a.ts for a in vrrp_adverts(frames["lan"])), default=None)
    if first is None:
        raise AssertionError(f"{impl.name}: no advert seen\n{d.output()[-3000:]}")
    out = []
    for bridge, fr in frames.items():
        out += [Seen(a.ts - first, bridge, "arp", a.sender_ip) for a in arps(fr) if a.gratuitous]
        out += [Seen(n.ts - first, bridge, "na", n.target) for n in neighbor_adverts(fr) if n.unsolicited]
    return sorted((s for s in out if s.t <= RUN_S), key=lambda s: s.t)


def compare(ka: list[Seen], ours: list[Seen], slack_s: float, drift: float = 0.0) -> tuple[list[str], float]:
    """Frames matched per (bridge, kind, address), in time order within each; returns the
    problems (a frame missing or extra, or further than `slack_s` + `drift` x its time from
    keepalived's) and the largest difference seen. `drift`: keepalived re-arms each advert
    from when its thread ran, so on a loaded machine its lateness adds up tick by tick."""
    def by_key(seen: list[Seen]) -> dict[tuple[str, str, str], list[float]]:
        out: dict[tuple[str, str, str], list[float]] = {}
        for s in seen:
            out.setdefault((s.bridge, s.kind, s.address), []).append(s.t)
        return out
    mine, theirs = by_key(ours), by_key(ka)
    problems: list[str] = []
    worst = 0.0
    for key in sorted(set(mine) | set(theirs)):
        a, b = theirs.get(key, []), mine.get(key, [])
        if len(a) != len(b):
            problems.append(f"{key}: keepalived at {[round(t, 3) for t in a]}, keepalived-py at "
                            f"{[round(t, 3) for t in b]}")
            continue
        for t1, t2 in zip(a, b, strict=True):
            worst = max(worst, abs(t1 - t2))
            if abs(t1 - t2) > slack_s + drift * t1:
                problems.append(f"{key}: keepalived {t1:.3f} s, keepalived-py {t2:.3f} s "
                                f"({(t2 - t1) * 1000:+.1f} ms)")
    return problems, worst


def spacing(seen: list[Seen], bridge: str, kind: str) -> list[float]:
    """Gaps between consecutive frames of one kind on one bridge (one interface here)."""
    ts = [s.t for s in seen if s.bridge == bridge and s.kind == kind]
    return [b - a for a, b in zip(ts, ts[1:], strict=False)]
