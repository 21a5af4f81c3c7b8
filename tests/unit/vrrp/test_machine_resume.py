"""The machine's resume part (vrrp/resume.py), sans-IO: listen, then MASTER without a
transition; a tracked object failing while listening falls back to keepalived's start
(the addresses found released, FAULT), never with a priority-0 advert."""

from __future__ import annotations

from ipaddress import ip_address

from keepalived_py.vrrp.actions import (
    AddAddresses,
    RemoveAddresses,
    RunNotify,
    SendAdvert,
    SendGarp,
    SetTimer,
)
from keepalived_py.vrrp.events import TimerExpired, TrackingChanged
from keepalived_py.vrrp.machine import ADVERT_TIMER, State, VrrpInstance
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.tracking import TrackedObject

T0 = 1000.0


def inst(**kw) -> VrrpInstance:
    p = VrrpInstanceParams(name="VI_1", interface="eth0", vrid=51, primary_address=ip_address("192.0.2.1"),
                           priority=150, virtual_ipaddress=(ip_address("192.0.2.100"),), **kw)
    return VrrpInstance(p, (TrackedObject("script", "chk", 0),), created_at=T0)


def test_listen_then_master_without_transition():
    m = inst()
    m.handle(TrackingChanged("script", "chk", True, None), T0)
    m.begin_resume(T0, 500_000)
    acts = m.take_actions()
    assert m.resuming and not [a for a in acts if isinstance(a, SendAdvert | RunNotify | RemoveAddresses)]
    assert [a.at for a in acts if isinstance(a, SetTimer)] == [T0 + 0.5]
    acts = m.handle(TimerExpired(ADVERT_TIMER), T0 + 0.5)
    assert m.state == State.MASTER and not m.resuming
    assert isinstance(acts[1], SendAdvert) and acts[1].advert.priority == 150  # after the log line
    assert any(isinstance(a, AddAddresses) for a in acts)
    assert not [a for a in acts if isinstance(a, SendGarp | RunNotify)]
    assert m.sands == T0 + 1.5
    assert m.stats.become_master == 0  # nothing became master: it stayed


def test_fault_while_listening_falls_back_to_fault():
    m = inst()
    m.handle(TrackingChanged("script", "chk", True, None), T0)
    m.begin_resume(T0, 500_000)
    m.take_actions()
    acts = m.handle(TrackingChanged("script", "chk", False, None), T0 + 0.1)
    assert m.state == State.FAULT and not m.resuming
    assert any(isinstance(a, RemoveAddresses) for a in acts)
    assert not [a for a in acts if isinstance(a, SendAdvert)]
    assert m.handle(TimerExpired(ADVERT_TIMER), T0 + 0.5) == []  # the listen timer is gone
