"""The netns lab itself: links, addresses, observation, capture, faults."""

from __future__ import annotations

import signal
import time

import pytest

from conformance.lab import FaultUnsupported, vrrp_adverts

pytestmark = [pytest.mark.root]

TOPO = """
bridge lan 192.0.2.0/24 2001:db8:0:1::/64
router r1 lan
router r2 lan
client c1 lan
"""


def ping(lab, node, addr, count=1):
    return lab.ping(node, addr, count)


def test_topology_is_wired_and_named_per_run(lab):
    lb = lab(TOPO)
    assert lb.ns("r1") == f"kpy{lb.run_id}-r1"
    assert ping(lb, "c1", lb.addr("r1")) and ping(lb, "c1", lb.addr("r2", v6=True))
    links = lb.exec("sw", ["ip", "-br", "link"]).stdout
    assert "lan" in links and "r1-lan" in links
    other = lab(TOPO)  # a second lab at the same time does not collide
    assert other.run_id != lb.run_id and ping(other, "r1", other.addr("r2"))


def test_address_observer_records_timestamped_events(lab):
    lb = lab(TOPO)
    obs = lb.watch_addresses()
    assert ("eth0", "192.0.2.1/24") in obs.initial("r1")
    t0 = time.monotonic()
    lb.exec("r2", "ip addr add 192.0.2.100/24 dev eth0 && ip addr add 2001:db8:0:1::100/64 dev eth0 nodad")
    e = obs.wait_for("192.0.2.100", timeout=5)
    assert e and e.node == "r2" and e.ifname == "eth0" and e.added and e.mono >= t0
    assert obs.wait_for("2001:db8:0:1::100", node="r2", timeout=5)
    assert obs.holders("192.0.2.100") == {"r2"}
    lb.exec("r2", "ip addr del 192.0.2.100/24 dev eth0")
    gone = obs.wait_for("192.0.2.100", added=False, timeout=5)
    assert gone and gone.mono >= e.mono and obs.holders("192.0.2.100") == set()
    assert obs.wait_for("192.0.2.100", node="r1", timeout=0.2) is None


def test_partition_link_down_and_kill(lab):
    lb = lab(TOPO)
    target = lb.addr("r2")
    assert ping(lb, "r1", target)
    lb.partition("r1")
    assert not ping(lb, "r1", target)
    assert "state UP" in lb.exec("r1", ["ip", "link", "show", "eth0"]).stdout  # the link stays up
    lb.heal("r1")
    assert ping(lb, "r1", target, count=3)
    lb.link_down("r2")
    assert not ping(lb, "r1", target)
    lb.link_up("r2")
    assert ping(lb, "r1", target, count=3)
    p = lb.spawn("c1", ["sleep", "600"])
    assert p.alive()
    lb.kill(p, signal.SIGKILL)
    assert p.wait(5) == -signal.SIGKILL


def test_packet_loss_with_netem_or_a_clear_refusal(lab):
    lb = lab(TOPO)
    try:
        lb.loss("r1", 100)
    except FaultUnsupported as e:
        assert "netem" in str(e)
        return
    assert not ping(lb, "r1", lb.addr("r2"))
    lb.loss("r1", 0)
    assert ping(lb, "r1", lb.addr("r2"), count=3)


@pytest.mark.keepalived
def test_keepalived_router_capture_and_graceful_stop(lab, keepalived_impl):
    lb = lab("bridge lan 192.0.2.0/24\nrouter r1 lan\nclient c1 lan")
    obs = lb.watch_addresses(["r1"])
    cap = lb.capture("lan", "vrrp")
    conf = """vrrp_instance V { state MASTER\n interface eth0\n virtual_router_id 7\n priority 255
 advert_int 1\n virtual_ipaddress { 192.0.2.77/24 } }\n"""
    d = lb.start_daemon("r1", keepalived_impl, conf)
    assert obs.wait_for("192.0.2.77", node="r1", timeout=10), d.output()
    assert set(d.pids()) >= {"main", "vrrp"}
    assert ping(lb, "c1", "192.0.2.77")
    assert d.stop() == 0  # SIGTERM: keepalived removes its VIP and exits cleanly
    assert obs.wait_for("192.0.2.77", added=False, timeout=5)
    adverts = vrrp_adverts(cap.stop())
    assert adverts and adverts[0].vrid == 7 and adverts[0].priority == 255
    assert adverts[-1].priority == 0  # the goodbye advert on a graceful stop


@pytest.mark.keepalived
def test_ipv6_vrrpv3_adverts_and_neighbour_adverts_are_captured(lab, keepalived_impl):
    from conformance.lab import neighbor_adverts

    lb = lab("bridge lan 192.0.2.0/24 2001:db8:0:1::/64\nrouter r1 lan\nclient c1 lan")
    obs = lb.watch_addresses(["r1"])
    cap = lb.capture("lan", "ip6")
    conf = """vrrp_instance V6 { state MASTER\n interface eth0\n virtual_router_id 61\n priority 255
 advert_int 1\n virtual_ipaddress { 2001:db8:0:1::100/64 } }\n"""
    d = lb.start_daemon("r1", keepalived_impl, conf)
    assert obs.wait_for("2001:db8:0:1::100", node="r1", timeout=10), d.output()
    assert lb.ping("c1", "2001:db8:0:1::100", count=2)
    frames = cap.stop()
    adverts = vrrp_adverts(frames)
    assert adverts and {(a.version, a.vrid, a.priority, a.dst, a.ttl) for a in adverts} == {(3, 61, 255, "ff02::12", 255)}
    assert adverts[0].addresses == ("2001:db8:0:1::100",)
    nas = [n for n in neighbor_adverts(frames) if n.target == "2001:db8:0:1::100"]
    assert any(n.unsolicited and n.override for n in nas)
