"""Restarts without a failover for a vrrp_sync_group (issue 16), in the netns lab: r1
keepalived-py MASTER of a two-instance sync group G1 (VRID 51 and 52), r2 a BACKUP of the
same group (real keepalived 2.2.7 and keepalived-py).

- kill -9 of r1's vrrp child (the parent respawns it with resume), and the in-place
  restart (SIGRESTART to r1's parent): the group resumes as a whole; the capture shows, for each VRID, no priority-0 advert from r1, no advert from r2
  and no gap in r1's adverts as long as r2's master down interval (the protocol's bound: a
  longer gap is a takeover); neither VIP leaves r1; r2 never enters MASTER;
- the fallback: the file changed for one member under the crashed child: the whole group
  starts as keepalived does (both VIPs removed, BACKUP first), the reason in the log.

Timing is judged on capture timestamps against the protocol's bounds only (advert_int 2:
a respawn on a loaded CI machine has room; r2 waits 3 intervals + skew, 6.6 s).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from conformance.lab import vrrp_adverts
from tests.integration.test_vrrp_resume import _restart_signal
from tests.integration.test_vrrp_runtime_support import (
    TWO_ROUTERS,
    VIP,
    master_down,
    vrrp_conf,
    wait_until,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]
ADVERT = 2.0
P1, P2 = 150, 100
MDI2 = master_down(P2, ADVERT)  # r2's Master_Down_Interval: 6.61 s
VIP2 = "192.0.2.101"
GROUP = "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"


def group_conf(prio: int, router_id: str, prio2: int | None = None) -> str:
    """Two instances on eth0 (VRID 51 and 52) in sync group G1; `prio2` changes VI_2 alone."""
    first = vrrp_conf(prio=prio, advert=ADVERT, router_id=router_id)
    second = vrrp_conf(name="VI_2", prio=prio if prio2 is None else prio2, vrid=52,
                       vips=(f"{VIP2}/24",), advert=ADVERT, router_id=router_id)
    second = second[second.index("vrrp_instance"):]  # one global_defs
    return first + second + GROUP


@pytest.fixture
def py(implementation):
    return implementation("keepalived-py", features=("vrrp",))


@pytest.fixture(params=["keepalived", "keepalived-py"])
def backup_impl(request, implementation):
    return implementation(request.param, features=("vrrp",))


def _vrrp_pid(r1, old: int | None = None) -> int | None:
    pid = r1.pids().get("vrrp")
    return pid if pid and pid != old else None


def _start_r1(la, py):
    vips = la.watch_addresses(["r1", "r2"])
    r1 = la.start_daemon("r1", py, group_conf(P1, "r1"))
    for vip in (VIP, VIP2):
        assert vips.wait_for(vip, node="r1", timeout=30) is not None, r1.output()[-3000:]
    return vips, r1


@pytest.mark.parametrize("how", ["kill -9", "in-place restart"])
def test_restarted_vrrp_child_resumes_the_group(lab, py, backup_impl, how):
    sig = _restart_signal() if how == "in-place restart" else signal.SIGKILL
    la = lab(TWO_ROUTERS)
    vips, r1 = _start_r1(la, py)
    r2 = la.start_daemon("r2", backup_impl, group_conf(P2, "r2"))
    assert wait_until(lambda: r2.output().count("Entering BACKUP STATE") >= 2, 30), r2.output()[-3000:]
    cap = la.capture("lan", "vrrp")
    time.sleep(ADVERT)
    old = _vrrp_pid(r1)
    assert old is not None
    parent = r1.pid
    t_kill, wall = time.monotonic(), time.time()
    os.kill(old if sig == signal.SIGKILL else parent, sig)
    assert wait_until(lambda: _vrrp_pid(r1, old) is not None, 60), r1.output()[-3000:]
    assert wait_until(lambda: "VRRP_Group(G1) Resumed MASTER state" in r1.output(), 40), r1.output()[-4000:]
    time.sleep(MDI2 + ADVERT)  # a takeover by r2 would have happened in this time
    frames = cap.stop()
    a1 = la.addr("r1")
    adverts = vrrp_adverts(frames)
    assert not [a for a in adverts if a.src == a1 and a.priority == 0], "r1 sent a priority-0 advert"
    assert not [a for a in adverts if a.src != a1], "another router advertised (a takeover)"
    for vrid in (51, 52):
        mine = sorted(a.ts for a in adverts if a.src == a1 and a.vrid == vrid)
        gaps = [b - a for a, b in zip(mine, mine[1:], strict=False)]
        across = [b - a for a, b in zip(mine, mine[1:], strict=False) if a <= wall < b]
        print(f"VRID {vrid}: r1 adverts {len(mine)}, gap across the restart {across}, "
              f"longest {max(gaps):.3f}s (bound {MDI2:.3f}s)")
        assert across and max(gaps) < MDI2, gaps
    assert "Entering MASTER STATE" not in r2.output(), r2.output()[-3000:]
    for vip in (VIP, VIP2):
        gone = [e for e in vips.history(vip) if e.node == "r1" and not e.added and e.mono >= t_kill]
        assert not gone, f"{vip} left r1: {gone}"
        assert vips.holders(vip) == {"r1"}
    out = r1.output()
    assert "VRRP_Group(G1) resuming: sync group G1: all 2 members may resume" in out
    assert "(VI_1) resuming: previous vrrp process was MASTER" in out
    assert "(VI_2) resuming: previous vrrp process was MASTER" in out
    assert r1.alive() and r1.pids().get("main", parent) == parent  # same main process


def test_changed_member_sends_the_group_to_start(lab, py):
    """VI_2's priority changed in the file under the crashed child (its successor reads the
    file anew): VI_1 is unchanged, yet the group starts as keepalived does - both VIPs
    removed, BACKUP first - saying why."""
    la = lab(TWO_ROUTERS)
    vips, r1 = _start_r1(la, py)
    r1.conf.write_text(group_conf(P1, "r1", prio2=P1 + 10))
    old = _vrrp_pid(r1)
    t_kill = time.monotonic()
    os.kill(old, signal.SIGKILL)
    assert wait_until(lambda: "VRRP_Group(G1) not resuming" in r1.output(), 40), r1.output()[-4000:]
    out = r1.output()
    assert ("sync group G1: member VI_2 may not resume: configuration changed since the previous "
            "vrrp process") in out
    for vip in (VIP, VIP2):
        assert vips.wait_for(vip, node="r1", added=False, after=t_kill, timeout=10) is not None, vip
    assert "Resumed MASTER STATE" not in r1.output()
    # and from there keepalived's election: alone on the link, the group is MASTER again
    for vip in (VIP, VIP2):
        assert vips.wait_for(vip, node="r1", after=t_kill, timeout=master_down(P1, ADVERT) + 20) is not None
