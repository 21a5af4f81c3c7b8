"""A sync group's restart without a failover, sans-IO (vrrp/sync_group.py + vrrp/resume.py):
members listen from one start; the first listen to end resumes every member at once with
no sync, no notify, no GARP; a tracked object failing in one member while listening sends
every member to keepalived's start (the group's notify first), never a priority-0 advert."""

from __future__ import annotations

from ipaddress import ip_address

from keepalived_py.vrrp.actions import Log, RemoveAddresses, RunNotify, SendAdvert, SendGarp
from keepalived_py.vrrp.events import TimerExpired, TrackingChanged
from keepalived_py.vrrp.machine import ADVERT_TIMER, State, VrrpInstance
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.sync_group import SyncGroup
from keepalived_py.vrrp.tracking import TrackedObject

T0 = 1000.0


def group() -> tuple[SyncGroup, VrrpInstance, VrrpInstance]:
    def inst(name: str, vrid: int, vip: str) -> VrrpInstance:
        p = VrrpInstanceParams(name=name, interface="eth0", vrid=vrid, primary_address=ip_address("192.0.2.1"),
                               priority=150, virtual_ipaddress=(ip_address(vip),))
        return VrrpInstance(p, (TrackedObject("script", f"chk_{name}", 0),), created_at=T0)
    a, b = inst("VI_1", 51, "192.0.2.100"), inst("VI_2", 52, "192.0.2.101")
    g = SyncGroup("G1", [a, b])
    for m in (a, b):
        g.handle(m.name, TrackingChanged("script", f"chk_{m.name}", True, None), T0)
        m.take_actions()
        m.begin_resume(T0, 500_000)
        m.take_actions()
    return g, a, b


def test_first_listen_to_end_resumes_every_member():
    g, a, b = group()
    acts = g.handle("VI_1", TimerExpired(ADVERT_TIMER), T0 + 0.5)
    assert a.state == b.state == State.MASTER and not a.resuming and not b.resuming
    assert g.state == State.MASTER
    sent = [x.advert.vrid for x in acts if isinstance(x, SendAdvert)]
    assert sent == [51, 52]  # each member's first advert at once
    assert not [x for x in acts if isinstance(x, RunNotify | SendGarp | RemoveAddresses)]
    assert not [x for x in acts if isinstance(x, Log) and "Syncing" in x.message]
    assert a.sands == b.sands == T0 + 1.5
    # VI_2's own listen timer, now stale, sends nothing
    assert g.handle("VI_2", TimerExpired(ADVERT_TIMER), T0 + 0.5) == []


def test_fault_in_one_member_while_listening_sends_the_group_to_start():
    g, a, b = group()
    acts = g.handle("VI_2", TrackingChanged("script", "chk_VI_2", False, None), T0 + 0.1)
    assert not a.resuming and not b.resuming
    assert a.state == b.state == g.state == State.FAULT
    assert not [x for x in acts if isinstance(x, SendAdvert)]
    assert {x.instance for x in acts if isinstance(x, RemoveAddresses)} == {"VI_1", "VI_2"}
    notes = [(x.kind, x.name, x.state) for x in acts if isinstance(x, RunNotify)]
    assert notes[0] == ("GROUP", "G1", "FAULT")
    assert sorted(notes[1:]) == [("INSTANCE", "VI_1", "FAULT"), ("INSTANCE", "VI_2", "FAULT")]
    assert g.handle("VI_1", TimerExpired(ADVERT_TIMER), T0 + 0.5) == []  # no listen left
