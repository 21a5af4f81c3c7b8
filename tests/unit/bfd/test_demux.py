"""Discriminator and address demultiplexing, the TTL rule, the drop counters."""

from __future__ import annotations

import ipaddress
import itertools

from keepalived_py.bfd.demux import Endpoint, Sessions, ttl_ok
from keepalived_py.bfd.packet import ControlPacket, DropReason, State
from keepalived_py.bfd.plan import plan_all
from keepalived_py.bfd.session import NO_HOP_CHECK, SessionConfig
from keepalived_py.config.loader import load_text

A = ipaddress.ip_address


def sessions() -> Sessions:
    counter = itertools.count(100)
    s = Sessions(lambda lo, hi: next(counter))
    s.add(SessionConfig("one"), Endpoint(A("192.0.2.2")))
    s.add(SessionConfig("two"), Endpoint(A("192.0.2.3"), A("192.0.2.1")))
    s.add(SessionConfig("six", ttl=64), Endpoint(A("2001:db8::2")))
    return s


def test_discriminators_are_unique_and_demux_by_discr():
    s = sessions()
    discrs = {x.local_discr for x in s.by_name.values()}
    assert len(discrs) == 3 and 0 not in discrs
    pkt = ControlPacket(state=State.UP, my_discr=9, your_discr=s.by_name["two"].local_discr)
    assert s.match(pkt, A("198.51.100.9"), None, 255) is s.by_name["two"]


def test_unknown_discr_is_counted():
    s = sessions()
    pkt = ControlPacket(state=State.UP, my_discr=9, your_discr=12345)
    assert s.match(pkt, A("192.0.2.2"), None, 255) is None
    assert s.drops[DropReason.NO_SESSION] == 1


def test_zero_your_discr_by_address_and_source():
    s = sessions()
    down = ControlPacket(state=State.DOWN, my_discr=9)
    assert s.match(down, A("192.0.2.2"), A("192.0.2.1"), 255) is s.by_name["one"]
    assert s.match(down, A("192.0.2.3"), A("192.0.2.1"), 255) is s.by_name["two"]
    assert s.match(down, A("192.0.2.3"), A("192.0.2.9"), 255) is None
    assert s.match(down, A("2001:db8::2"), None, 64) is s.by_name["six"]


def test_ttl_rule_as_keepalived():
    s = sessions()
    down = ControlPacket(state=State.DOWN, my_discr=9)
    assert s.match(down, A("192.0.2.2"), None, 254) is None
    assert s.drops[DropReason.TTL] == 1
    assert ttl_ok(SessionConfig("x", ttl=255, max_hops=2), 253)
    assert not ttl_ok(SessionConfig("x", ttl=255, max_hops=2), 252)
    assert ttl_ok(SessionConfig("x", ttl=255, max_hops=NO_HOP_CHECK), 1)
    assert ttl_ok(SessionConfig("x", ttl=255), 0)  # no TTL from the socket: not checked


def test_new_discr_skips_used_values():
    values = iter([100, 100, 100, 101])
    s = Sessions(lambda lo, hi: next(values))
    s.add(SessionConfig("a"), Endpoint(A("192.0.2.2")))
    assert s.new_discr() == 101


def test_plan_from_configuration():
    cfg = load_text("""
bfd_instance b1 {
    neighbor_ip 192.0.2.2
    source_ip 192.0.2.1
    min_rx 50
    min_tx 40.5
    multiplier 3
    max_hops -1
    vrrp
}
bfd_instance b6 {
    neighbor_ip 2001:db8::2
    passive
}
""").config
    plans = plan_all(cfg.bfd_instance)
    p1, p6 = plans["b1"], plans["b6"]
    assert p1.cfg == SessionConfig("b1", min_tx_us=40_500, min_rx_us=50_000, idle_tx_us=1_000_000,
                                   multiplier=3, passive=False, ttl=255, max_hops=NO_HOP_CHECK)
    assert p1.endpoint == Endpoint(A("192.0.2.2"), A("192.0.2.1"))
    assert p1.notify_vrrp and not p1.notify_checker
    assert p6.cfg.ttl == 64 and p6.cfg.passive and p6.cfg.min_tx_us == 10_000
    assert p6.notify_vrrp and p6.notify_checker
