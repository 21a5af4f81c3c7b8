"""keepalived-py against real keepalived 2.2.7 (acceptance (b)): either one master, VRRP v2
and v3, multicast and unicast. Both agree on the master, the backup never takes the VIP
from a live master (no split brain), fail over both ways: kill -9 of the master -> the
other takes over; the old master restarts -> it preempts back and the other releases."""

from __future__ import annotations

import pytest

from tests.integration.test_vrrp_runtime_support import (
    LATE,
    TWO_ROUTERS,
    VIP,
    master_down,
    measure,
    stop_capture_after_takeover,
    vrrp_conf,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]


def _conf(lab, node: str, prio: int, version: int, unicast: bool) -> str:
    other = "r2" if node == "r1" else "r1"
    kw = {}
    if unicast:
        kw = {"unicast_src": lab.addr(node), "peers": (lab.addr(other),)}
    return vrrp_conf(prio=prio, version=version, router_id=node, **kw)


@pytest.mark.parametrize("unicast", [False, True], ids=["mcast", "unicast"])
@pytest.mark.parametrize("version", [2, 3], ids=["v2", "v3"])
@pytest.mark.parametrize("py_master", [True, False], ids=["py_master", "ka_master"])
def test_interop(lab, implementation, keepalived_impl, version, unicast, py_master):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = keepalived_impl
    impl_r1, impl_r2 = (py, ka) if py_master else (ka, py)
    la = lab(TWO_ROUTERS)
    vips = la.watch_addresses(["r1", "r2"])
    cap = la.capture("lan", "vrrp or arp")
    conf1 = _conf(la, "r1", 150, version, unicast)
    conf2 = _conf(la, "r2", 100, version, unicast)
    mdi2 = master_down(100, 1.0, version)
    mdi1 = master_down(150, 1.0, version)

    r1 = la.start_daemon("r1", impl_r1, conf1)
    first = vips.wait_for(VIP, timeout=15)
    assert first is not None and first.node == "r1", r1.output()[-3000:]
    r2 = la.start_daemon("r2", impl_r2, conf2)
    # agree on the master: r2 stays backup past its down interval
    assert vips.wait_for(VIP, node="r2", timeout=mdi2 + 2.5) is None, r2.output()[-3000:]
    assert vips.holders(VIP) == {"r1"}

    # fail over r1 -> r2
    t_kill = la.kill(r1)
    takeover = vips.wait_for(VIP, node="r2", after=t_kill, timeout=mdi2 + 5)
    assert takeover is not None, r2.output()[-3000:]
    frames = stop_capture_after_takeover(cap, la.addr("r1"), takeover)
    m = measure(la, frames, takeover, t_kill, la.addr("r1"), prio0=False)
    print(f"{impl_r2.name} took over (advert {m.advert_delay}s, VIP {m.delay}s) after {impl_r1.name}'s "
          f"last advert (expected {mdi2})")
    assert m.advert_delay is not None and mdi2 - 0.05 <= m.advert_delay <= mdi2 + LATE, m
    assert m.delay is not None and m.delay <= mdi2 + 0.5, m
    r1.wait(5)

    # fail back r2 -> r1: r1 restarts with the higher priority and preempts
    t_back = la.note("restart r1")
    r1b = la.start_daemon("r1", impl_r1, conf1, name=f"{impl_r1.name}-again")
    back = vips.wait_for(VIP, node="r1", after=t_back, timeout=mdi1 + 10)
    assert back is not None, r1b.output()[-3000:]
    released = vips.wait_for(VIP, node="r2", added=False, after=t_back, timeout=3)
    assert released is not None, r2.output()[-3000:]
    # and it stays that way: one master
    assert vips.wait_for(VIP, node="r2", after=released.mono, timeout=mdi2 + 1) is None
    assert vips.holders(VIP) == {"r1"}
    assert r1b.alive() and r2.alive()


@pytest.mark.parametrize("auth", ["PASS", "AH"])
@pytest.mark.parametrize("py_master", [True, False], ids=["py_master", "ka_master"])
def test_interop_auth(lab, implementation, keepalived_impl, auth, py_master):
    """VRRPv2 authentication (PASS, and AH with its IP header digest) both ways."""
    py = implementation("keepalived-py", features=("vrrp",))
    impl_r1, impl_r2 = (py, keepalived_impl) if py_master else (keepalived_impl, py)
    la = lab(TWO_ROUTERS)
    vips = la.watch_addresses(["r1", "r2"])
    extra = f"    authentication {{\n        auth_type {auth}\n        auth_pass s3cret\n    }}"
    conf1 = vrrp_conf(prio=150, version=2, router_id="r1", extra=extra)
    conf2 = vrrp_conf(prio=100, version=2, router_id="r2", extra=extra)
    r1 = la.start_daemon("r1", impl_r1, conf1)
    assert vips.wait_for(VIP, node="r1", timeout=15) is not None, r1.output()[-3000:]
    r2 = la.start_daemon("r2", impl_r2, conf2)
    assert vips.wait_for(VIP, node="r2", timeout=master_down(100) + 2.5) is None, r2.output()[-3000:]
    t = la.kill(r1)
    assert vips.wait_for(VIP, node="r2", after=t, timeout=master_down(100) + 3) is not None, r2.output()[-3000:]
    t_back = la.note("restart r1")
    la.start_daemon("r1", impl_r1, conf1, name="again")
    assert vips.wait_for(VIP, node="r1", after=t_back, timeout=master_down(150) + 10) is not None
    assert vips.wait_for(VIP, node="r2", added=False, after=t_back, timeout=3) is not None, r2.output()[-3000:]
