"""The instance snapshot is a frozen value built by the core: master priority and the time
of the last transition are the ones the machine saw (fake clock), and counting later does
not change a snapshot already taken."""

from __future__ import annotations

import dataclasses
from ipaddress import ip_address

import pytest

from keepalived_py.vrrp.events import Start
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.snapshot import InstanceSnapshot
from tests.unit.vrrp.lan import Lan

T0 = 1000.0
VIP = ip_address("192.0.2.100")


def params(prio: int, host: int, version: int = 2) -> VrrpInstanceParams:
    return VrrpInstanceParams(name="VI_1", interface="eth0", vrid=51, priority=prio, version=version,
                              primary_address=ip_address(f"192.0.2.{host}"), virtual_ipaddress=(VIP,))


def test_backup_records_the_master_it_hears_and_when_it_changed_state():
    lan = Lan(T0)
    lan.add("low", params(100, 1))
    lan.add("high", params(200, 2))
    lan.start("low")
    lan.run_until(T0 + 0.25)
    # high: BACKUP at T0 + 0.25, MASTER after its Master_Down_Interval, before low's runs out
    lan.start("high")
    lan.run_until(T0 + 10)
    high_master_at = T0 + 0.25 + 3 + (256 - 200) / 256
    low = lan.instance("low").snapshot()
    high = lan.instance("high").snapshot()
    assert isinstance(low, InstanceSnapshot)
    assert low.state == State.BACKUP and high.state == State.MASTER
    assert low.master_priority == 200 and low.master_saddr == ip_address("192.0.2.2")
    assert high.master_priority == 0  # never heard a master (keepalived leaves it 0)
    assert low.last_transition == T0  # BACKUP at its start, then never changed
    assert high.last_transition == pytest.approx(high_master_at, abs=1e-9)


def test_master_taken_over_keeps_the_new_masters_priority():
    lan = Lan(T0)
    lan.add("low", params(100, 1))
    lan.start("low")
    lan.run_until(T0 + 5)
    assert lan.instance("low").state == State.MASTER
    lan.add("high", params(200, 2))
    lan.start("high")
    lan.run_until(T0 + 15)
    snap = lan.instance("low").snapshot()
    assert snap.state == State.BACKUP and snap.master_priority == 200
    # left MASTER when high's first advert arrived, i.e. when high became MASTER
    high = lan.instance("high").snapshot()
    assert snap.last_transition == pytest.approx(high.last_transition, abs=1e-9)
    assert snap.stats.release_master == 1


def test_creation_time_until_the_first_transition():
    inst = VrrpInstance(params(100, 1), created_at=T0 - 5)
    assert inst.snapshot().last_transition == T0 - 5 and inst.snapshot().state == State.INIT
    inst.handle(Start(), T0)
    assert inst.snapshot().last_transition == T0


def test_snapshot_is_frozen_and_does_not_follow_the_counters():
    inst = VrrpInstance(params(255, 1))
    inst.handle(Start(), T0)
    snap = inst.snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.master_priority = 7  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.stats.advert_sent = 7  # type: ignore[misc]
    sent = snap.stats.advert_sent
    inst.clear_stats()
    assert snap.stats.advert_sent == sent == 1 and inst.stats.advert_sent == 0


def test_every_snapshot_field_is_filled_by_the_core():
    """A field the core does not set is a TypeError at construction, not a silent 0."""
    inst = VrrpInstance(params(100, 1))
    fields = {f.name for f in dataclasses.fields(InstanceSnapshot)}
    assert set(dataclasses.asdict(inst.snapshot())) == fields
    with pytest.raises(TypeError):
        InstanceSnapshot(name="x")  # type: ignore[call-arg]
