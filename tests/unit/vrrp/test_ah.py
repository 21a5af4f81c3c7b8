"""auth_type AH end to end: keepalived's exact first datagram, elections, replay, bad keys."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path

import pytest

from keepalived_py.vrrp.actions import SendAdvert
from keepalived_py.vrrp.events import (
    Ipv4DatagramReceived,
    PacketReceived,
    RxMeta,
    Start,
    TimerExpired,
)
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.packet import AuthType, build_ipv4, encode
from keepalived_py.vrrp.params import VrrpInstanceParams
from tests.unit.vrrp.lan import Lan

T0 = 1000.0
VECTORS = Path(__file__).resolve().parents[3] / "conformance/packets/vectors"


def ah_params(prio: int, host: int, password: str = "ahpass", vrid: int = 15,
              vips=("192.0.2.120",)) -> VrrpInstanceParams:
    return VrrpInstanceParams("VI_AH", "eth0", vrid, ip_address(f"192.0.2.{host}"), priority=prio,
                              auth_type=AuthType.AH, auth_pass=password,
                              virtual_ipaddress=tuple(ip_address(v) for v in vips))


@pytest.mark.parametrize("name", ["v2_ipv4_ah_p100_1vip", "v2_ipv4_ah_p220_2vip"])
def test_first_advert_is_keepalived_first_datagram(name):
    vec = json.loads((VECTORS / f"{name}.json").read_text())
    p = vec["params"]
    inst = VrrpInstance(ah_params(p["priority"], 1, p["auth_pass"], p["vrid"], p["vips"]))
    inst.handle(Start(), T0)
    out = inst.handle(TimerExpired("advert"), inst.sands)
    first = next(a for a in out if isinstance(a, SendAdvert))
    assert first.datagrams[0].hex() == vec["advert"]["ip_hex"]


def test_ah_election_between_two_routers():
    lan = Lan(T0)
    lan.add("a", ah_params(100, 1))
    lan.add("b", ah_params(200, 2))
    lan.start("a")
    lan.start("b")
    lan.run_until(T0 + 20)
    assert lan.masters() == ["b"]
    a = lan.instance("a")
    assert a.stats.advert_rcvd > 10 and a.stats.auth_failure == 0
    assert a.ah_seq == lan.instance("b").ah_seq  # the backup tracks the master's sequence


def test_wrong_password_is_auth_failure_and_both_become_master():
    lan = Lan(T0)
    lan.add("a", ah_params(100, 1, "one"))
    lan.add("b", ah_params(200, 2, "two"))
    lan.start("a")
    lan.start("b")
    lan.run_until(T0 + 20)
    assert sorted(lan.masters()) == ["a", "b"]
    assert lan.instance("a").stats.auth_failure > 0
    assert lan.instance("a").stats.advert_rcvd == 0


def test_replayed_datagram_is_auth_failure():
    sender = VrrpInstance(ah_params(200, 2))
    sender.handle(Start(), T0)
    out = sender.handle(TimerExpired("advert"), sender.sands)
    datagram = next(a for a in out if isinstance(a, SendAdvert)).datagrams[0]
    rx = VrrpInstance(ah_params(100, 1))
    rx.handle(Start(), T0)
    rx.handle(Ipv4DatagramReceived(datagram), T0 + 4)
    assert rx.stats.advert_rcvd == 1
    rx.handle(Ipv4DatagramReceived(datagram), T0 + 4.5)
    assert rx.stats.auth_failure == 1 and rx.stats.advert_rcvd == 1
    assert rx.state == State.BACKUP


def test_plain_vrrp_to_ah_instance_is_authtype_mismatch():
    p = ah_params(100, 1)
    rx = VrrpInstance(p)
    rx.handle(Start(), T0)
    plain = VrrpInstanceParams("x", "eth0", 15, ip_address("192.0.2.2"), priority=200,
                               virtual_ipaddress=p.virtual_ipaddress)
    msg = encode(VrrpInstance(plain).build_advert(200))
    rx.handle(Ipv4DatagramReceived(build_ipv4(ip_address("192.0.2.2"), ip_address("224.0.0.18"), msg)), T0 + 1)
    rx.handle(PacketReceived(msg, RxMeta(ip_address("192.0.2.2"), ip_address("224.0.0.18"))), T0 + 1)
    assert rx.stats.authtype_mismatch == 2


def test_ah_is_ipv4_and_v2_only():
    with pytest.raises(ValueError):
        VrrpInstanceParams("x", "eth0", 1, ip_address("192.0.2.1"), version=3, auth_type=AuthType.AH)
