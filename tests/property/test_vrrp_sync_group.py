"""Random events to the members of a sync group never leave the group split."""

from __future__ import annotations

from ipaddress import ip_address

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.vrrp.events import (
    AdvertReceived,
    InterfaceDown,
    InterfaceUp,
    RxMeta,
    Stop,
    TimerExpired,
    TrackingChanged,
)
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.packet import VrrpAdvert
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.sync_group import SyncGroup
from keepalived_py.vrrp.tracking import TrackedObject

NAMES = ("A", "B", "C")
PEER, GROUP = ip_address("192.0.2.9"), ip_address("224.0.0.18")


def _member(i: int, prio: int) -> VrrpInstance:
    p = VrrpInstanceParams(NAMES[i], f"eth{i}", 10 + i, ip_address("192.0.2.1"), priority=prio,
                           virtual_ipaddress=(ip_address(f"198.51.100.{i + 1}"),))
    return VrrpInstance(p, (TrackedObject("script", f"s{i}", 0),))


def _event(i: int):
    adv = st.integers(0, 255).map(lambda pr: AdvertReceived(
        VrrpAdvert(2, 10 + i, pr, 100, (ip_address(f"198.51.100.{i + 1}"),), 0, bytes(8)),
        RxMeta(PEER, GROUP)))
    return st.one_of(
        st.just(TimerExpired("advert")), st.just(TimerExpired("advert")), adv,
        st.booleans().map(lambda ok: TrackingChanged("script", f"s{i}", ok)),
        st.sampled_from([InterfaceUp(f"eth{i}"), InterfaceDown(f"eth{i}")]),
    )


steps = st.lists(
    st.tuples(st.integers(0, 2), st.floats(0, 4), st.data()), max_size=30)


@settings(max_examples=200, deadline=None)
@given(prios=st.lists(st.integers(1, 255), min_size=3, max_size=3), steps=steps,
       stop_at_end=st.booleans())
def test_group_never_splits(prios, steps, stop_at_end):
    members = [_member(i, p) for i, p in enumerate(prios)]
    group = SyncGroup("G", members, (TrackedObject("interface", "shared", 0),))
    now = 1000.0
    group.start(now)
    for i, dt, data in steps:
        now += dt
        ev = data.draw(_event(i))
        inst = members[i]
        if isinstance(ev, TimerExpired) and inst.sands is not None:
            now = max(now, inst.sands)
        group.handle(NAMES[i], ev, now)
        states = {m.state for m in members}
        if State.MASTER in states:
            assert states == {State.MASTER}, {m.name: m.state for m in members}
        if any(m.has_own_fault() for m in members):
            assert states == {State.FAULT}, {m.name: m.state for m in members}
        for m in members:
            assert m.vipset == (m.state == State.MASTER)
    if stop_at_end:
        for n in NAMES:
            group.handle(n, Stop(), now)
        assert {m.state for m in members} == {State.STOP}
        assert not any(m.vipset for m in members)
