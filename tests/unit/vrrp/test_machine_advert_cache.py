"""The MASTER's advert encoding is reused while nothing in it changes, and redone when the
priority (tracking) or the checksum mode changes: the bytes are always what a fresh
encoding gives."""

from __future__ import annotations

from ipaddress import ip_address

from keepalived_py.vrrp.actions import SendAdvert
from keepalived_py.vrrp.events import Start, TimerExpired, TrackingChanged
from keepalived_py.vrrp.machine import ADVERT_TIMER, VrrpInstance
from keepalived_py.vrrp.packet import encode
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.tracking import TrackedObject

T0 = 1000.0


def _sent(acts):
    return [a for a in acts if isinstance(a, SendAdvert)]


def test_reused_then_redone_on_priority_change():
    p = VrrpInstanceParams(name="VI_1", interface="eth0", vrid=51, primary_address=ip_address("192.0.2.1"),
                           priority=200, virtual_ipaddress=(ip_address("192.0.2.100"),))
    inst = VrrpInstance(p, (TrackedObject("script", "chk", -50),), created_at=T0)
    inst.handle(Start(), T0)
    inst.handle(TrackingChanged("script", "chk", True, None), T0)
    inst.handle(TimerExpired(ADVERT_TIMER), T0 + 3.3)  # master down: MASTER
    first = _sent(inst.handle(TimerExpired(ADVERT_TIMER), inst.sands))[0]
    second = _sent(inst.handle(TimerExpired(ADVERT_TIMER), inst.sands))[0]
    assert first.payloads is second.payloads  # the same encoding, reused
    assert first.payloads[0] == encode(inst.build_advert(200), p.primary_address, p.mcast_group)
    inst.handle(TrackingChanged("script", "chk", False, None), inst.sands - 0.5)  # priority 150
    third = _sent(inst.handle(TimerExpired(ADVERT_TIMER), inst.sands))[0]
    assert third.payloads[0][2] == 150
    assert third.payloads[0] == encode(inst.build_advert(150), p.primary_address, p.mcast_group)
