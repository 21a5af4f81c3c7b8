"""track_bfd weights beside real keepalived 2.2.7: the same configuration runs on r1 under
keepalived and under keepalived-py, and r1's adverts carry the same effective priorities.

r1 (priority 150, alone, so MASTER) tracks one BFD session to r3 (real keepalived), b1
with `weight -60 reverse`, from two instances:
- VI_51 `track_bfd { b1 }`: the bfd_instance's weight and reverse are the default: 150
  while Up, 150 + 60 = 210 once Down;
- VI_52 `track_bfd { b1 weight 25 }`: the line's weight wins but the bfd_instance's
  `reverse` stays (alloc_track_bfd): 150 - 25 = 125 while Up, 150 once Down.
The priorities are read from the captured adverts (they carry the effective priority); both
log keepalived's "VRRP_Instance(VI_51) Tracked BFD instance b1 is UP|DOWN" lines.
"""

from __future__ import annotations

import pytest

from conformance.lab.pcap import read_pcap, vrrp_adverts
from conformance.lab.poll import wait_until
from tests.integration.test_bfd_support import bfd_conf

pytestmark = [pytest.mark.root, pytest.mark.slow]

THREE = "bridge lan 192.0.2.0/24\nrouter r1 lan\nrouter r3 lan"
EXPECTED = {51: (150, 210), 52: (125, 150)}  # vrid -> (priority with b1 Up, with b1 Down)


def _instance(vrid: int, track: str) -> str:
    return (f"vrrp_instance VI_{vrid} {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {vrid}\n    priority 150\n    advert_int 1\n"
            f"    track_bfd {{\n        {track}\n    }}\n"
            f"    virtual_ipaddress {{\n        192.0.2.{vrid + 100}/24\n    }}\n}}\n")


def _priorities(frames: list, src: str) -> dict[int, list[int]]:
    """vrid -> the priorities `src` advertised, in order, repeats folded."""
    out: dict[int, list[int]] = {}
    for a in vrrp_adverts(frames):
        if a.src != src:
            continue
        seq = out.setdefault(a.vrid, [])
        if not seq or seq[-1] != a.priority:
            seq.append(a.priority)
    return out


@pytest.mark.parametrize("r1_impl", ["keepalived", "keepalived-py"])
def test_track_bfd_weight_gives_keepalived_priorities(lab, implementation, keepalived_impl, r1_impl):
    impl = implementation(r1_impl, features=("vrrp", "bfd"))
    la = lab(THREE)
    a1, a3 = la.addr("r1"), la.addr("r3")
    cap = la.capture("lan", "vrrp")
    # keepalived resolves track_bfd against the bfd_instance blocks read before it
    conf = bfd_conf("b1", a3, a1, extra="    weight -60 reverse\n")
    conf += _instance(51, "b1") + _instance(52, "b1 weight 25")
    r3 = la.start_daemon("r3", keepalived_impl, bfd_conf("b3", a1, a3))
    r1 = la.start_daemon("r1", impl, conf)

    def now() -> dict[int, list[int]]:
        return _priorities(read_pcap(cap.path), a1)

    def why() -> str:
        return f"r1's priorities so far: {now()}\n{r1.output()[-3000:]}"

    # BFD comes Up in well under a second, before r1 is MASTER (after 3 s and its skew time)
    wait_until(lambda: all(EXPECTED[v][0] in now().get(v, ()) for v in EXPECTED), 20, what=why)
    la.kill(r3)
    # Down after 150 ms of detection time; the next advert within advert_int (1 s)
    wait_until(lambda: all(now().get(v, [])[-1:] == [EXPECTED[v][1]] for v in EXPECTED), 10, what=why)
    seen = _priorities(cap.stop(), a1)
    for vrid, (up, down) in EXPECTED.items():
        # from the first Up advert on: Up, then Down, nothing else
        seq = seen[vrid][seen[vrid].index(up):]
        assert seq == [up, down], (vrid, seen, r1.output()[-3000:])
    # vrrp_handle_bfd_event's lines, on both implementations
    out = r1.output()
    for vrid in EXPECTED:
        for state in ("UP", "DOWN"):
            assert f"VRRP_Instance(VI_{vrid}) Tracked BFD instance b1 is {state}" in out, out[-3000:]
