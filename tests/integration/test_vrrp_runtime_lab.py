"""Two keepalived-py routers in network namespaces: election, preempt, nopreempt, kill -9
and TERM takeover times (acceptance (a))."""

from __future__ import annotations

import pytest

from tests.integration.test_vrrp_runtime_support import (
    LATE,
    TWO_ROUTERS,
    VIP,
    master_down,
    measure,
    skew,
    stop_capture_after_takeover,
    vrrp_conf,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]
MARGIN = 0.05  # capture timestamp and reception tolerance, before the expected time


@pytest.fixture
def py(implementation):
    return implementation("keepalived-py", features=("vrrp",))


def _master_then_backup(lab, impl1, impl2, conf1, conf2, vips, mdi2):
    r1 = lab.start_daemon("r1", impl1, conf1)
    first = vips.wait_for(VIP, timeout=15)
    assert first is not None and first.node == "r1", "r1 did not become master"
    r2 = lab.start_daemon("r2", impl2, conf2)
    # r2 hears r1 and stays backup: nothing changes for longer than its down interval
    assert vips.wait_for(VIP, node="r2", timeout=mdi2 + 2.5) is None, "r2 took the VIP from a live master"
    assert vips.holders(VIP) == {"r1"}
    return r1, r2


@pytest.mark.parametrize("graceful", [False, True], ids=["kill9", "term"])
def test_takeover_time(lab, py, graceful):
    la = lab(TWO_ROUTERS)
    vips = la.watch_addresses(["r1", "r2"])
    cap = la.capture("lan", "vrrp or arp")
    r1, r2 = _master_then_backup(la, py, py, vrrp_conf(prio=150, router_id="r1"),
                                 vrrp_conf(prio=100, router_id="r2"), vips, master_down(100))
    t_fault = la.terminate(r1) if graceful else la.kill(r1)
    takeover = vips.wait_for(VIP, node="r2", after=t_fault, timeout=master_down(100) + 5)
    if graceful:
        assert r1.wait(10) == 0
    frames = stop_capture_after_takeover(cap, la.addr("r1"), takeover)
    m = measure(la, frames, takeover, t_fault, la.addr("r1"), prio0=graceful)
    expect = skew(100) if graceful else master_down(100)
    print(f"takeover: first advert {m.advert_delay}s, VIP {m.delay}s after the {m.reference} "
          f"(expected {expect}s), VIP {m.after_fault}s after the fault")
    assert m.delay is not None and m.advert_delay is not None, f"no takeover or no reference advert: {m}"
    assert expect - MARGIN <= m.advert_delay <= expect + LATE, (m, r2.output()[-2000:])
    assert m.delay <= expect + 0.5, m  # and the VIP followed (netlink, as read by this process)
    assert r2.alive()
    if graceful:
        assert vips.holders(VIP) == {"r2"}, "the stopping master kept its VIP"


def test_preempt(lab, py):
    """A higher priority router that comes later takes the VIP over (preempt, the default)."""
    la = lab(TWO_ROUTERS)
    vips = la.watch_addresses(["r1", "r2"])
    r2 = la.start_daemon("r2", py, vrrp_conf(prio=100, router_id="r2"))
    first = vips.wait_for(VIP, timeout=15)
    assert first is not None and first.node == "r2"
    r1 = la.start_daemon("r1", py, vrrp_conf(prio=150, router_id="r1"))
    got = vips.wait_for(VIP, node="r1", after=first.mono, timeout=master_down(150) + 6)
    assert got is not None, r1.output()[-2000:]
    released = vips.wait_for(VIP, node="r2", added=False, after=first.mono, timeout=2)
    assert released is not None, r2.output()[-2000:]
    assert vips.holders(VIP) == {"r1"}


def test_nopreempt(lab, py):
    """With nopreempt the higher priority router does not take over from a live master."""
    la = lab(TWO_ROUTERS)
    vips = la.watch_addresses(["r1", "r2"])
    r2 = la.start_daemon("r2", py, vrrp_conf(prio=100, router_id="r2", nopreempt=True))
    first = vips.wait_for(VIP, timeout=15)
    assert first is not None and first.node == "r2"
    r1 = la.start_daemon("r1", py, vrrp_conf(prio=150, router_id="r1", nopreempt=True))
    assert vips.wait_for(VIP, node="r1", after=first.mono, timeout=master_down(150) + 3) is None, \
        r1.output()[-2000:]
    assert vips.holders(VIP) == {"r2"}
    # and the nopreempt backup still takes over when the master dies
    t = la.kill(r2)
    assert vips.wait_for(VIP, node="r1", after=t, timeout=master_down(150) + 3) is not None


def test_election_at_start(lab, py):
    """Both started together: the higher priority wins, one master only."""
    la = lab(TWO_ROUTERS)
    vips = la.watch_addresses(["r1", "r2"])
    la.start_daemon("r1", py, vrrp_conf(prio=200, router_id="r1"))
    la.start_daemon("r2", py, vrrp_conf(prio=100, router_id="r2"))
    first = vips.wait_for(VIP, node="r1", timeout=15)
    assert first is not None
    # r2's down interval is 0.4 s longer than r1's; once r1 advertises r2 must stay backup
    assert vips.wait_for(VIP, node="r2", timeout=master_down(100) + 1.5) is None
    assert vips.holders(VIP) == {"r1"}
