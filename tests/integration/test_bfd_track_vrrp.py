"""track_bfd end to end: the bfd child's Up/Down reaches the vrrp child through the
parent (BfdState messages). r1 (keepalived-py) is MASTER and tracks its BFD session to r3
(real keepalived); r2 (keepalived-py) is BACKUP. After kill -9 of r3:
- weight 0: r1 enters FAULT and sends its priority 0 advert within the BFD detection
  time (+ 50 ms, + the scheduling slack of a loaded machine) of r3's last BFD packet, and
  r2 sends its first advert as MASTER within its skew time (+ that slack) after it;
- weight -60: r1's priority drops to 90 (keepalived's arithmetic), r2 (100) takes over when
  its master down interval after r1's last priority 150 advert runs out.
Timing is judged on capture timestamps.
"""

from __future__ import annotations

import pytest

from conformance.lab.pcap import vrrp_adverts
from tests.integration.test_bfd_support import bfd_conf, bfd_frames
from tests.integration.test_vrrp_runtime_support import LATE, VIP, master_down, skew, vrrp_conf

pytestmark = [pytest.mark.root, pytest.mark.slow]

THREE = "bridge lan 192.0.2.0/24\nrouter r1 lan\nrouter r2 lan\nrouter r3 lan"


@pytest.mark.parametrize("weight", [0, -60], ids=["fault", "weight"])
def test_track_bfd_moves_the_master(lab, implementation, keepalived_impl, weight):
    py = implementation("keepalived-py", features=("vrrp", "bfd"))
    la = lab(THREE)
    a1, a3 = la.addr("r1"), la.addr("r3")
    vips = la.watch_addresses(["r1", "r2"])
    cap = la.capture("lan", "vrrp or udp port 3784")
    track = "    track_bfd {\n        b1" + (f" weight {weight}" if weight else "") + "\n    }"
    # keepalived resolves track_bfd against the bfd_instance blocks read before it
    conf1 = bfd_conf("b1", a3, a1) + vrrp_conf(prio=150, router_id="r1", extra=track).split("}\n", 1)[1]
    r3 = la.start_daemon("r3", keepalived_impl, bfd_conf("b3", a1, a3))
    r1 = la.start_daemon("r1", py, conf1)
    first = vips.wait_for(VIP, timeout=20)
    assert first is not None and first.node == "r1", r1.output()[-4000:]
    r2 = la.start_daemon("r2", py, vrrp_conf(prio=100, router_id="r2"))
    assert vips.wait_for(VIP, node="r2", timeout=master_down(100) + 1.5) is None, r2.output()[-3000:]

    t_kill = la.kill(r3)
    takeover = vips.wait_for(VIP, node="r2", after=t_kill, timeout=master_down(100) + 3)
    out1 = r1.output()
    assert takeover is not None, out1[-4000:]
    assert "(b1) Expired after" in out1, out1[-4000:]
    delay = takeover.mono - t_kill
    print(f"weight {weight}: r2 holds the VIP {delay * 1000:.0f} ms after kill -9 of the BFD peer")
    frames = cap.stop()
    adverts = vrrp_adverts(frames)
    from_r1 = [a for a in adverts if a.src == a1]
    a2 = la.addr("r2")
    last_bfd = max(f.ts for f in bfd_frames(frames) if f.src == a3)
    if weight == 0:
        assert "Entering FAULT STATE" in out1, out1[-4000:]
        # keepalived's FAULT: the master resigns with a priority 0 advert, r2 takes over
        # after its skew time; allow the BFD detection (150 ms) and a loaded machine
        zero = next((a for a in from_r1 if a.priority == 0), None)
        assert zero is not None, [a.priority for a in from_r1]
        first_r2 = next(a for a in adverts if a.src == a2 and a.ts > zero.ts)
        print(f"weight 0: priority 0 advert {(zero.ts - last_bfd) * 1000:.0f} ms after r3's last BFD "
              f"packet, r2's first advert {(first_r2.ts - zero.ts) * 1000:.0f} ms after it "
              f"(skew time {skew(100) * 1000:.0f} ms)")
        assert zero.ts - last_bfd <= 0.150 + 0.050 + LATE
        assert first_r2.ts - zero.ts <= skew(100) + LATE
        assert vips.holders(VIP) == {"r2"}
    else:
        assert any(a.priority == 90 for a in from_r1), [a.priority for a in from_r1]
        # a backup ignores the lower priority adverts and takes over when its master
        # down timer runs out (keepalived's behaviour with preemption)
        last_150 = max(a.ts for a in from_r1 if a.priority == 150)
        first_r2 = next(a for a in adverts if a.src == a2 and a.ts > last_150)
        print(f"weight -60: r2's first advert {(first_r2.ts - last_150) * 1000:.0f} ms after r1's last "
              f"priority 150 advert (master down interval {master_down(100) * 1000:.0f} ms)")
        assert last_150 - last_bfd <= 0.150 + 0.050 + LATE  # the next advert carries 90
        assert master_down(100) - 0.05 <= first_r2.ts - last_150 <= master_down(100) + LATE
        assert vips.holders(VIP) == {"r2"}
