"""Random LANs with loss, delay, partitions, crashes and restarts: after the trouble stops,
exactly one MASTER per VRID, holding the highest effective priority; FAULT never MASTER."""

from __future__ import annotations

from ipaddress import ip_address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keepalived_py.vrrp.actions import RunNotify
from keepalived_py.vrrp.events import TrackingChanged
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.tracking import TrackedObject
from tests.unit.vrrp.lan import Lan

T0 = 1000.0


def _params(prio: int, host: int, version: int, vrid: int) -> VrrpInstanceParams:
    return VrrpInstanceParams(name=f"VI_{vrid}", interface="eth0", vrid=vrid,
                              primary_address=ip_address(f"192.0.2.{host}"), priority=prio,
                              version=version, advert_int_s=1,
                              virtual_ipaddress=(ip_address(f"198.51.100.{vrid}"),))


trouble = st.lists(
    st.tuples(
        st.floats(0, 20),
        st.sampled_from(["loss", "partition", "crash", "restart", "stop", "fault", "unfault"]),
        st.integers(0, 5),
        st.floats(0, 0.9),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prios=st.lists(st.integers(1, 255), min_size=2, max_size=5),
    version=st.sampled_from([2, 3]),
    delay=st.sampled_from([0.0, 0.001, 0.05]),
    events=trouble,
    seed=st.integers(0, 1000),
)
def test_one_master_with_highest_priority_after_trouble(prios, version, delay, events, seed):
    if prios.count(255) > 1:  # two address owners is a configuration error
        prios = [p if p != 255 else 254 for p in prios[:-1]] + [prios[-1]]
    lan = Lan(T0, delay_s=delay, seed=seed)
    names = [f"r{i}" for i in range(len(prios))]
    for i, (name, prio) in enumerate(zip(names, prios, strict=True)):
        lan.add(name, _params(prio, 10 + i, version, 51),
                tracked=(TrackedObject("script", "chk", 0),))
        lan.start(name)

    def no_fault_master(net: Lan) -> None:
        for r in net.routers.values():
            inst = next(iter(r.instances.values()))
            if r.up and inst.has_own_fault():
                assert inst.state != State.MASTER

    lan.watchers.append(no_fault_master)
    for at, what, who, x in sorted(events):
        lan.run_until(T0 + at)
        name = names[who % len(names)]
        r = lan.routers[name]
        if what == "loss":
            lan.loss = x
        elif what == "partition":
            lan.partition = {n: lan.rng.randrange(2) for n in names}
        elif what == "crash" and r.up:
            lan.crash(name)
        elif what == "stop" and r.up:
            lan.stop(name)
        elif what == "restart" and not r.up:
            lan.restart(name, tracked=(TrackedObject("script", "chk", 0),))
        elif what in ("fault", "unfault") and r.up:
            lan.deliver(name, "VI_51", TrackingChanged("script", "chk", ok=what == "unfault"))

    # trouble over: heal the LAN, bring everyone back, let it settle
    lan.loss = 0.0
    lan.partition = {}
    for name in names:
        r = lan.routers[name]
        if not r.up:
            lan.restart(name, tracked=(TrackedObject("script", "chk", 0),))
        else:
            lan.deliver(name, "VI_51", TrackingChanged("script", "chk", ok=True))
    lan.run_for(30)

    masters = lan.masters(51)
    assert len(masters) == 1, lan.states()
    eff = {n: lan.instance(n).effective_priority for n in names}
    assert eff[masters[0]] == max(eff.values())
    for n in names:
        assert (n in masters) == bool(lan.routers[n].vips)


@settings(max_examples=40, deadline=None)
@given(prios=st.lists(st.integers(1, 254), min_size=2, max_size=6, unique=True),
       version=st.sampled_from([2, 3]))
def test_simultaneous_start_elects_highest_priority_exactly_on_time(prios, version):
    lan = Lan(T0)
    names = [f"r{i}" for i in range(len(prios))]
    for i, (n, p) in enumerate(zip(names, prios, strict=True)):
        lan.add(n, _params(p, 10 + i, version, 51))
        lan.start(n)
    lan.run_for(15)
    top = names[prios.index(max(prios))]
    assert lan.masters() == [top]
    when = [t for t, a in lan.actions_of(top, RunNotify) if a.state == "MASTER"]
    skew_us = (256 - max(prios)) * 1_000_000 // 256 if version == 2 else ((256 - max(prios)) * 100 * 625) // 16
    assert when == [T0 + (3_000_000 + skew_us) / 1e6]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 5), prio=st.integers(1, 254))
def test_equal_priorities_started_together_elect_highest_address(n, prio):
    lan = Lan(T0)
    for i in range(n):
        lan.add(f"r{i}", _params(prio, 10 + i, 2, 51))
        lan.start(f"r{i}")
    lan.run_for(15)
    assert lan.masters() == [f"r{n - 1}"]
