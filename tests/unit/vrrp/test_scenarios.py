"""Elections on an in-memory LAN with a fake clock: outcomes and RFC timers, exactly."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from keepalived_py.vrrp.actions import RunNotify, SendAdvert, SendGarp, SendNa
from keepalived_py.vrrp.events import InterfaceDown, InterfaceUp, TrackingChanged
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.packet import Family
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.tracking import TrackedObject
from tests.unit.vrrp.lan import Lan

T0 = 1000.0
VIP = ip_address("192.0.2.100")


def params(prio: int, host: int, version: int = 2, **kw) -> VrrpInstanceParams:
    kw.setdefault("virtual_ipaddress", (VIP,))
    return VrrpInstanceParams(name=kw.pop("name", "VI_1"), interface="eth0", vrid=kw.pop("vrid", 51),
                              primary_address=ip_address(f"192.0.2.{host}"), priority=prio,
                              version=version, **kw)


def params6(prio: int, host: int, **kw) -> VrrpInstanceParams:
    return VrrpInstanceParams(name="VI_6", interface="eth0", vrid=52, family=Family.INET6,
                              primary_address=ip_address(f"fe80::{host}"), priority=prio, version=3,
                              virtual_ipaddress=(ip_address("2001:db8::100"),), **kw)


def lan_of(*routers: tuple[str, VrrpInstanceParams], start: bool = True, **kw) -> Lan:
    lan = Lan(T0, **kw)
    for name, p in routers:
        lan.add(name, p)
    if start:
        for name, _ in routers:
            lan.start(name)
    return lan


def became_master_at(lan: Lan, router: str) -> list[float]:
    return [t for t, a in lan.actions_of(router, RunNotify) if a.state == "MASTER"]


# --------------------------------------------------------------------------- election


def test_highest_priority_wins_at_master_down_interval_exactly():
    lan = lan_of(("a", params(100, 1)), ("b", params(200, 2)), ("c", params(150, 3)))
    lan.run_until(T0 + 20)
    assert lan.masters() == ["b"]
    # v2: Master_Down = 3 * 1 s + (256 - 200) / 256 s = 3.21875 s (RFC 3768 6.1)
    assert became_master_at(lan, "b") == [T0 + 3.21875]
    assert became_master_at(lan, "a") == became_master_at(lan, "c") == []
    assert lan.routers["b"].vips == {VIP} and not lan.routers["a"].vips


def test_master_sends_every_advert_interval():
    lan = lan_of(("a", params(100, 1)))
    lan.run_until(T0 + 10)
    sent = [t for t, a in lan.actions_of("a", SendAdvert)]
    first = T0 + 3 + 156 / 256
    assert sent == [pytest.approx(first + k, abs=1e-9) for k in range(len(sent))]
    assert len(sent) == 7


def test_equal_priority_tie_breaks_on_higher_primary_address():
    lan = lan_of(("low", params(100, 5)), ("high", params(100, 9)), ("mid", params(100, 7)))
    lan.run_until(T0 + 30)
    assert lan.masters() == ["high"]


def test_equal_priority_two_masters_resolve_to_the_higher_address():
    # RFC 3768 6.4.2: a BACKUP accepts an equal-priority advert, so the tie-break only
    # matters between two MASTERs: make two by a partition, then heal it.
    lan = Lan(T0)
    lan.add("low", params(100, 5))
    lan.add("high", params(100, 9))
    lan.partition = {"high": 1}
    lan.start("low")
    lan.start("high")
    lan.run_until(T0 + 5)
    assert sorted(lan.masters()) == ["high", "low"]
    lan.partition = {}
    lan.run_until(T0 + 20)
    assert lan.masters() == ["high"]
    assert lan.instance("low").stats.release_master == 1
    assert lan.instance("high").stats.release_master == 0


def test_equal_priority_backup_does_not_preempt():
    lan = lan_of(("low", params(100, 5)))
    lan.run_until(T0 + 5)
    lan.add("high", params(100, 9))
    lan.start("high")
    lan.run_until(T0 + 20)
    assert lan.masters() == ["low"]


def test_owner_becomes_master_at_once():
    lan = lan_of(("backup", params(100, 1)), ("owner", params(255, 100)))
    assert lan.masters() == ["owner"]
    assert lan.actions_of("owner", SendAdvert)[0][0] == T0
    lan.run_until(T0 + 10)
    assert lan.masters() == ["owner"]


def test_higher_priority_newcomer_preempts_via_lower_priority_discard():
    lan = lan_of(("a", params(100, 1)))
    lan.run_until(T0 + 5)
    lan.add("b", params(200, 2))
    lan.start("b")
    t_start = lan.now
    lan.run_until(T0 + 20)
    assert lan.masters() == ["b"]
    # b discards a's lower-priority adverts, so its first Master_Down timer runs out
    assert became_master_at(lan, "b") == [pytest.approx(t_start + 3.21875)]


def test_master_answers_lower_priority_advert_at_once():
    lan = lan_of(("a", params(200, 1)))
    lan.run_until(T0 + 5)
    lan.add("b", params(100, 2))
    lan.start("b")
    b = lan.instance("b")
    b.goto_master(lan.now, forced=True)  # as after a partition: b thinks it is master
    lan._execute(lan.routers["b"], b.take_actions())
    t = lan.now
    lan.run_until(t + 0.001)
    # a got b's advert (priority 100 < 200): advert at once, GARP lower prio, notify
    a_sent = [ts for ts, _ in lan.actions_of("a", SendAdvert) if ts == t]
    assert a_sent == [t]
    assert any(ts == t and g.repeat == 5 for ts, g in lan.actions_of("a", SendGarp))
    assert "MASTER_RX_LOWER_PRI" in lan.notifies("a")
    assert lan.masters() == ["a"]


# --------------------------------------------------------------------------- preemption


def test_nopreempt_keeps_the_running_master():
    lan = lan_of(("a", params(100, 1)))
    lan.run_until(T0 + 5)
    lan.add("b", params(200, 2, nopreempt=True))
    lan.start("b")
    lan.run_until(T0 + 60)
    assert lan.masters() == ["a"]


def test_nopreempt_still_takes_over_when_master_dies():
    lan = lan_of(("a", params(100, 1)))
    lan.run_until(T0 + 5)
    lan.add("b", params(200, 2, nopreempt=True))
    lan.start("b")
    lan.run_until(T0 + 10)
    lan.crash("a")
    t = lan.now
    lan.run_until(T0 + 30)
    assert lan.masters() == ["b"]
    last_advert_a = max(ts for ts, _ in lan.actions_of("a", SendAdvert))
    assert became_master_at(lan, "b")[0] == pytest.approx(last_advert_a + 3.21875)
    assert became_master_at(lan, "b")[0] > t


def test_preempt_delay_holds_then_preempts():
    lan = lan_of(("a", params(100, 1)))
    lan.run_until(T0 + 5)
    lan.add("b", params(200, 2, preempt_delay_s=10))
    lan.start("b")
    lan.run_until(lan.now + 1.0)
    first_rx = lan.instance("b").preempt_time - 10
    lan.run_until(first_rx + 10 - 1e-6)
    assert lan.masters() == ["a"], "no preemption inside preempt_delay"
    lan.run_until(first_rx + 20)
    assert lan.masters() == ["b"]
    # the last advert accepted is the last one before the delay ends; Master_Down later
    t_master = became_master_at(lan, "b")[0]
    assert first_rx + 10 <= t_master <= first_rx + 10 + 3.21875


# --------------------------------------------------------------------------- priority 0


@pytest.mark.parametrize(("prio", "skew"), [(200, 56 / 256), (100, 156 / 256), (1, 255 / 256)])
def test_priority_zero_hands_over_within_skew_time(prio, skew):
    lan = lan_of(("m", params(250, 1)), ("b", params(prio, 2)))
    lan.run_until(T0 + 10)
    assert lan.masters() == ["m"]
    lan.stop("m")
    t = lan.now
    lan.run_until(t + 5)
    assert lan.masters() == ["b"]
    # keepalived truncates the skew to whole microseconds
    assert became_master_at(lan, "b") == [pytest.approx(t + skew, abs=1e-6)]
    assert lan.instance("m").stats.pri_zero_sent == 1
    assert lan.instance("b").stats.pri_zero_rcvd == 1
    assert lan.notifies("m")[-1] == "STOP"
    assert not lan.routers["m"].vips


def test_priority_zero_with_delay():
    lan = lan_of(("m", params(250, 1)), ("b", params(100, 2)), delay_s=0.01)
    lan.run_until(T0 + 10)
    lan.stop("m")
    t = lan.now
    lan.run_until(t + 5)
    assert became_master_at(lan, "b") == [pytest.approx(t + 0.01 + 156 / 256, abs=1e-9)]


def test_master_answers_priority_zero_with_an_advert():
    lan = lan_of(("m", params(250, 1)))
    lan.run_until(T0 + 5)
    m = lan.instance("m")
    sent = m.stats.advert_sent
    from keepalived_py.vrrp.events import AdvertReceived, RxMeta
    from keepalived_py.vrrp.packet import VrrpAdvert

    adv = VrrpAdvert(2, 51, 0, 100, (VIP,), 0, b"\0" * 8)
    out = m.handle(AdvertReceived(adv, RxMeta(ip_address("192.0.2.9"), ip_address("224.0.0.18"))), lan.now)
    assert [a.priority for a in out if isinstance(a, SendAdvert)] == [250]
    assert m.stats.advert_sent == sent + 1 and m.state == State.MASTER


# --------------------------------------------------------------------------- VRRPv3 timers


def test_v3_backup_learns_master_advert_interval():
    lan = lan_of(("m", params(200, 1, version=3, advert_int_s=0.5)),
                 ("b", params(100, 2, version=3, advert_int_s=2)))
    lan.run_until(T0 + 30)
    assert lan.masters() == ["m"]
    b = lan.instance("b")
    assert b.master_adver_int_us == 500_000
    # v3: Master_Down = 3 * 50 cs + (256 - 100) * 50 / 256 cs = 1.5 s + 0.3046875 s
    assert b.ms_down_timer_us == 1_500_000 + (156 * 50 * 625) // 16
    lan.crash("m")
    last = max(t for t, _ in lan.actions_of("m", SendAdvert))
    lan.run_until(last + 5)
    assert became_master_at(lan, "b") == [pytest.approx(last + 1.8046875, abs=1e-6)]
    # once master, b advertises at its own configured interval again
    sends = [t for t, _ in lan.actions_of("b", SendAdvert)]
    assert sends[1] - sends[0] == pytest.approx(2.0)


def test_v3_ipv6_election():
    lan = lan_of(("a", params6(100, 1)), ("b", params6(120, 2)))
    lan.run_until(T0 + 10)
    assert lan.masters() == ["b"]
    assert any(isinstance(a, SendNa) for _, n, a in lan.log if n == "b")
    # v3 skew with a 1 s interval: (256 - 120) * 100 cs / 256
    assert became_master_at(lan, "b") == [pytest.approx(T0 + 3 + 136 / 256, abs=1e-6)]


# --------------------------------------------------------------------------- GARP schedule


def test_garp_on_master_then_after_delay_then_refresh():
    lan = lan_of(("a", params(100, 1, garp_master_delay_s=5, garp_master_repeat=3,
                                 garp_master_refresh_s=10, garp_master_refresh_repeat=2)))
    lan.run_until(T0 + 40)
    t_m = became_master_at(lan, "a")[0]
    garps = [(round(t - t_m, 6), g.repeat) for t, g in lan.actions_of("a", SendGarp)]
    assert garps[:2] == [(0.0, 3), (5.0, 3)]
    assert garps[2:] == [(10.0, 2), (20.0, 2), (30.0, 2)][: len(garps) - 2]
    assert len(garps) >= 4


def test_no_garp_delay_timer_when_zero():
    lan = lan_of(("a", params(100, 1, garp_master_delay_s=0)))
    lan.run_until(T0 + 20)
    assert len(lan.actions_of("a", SendGarp)) == 1


# --------------------------------------------------------------------------- FAULT


def test_tracked_script_failure_faults_master_and_backup_takes_over_in_skew():
    lan = Lan(T0)
    lan.add("a", params(200, 1), tracked=(TrackedObject("script", "chk", 0),))
    lan.add("b", params(100, 2))
    lan.start("a")
    lan.start("b")
    never_master: set[str] = set()

    def watch(net: Lan) -> None:
        for n in never_master:
            assert net.states()[n] != State.MASTER

    lan.watchers.append(watch)
    lan.run_until(T0 + 10)
    assert lan.masters() == ["a"]
    lan.deliver("a", "VI_1", TrackingChanged("script", "chk", ok=False))
    never_master.add("a")
    t = lan.now
    assert lan.states()["a"] == State.FAULT
    lan.run_until(t + 30)
    assert lan.masters() == ["b"]
    assert became_master_at(lan, "b") == [pytest.approx(t + 156 / 256)]
    assert lan.notifies("a")[-1] == "FAULT"
    never_master.clear()
    lan.deliver("a", "VI_1", TrackingChanged("script", "chk", ok=True))
    assert lan.states()["a"] == State.BACKUP
    lan.run_until(lan.now + 30)
    assert lan.masters() == ["a"]


def test_interface_down_is_fault_and_up_recovers():
    lan = lan_of(("a", params(100, 1)))
    lan.run_until(T0 + 5)
    lan.deliver("a", "VI_1", InterfaceDown("eth0"))
    assert lan.states()["a"] == State.FAULT and not lan.routers["a"].vips
    lan.run_until(T0 + 30)
    assert lan.states()["a"] == State.FAULT
    lan.deliver("a", "VI_1", InterfaceUp("eth0"))
    t = lan.now
    assert lan.states()["a"] == State.BACKUP
    lan.run_until(t + 10)
    assert became_master_at(lan, "a")[-1] == pytest.approx(t + 3 + 156 / 256)


def test_dont_track_primary_ignores_interface():
    lan = lan_of(("a", params(100, 1, dont_track_primary=True)))
    lan.run_until(T0 + 5)
    lan.deliver("a", "VI_1", InterfaceDown("eth0"))
    assert lan.states()["a"] == State.MASTER


def test_weighted_track_changes_priority_and_election():
    lan = Lan(T0)
    lan.add("a", params(100, 1), tracked=(TrackedObject("script", "chk", 60),))  # 160 while ok
    lan.add("b", params(150, 2))
    lan.start("a")
    lan.start("b")
    lan.run_until(T0 + 10)
    assert lan.masters() == ["a"]
    lan.deliver("a", "VI_1", TrackingChanged("script", "chk", ok=False))
    assert lan.instance("a").effective_priority == 100
    lan.run_until(T0 + 20)
    assert lan.masters() == ["b"]


def test_fault_at_start_never_becomes_master():
    lan = Lan(T0)
    lan.add("a", params(200, 1), tracked=(TrackedObject("file", "f", 0, initially_ok=None),))
    lan.start("a")
    assert lan.states()["a"] == State.INIT
    lan.deliver("a", "VI_1", TrackingChanged("file", "f", value=1))
    assert lan.states()["a"] == State.FAULT
    lan.run_until(T0 + 30)
    assert lan.states()["a"] == State.FAULT
    lan.deliver("a", "VI_1", TrackingChanged("file", "f", value=0))
    assert lan.states()["a"] == State.BACKUP


# --------------------------------------------------------------------------- loss, partitions, restarts


def test_partition_gives_a_master_per_side_and_heal_converges():
    lan = lan_of(("a", params(100, 1)), ("b", params(150, 2)), ("c", params(200, 3)))
    lan.run_until(T0 + 10)
    lan.partition = {"c": 1}
    lan.run_until(T0 + 20)
    assert sorted(lan.masters()) == ["b", "c"]
    lan.partition = {}
    lan.run_until(T0 + 30)
    assert lan.masters() == ["c"]


def test_restart_of_master_and_crash_recovery():
    lan = lan_of(("a", params(100, 1)), ("b", params(200, 2)))
    lan.run_until(T0 + 10)
    lan.crash("b")
    lan.run_until(T0 + 20)
    assert lan.masters() == ["a"]
    lan.restart("b")
    lan.run_until(T0 + 40)
    assert lan.masters() == ["b"]
    assert lan.states()["a"] == State.BACKUP and not lan.routers["a"].vips


def test_lossy_lan_converges_after_loss_stops():
    lan = lan_of(*[(f"r{i}", params(50 + 30 * i, 10 + i)) for i in range(5)], seed=7)
    lan.loss = 0.6
    lan.run_until(T0 + 60)
    lan.loss = 0.0
    lan.run_until(T0 + 80)
    assert lan.masters() == ["r4"]


# --------------------------------------------------------------------------- notify


def test_notify_for_each_transition():
    lan = lan_of(("a", params(100, 1)), ("b", params(200, 2)))
    lan.run_until(T0 + 10)
    lan.stop("b")
    lan.run_until(T0 + 15)
    assert lan.notifies("b") == ["BACKUP", "MASTER", "STOP"]
    assert lan.notifies("a") == ["BACKUP", "MASTER"]
    n = [a for _, a in lan.actions_of("a", RunNotify)][-1]
    assert (n.kind, n.name, n.priority) == ("INSTANCE", "VI_1", 100)


# --------------------------------------------------------------------------- unicast


def test_unicast_peers_elect_and_hand_over():
    from keepalived_py.vrrp.params import UnicastPeer

    def uparams(prio: int, me: int, peer: int, version: int = 3) -> VrrpInstanceParams:
        return params(prio, me, version=version, unicast_peers=(UnicastPeer(ip_address(f"192.0.2.{peer}")),),
                      check_unicast_src=True)

    lan = lan_of(("a", uparams(100, 1, 2)), ("b", uparams(200, 2, 1)))
    lan.run_until(T0 + 10)
    assert lan.masters() == ["b"]
    sent = lan.actions_of("b", SendAdvert)[-1][1]
    assert sent.dsts == (ip_address("192.0.2.1"),)
    assert lan.instance("a").stats.advert_rcvd > 0 and lan.instance("a").stats.chk_err == 0
    lan.stop("b")
    t = lan.now
    lan.run_until(t + 5)
    assert became_master_at(lan, "a") == [pytest.approx(t + 156 / 256, abs=1e-6)]


def test_unicast_from_unknown_peer_is_not_a_master():
    from keepalived_py.vrrp.params import UnicastPeer

    lan = Lan(T0)
    lan.add("a", params(100, 1, unicast_peers=(UnicastPeer(ip_address("192.0.2.3")),),
                        check_unicast_src=True))
    lan.add("b", params(200, 2, unicast_peers=(UnicastPeer(ip_address("192.0.2.1")),)))
    lan.start("a")
    lan.start("b")
    lan.run_until(T0 + 10)
    assert sorted(lan.masters()) == ["a", "b"]
    assert lan.instance("a").stats.unicast_src_err > 0


def test_v2_over_ipv6_election_as_keepalived_allows_it():
    def p6(prio: int, host: int, **kw) -> VrrpInstanceParams:
        return VrrpInstanceParams(name="VI_6", interface="eth0", vrid=53, family=Family.INET6,
                                  primary_address=ip_address(f"fe80::{host}"), priority=prio, version=2,
                                  virtual_ipaddress=(ip_address("2001:db8::100"),), **kw)

    lan = lan_of(("a", p6(100, 1, auth_type=1, auth_pass="pw")), ("b", p6(150, 2, auth_type=1, auth_pass="pw")))
    lan.run_until(T0 + 10)
    assert lan.masters() == ["b"]
    # v2 skew whatever the family: (256 - 150) / 256 s
    assert became_master_at(lan, "b") == [pytest.approx(T0 + 3 + 106 / 256, abs=1e-6)]
    sent = lan.actions_of("b", SendAdvert)[-1][1]
    assert len(sent.payloads[0]) == 8 + 16 and sent.advert.auth_type == 1
    assert lan.instance("a").stats.auth_failure == 0 and lan.instance("a").stats.advert_rcvd > 0
