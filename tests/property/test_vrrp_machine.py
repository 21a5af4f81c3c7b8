"""Any sequence of events leaves an instance consistent, and never raises."""

from __future__ import annotations

from ipaddress import ip_address

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.vrrp.events import (
    AdvertReceived,
    InterfaceDown,
    InterfaceUp,
    Ipv4DatagramReceived,
    PacketReceived,
    RxMeta,
    Start,
    Stop,
    TimerExpired,
    TrackingChanged,
)
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.packet import AuthType, VrrpAdvert, build_ipv4, encode
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.tracking import TrackedObject

ME, PEER, GROUP = ip_address("192.0.2.1"), ip_address("192.0.2.2"), ip_address("224.0.0.18")
VIP = (ip_address("192.0.2.100"),)


def _params(version: int, prio: int, auth: int) -> VrrpInstanceParams:
    return VrrpInstanceParams("VI", "eth0", 7, ME, priority=prio, version=version,
                              auth_type=AuthType(auth) if version == 2 else AuthType.NONE,
                              auth_pass="pw", virtual_ipaddress=VIP, preempt_delay_s=2,
                              garp_master_refresh_s=3)


def _advert(version: int, prio: int, auth: int) -> VrrpAdvert:
    return VrrpAdvert(version, 7, prio, 100, VIP, auth if version == 2 else 0,
                      (b"pw" + bytes(6)) if (version == 2 and auth == 1) else (bytes(8) if version == 2 else b""))


def events(version: int, auth: int):
    good = st.integers(0, 255).map(lambda pr: PacketReceived(
        encode(_advert(version, pr, auth), PEER, GROUP), RxMeta(PEER, GROUP, 255)))
    timers = st.sampled_from(["advert", "advert", "garp_delay", "garp_lower_prio"]).map(TimerExpired)
    return st.one_of(
        timers, timers, timers, good, good,
        st.sampled_from([Start(), Start(), Stop()]),
        st.integers(0, 255).map(lambda pr: AdvertReceived(_advert(version, pr, auth), RxMeta(PEER, GROUP))),
        st.binary(max_size=64).map(lambda b: PacketReceived(b, RxMeta(PEER, GROUP, 255))),
        st.binary(max_size=80).map(Ipv4DatagramReceived),
        st.binary(max_size=40).map(lambda b: Ipv4DatagramReceived(build_ipv4(PEER, GROUP, b))),
        st.builds(TrackingChanged, st.just("script"), st.sampled_from(["f", "w"]), st.booleans()),
        st.sampled_from([InterfaceUp("eth0"), InterfaceDown("eth0")]),
    )


@st.composite
def scenario(draw):
    version = draw(st.sampled_from([2, 3]))
    auth = draw(st.sampled_from([0, 1, 2])) if version == 2 else 0
    prio = draw(st.integers(1, 255))
    steps = [(0.0, Start())]
    steps += draw(st.lists(st.tuples(st.floats(0, 5), events(version, auth)), max_size=40))
    return _params(version, prio, auth), steps


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_random_events_keep_invariants(case):
    params, steps = case
    inst = VrrpInstance(params, (TrackedObject("script", "f", 0), TrackedObject("script", "w", -20)))
    now = 1000.0
    for dt, ev in steps:
        now += dt
        if isinstance(ev, TimerExpired) and ev.timer == "advert" and inst.sands is not None:
            now = max(now, inst.sands)
        inst.handle(ev, now)
        assert inst.vipset == (inst.state == State.MASTER)
        assert (inst.sands is not None) == (inst.state in (State.BACKUP, State.MASTER))
        if inst.state != State.INIT and inst.started and inst.has_own_fault():
            assert inst.state == State.FAULT
        assert 1 <= inst.effective_priority <= 255
