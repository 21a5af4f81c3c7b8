"""vrrp_sync_group: members move together, FAULT propagates, group notifies."""

from __future__ import annotations

from ipaddress import ip_address

from keepalived_py.vrrp.actions import RunNotify
from keepalived_py.vrrp.events import TrackingChanged
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.tracking import TrackedObject
from tests.unit.vrrp.lan import Lan

T0 = 1000.0


def pair(prio: int, host: int, prio2: int | None = None):
    return (
        VrrpInstanceParams("VI_OUT", "eth0", 51, ip_address(f"192.0.2.{host}"), priority=prio,
                           virtual_ipaddress=(ip_address("192.0.2.100"),)),
        VrrpInstanceParams("VI_IN", "eth1", 52, ip_address(f"192.0.2.{host}"),
                           priority=prio if prio2 is None else prio2,
                           virtual_ipaddress=(ip_address("192.0.2.200"),)),
    )


def group_lan(**kw) -> Lan:
    lan = Lan(T0)
    lan.add("a", *pair(200, 1), group="G", tracked=(TrackedObject("script", "chk", 0),), **kw)
    lan.add("b", *pair(100, 2), group="G")
    lan.start("a")
    lan.start("b")
    return lan


def test_group_members_become_master_together():
    lan = group_lan()
    lan.run_until(T0 + 10)
    assert lan.states() == {"a/VI_OUT": State.MASTER, "a/VI_IN": State.MASTER,
                            "b/VI_OUT": State.BACKUP, "b/VI_IN": State.BACKUP}
    groups = [a for _, a in lan.actions_of("a", RunNotify) if a.kind == "GROUP"]
    assert [g.state for g in groups] == ["BACKUP", "MASTER"]


def test_fault_of_one_member_faults_the_group_and_peer_takes_both():
    lan = group_lan()
    lan.run_until(T0 + 10)
    lan.deliver("a", "VI_IN", TrackingChanged("script", "chk", ok=False))
    assert lan.states()["a/VI_IN"] == State.FAULT
    assert lan.states()["a/VI_OUT"] == State.FAULT
    lan.run_until(T0 + 20)
    assert lan.masters() == ["b/VI_OUT", "b/VI_IN"]
    lan.deliver("a", "VI_IN", TrackingChanged("script", "chk", ok=True))
    assert lan.states()["a/VI_IN"] == State.BACKUP and lan.states()["a/VI_OUT"] == State.BACKUP
    lan.run_until(T0 + 40)
    assert sorted(lan.masters()) == ["a/VI_IN", "a/VI_OUT"]


def test_member_waits_for_other_members_fault_to_clear():
    lan = Lan(T0)
    lan.add("a", *pair(200, 1), group="G",
            tracked=(TrackedObject("script", "x", 0), TrackedObject("script", "y", 0)))
    lan.start("a")
    lan.deliver("a", "VI_OUT", TrackingChanged("script", "x", ok=False))
    lan.deliver("a", "VI_IN", TrackingChanged("script", "y", ok=False))
    # VI_OUT tracks both (same tracked tuple); make VI_IN's own fault the last to clear
    lan.deliver("a", "VI_OUT", TrackingChanged("script", "x", ok=True))
    assert lan.states()["a/VI_OUT"] == State.FAULT
    lan.deliver("a", "VI_IN", TrackingChanged("script", "y", ok=True))
    assert lan.states() == {"a/VI_OUT": State.BACKUP, "a/VI_IN": State.BACKUP}


def test_group_track_applies_to_every_member():
    lan = Lan(T0)
    lan.add("a", *pair(200, 1), group="G", group_tracked=(TrackedObject("interface", "eth9", 0),))
    lan.start("a")
    lan.run_until(T0 + 10)
    g = lan.routers["a"].group
    lan._execute(lan.routers["a"], g.handle_group_tracking(
        TrackingChanged("interface", "eth9", ok=False), lan.now))
    assert set(lan.states().values()) == {State.FAULT}


def test_backup_member_pulls_master_member_back():
    lan = Lan(T0)
    lan.add("a", *pair(200, 1, prio2=100), group="G")
    lan.add("b", *pair(100, 2, prio2=200), group="G")
    lan.start("a")
    lan.start("b")

    def never_split(net: Lan) -> None:
        st = net.states()
        for r in ("a", "b"):
            assert (st[f"{r}/VI_OUT"] == State.MASTER) == (st[f"{r}/VI_IN"] == State.MASTER)

    lan.watchers.append(never_split)
    lan.run_until(T0 + 30)
    # each router is the best for one VRID; a sync group cannot split, so one side wins both
    states = lan.states()
    assert [states["a/VI_OUT"], states["a/VI_IN"]].count(State.MASTER) in (0, 2)
    assert [states["b/VI_OUT"], states["b/VI_IN"]].count(State.MASTER) in (0, 2)


def test_lower_priority_advert_refreshes_arp_for_every_member():
    from keepalived_py.vrrp.actions import SendGarp, SetTimer
    from keepalived_py.vrrp.events import AdvertReceived, RxMeta
    from keepalived_py.vrrp.packet import VrrpAdvert

    lan = Lan(T0)
    lan.add("a", *pair(200, 1), group="G")
    lan.start("a")
    lan.run_until(T0 + 10)
    assert set(lan.states().values()) == {State.MASTER}
    g = lan.routers["a"].group
    lower = VrrpAdvert(2, 51, 50, 100, (ip_address("192.0.2.100"),), 0, bytes(8))
    out = g.handle("VI_OUT", AdvertReceived(lower, RxMeta(ip_address("192.0.2.9"),
                                                          ip_address("224.0.0.18"))), lan.now)
    assert {a.instance for a in out if isinstance(a, SendGarp)} == {"VI_OUT", "VI_IN"}
    assert {a.instance for a in out if isinstance(a, SetTimer) and a.timer == "garp_lower_prio"} \
        == {"VI_OUT", "VI_IN"}


def test_member_faulty_at_start_holds_the_whole_group_in_fault():
    lan = Lan(T0)
    a_out, a_in = pair(200, 1)
    lan.add("a", a_out, a_in, group="G")
    inst = lan.instance("a", "VI_OUT")
    inst.add_tracked(TrackedObject("script", "bad", 0, initially_ok=False))
    lan.start("a")
    assert lan.states() == {"a/VI_OUT": State.FAULT, "a/VI_IN": State.FAULT}
    lan.run_until(T0 + 20)
    assert lan.masters() == []
    lan.deliver("a", "VI_OUT", TrackingChanged("script", "bad", ok=True))
    assert lan.states() == {"a/VI_OUT": State.BACKUP, "a/VI_IN": State.BACKUP}
    lan.run_until(T0 + 40)
    assert sorted(lan.masters()) == ["a/VI_IN", "a/VI_OUT"]
