"""Sync group notify order, as keepalived 2.2.7 writes it.

vrrp_sync_master / vrrp_sync_backup / vrrp_sync_fault (vrrp_sync.c) move the other members
first, each sending its INSTANCE notify, and call send_group_notifies last; the member that
triggered the sync already sent its own before (vrrp_scheduler.c try_up_instance,
vrrp_track.c down_instance, vrrp.c vrrp_state_become_master). notify_shutdown
(vrrp_notify.c) sends every instance's STOP, then every group's STOP.
"""

from __future__ import annotations

from ipaddress import ip_address

from keepalived_py.vrrp.actions import RunNotify
from keepalived_py.vrrp.events import AdvertReceived, RxMeta, Stop, TimerExpired, TrackingChanged
from keepalived_py.vrrp.machine import ADVERT_TIMER, State, VrrpInstance
from keepalived_py.vrrp.packet import VrrpAdvert
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.sync_group import SyncGroup
from keepalived_py.vrrp.tracking import TrackedObject

T0 = 1000.0
CHK = TrackedObject("script", "chk", 0, initially_ok=None)


def group(chk: TrackedObject | None = CHK) -> SyncGroup:
    vi1 = VrrpInstance(VrrpInstanceParams("VI_1", "eth0", 51, ip_address("192.0.2.1"), priority=100,
                                          virtual_ipaddress=(ip_address("192.0.2.100"),)),
                       (chk,) if chk is not None else ())
    vi2 = VrrpInstance(VrrpInstanceParams("VI_2", "eth0", 52, ip_address("192.0.2.1"), priority=90,
                                          virtual_ipaddress=(ip_address("192.0.2.101"),)))
    return SyncGroup("G1", [vi1, vi2])


def notes(actions) -> list[tuple[str, str, str]]:
    return [(a.kind, a.name, a.state) for a in actions if isinstance(a, RunNotify)]


def chk(g: SyncGroup, ok: bool, now: float = T0) -> list:
    return g.handle("VI_1", TrackingChanged("script", "chk", ok=ok), now)


def started_backup() -> SyncGroup:
    g = group()
    g.start(T0)
    chk(g, True)
    return g


def test_start_waits_for_a_member_in_init_then_members_before_group():
    g = group()
    assert notes(g.start(T0)) == []          # VI_2 waits for VI_1's first script result
    assert {m.state for m in g.members.values()} == {State.INIT}
    assert notes(chk(g, True)) == [
        ("INSTANCE", "VI_1", "BACKUP"), ("INSTANCE", "VI_2", "BACKUP"), ("GROUP", "G1", "BACKUP")]


def test_start_without_pending_tracking_notifies_the_group_first():
    """vrrp_init_state(): a group in BACKUP notifies before its members do (the FIFO of
    keepalived 2.2.7 in tests/integration/test_vrrp_notify_lab.py reads so)."""
    g = group(chk=None)
    assert notes(g.start(T0)) == [
        ("GROUP", "G1", "BACKUP"), ("INSTANCE", "VI_1", "BACKUP"), ("INSTANCE", "VI_2", "BACKUP")]


def test_start_with_a_member_in_fault_notifies_group_fault_first():
    g = group(chk=None)
    g.members["VI_2"].handle(TrackingChanged("interface", "eth0", ok=False), T0)
    out = notes(g.start(T0))
    assert out[0] == ("GROUP", "G1", "FAULT") and ("GROUP", "G1", "BACKUP") not in out
    assert g.state == State.FAULT


def test_master_members_before_group_trigger_first():
    g = started_backup()
    # VI_1 expires first but VI_2 does not want MASTER yet: VI_1 stays BACKUP
    assert notes(g.handle("VI_1", TimerExpired(ADVERT_TIMER), T0 + 4)) == []
    assert notes(g.handle("VI_2", TimerExpired(ADVERT_TIMER), T0 + 4.1)) == [
        ("INSTANCE", "VI_2", "MASTER"), ("INSTANCE", "VI_1", "MASTER"), ("GROUP", "G1", "MASTER")]
    assert g.state == State.MASTER


def master_group() -> SyncGroup:
    g = started_backup()
    g.handle("VI_1", TimerExpired(ADVERT_TIMER), T0 + 4)
    g.handle("VI_2", TimerExpired(ADVERT_TIMER), T0 + 4.1)
    assert {m.state for m in g.members.values()} == {State.MASTER}
    return g


def test_fault_members_before_group():
    g = master_group()
    assert notes(chk(g, False, T0 + 5)) == [
        ("INSTANCE", "VI_1", "FAULT"), ("INSTANCE", "VI_2", "FAULT"), ("GROUP", "G1", "FAULT")]


def test_backup_after_fault_members_before_group():
    g = master_group()
    chk(g, False, T0 + 5)
    assert notes(chk(g, True, T0 + 6)) == [
        ("INSTANCE", "VI_1", "BACKUP"), ("INSTANCE", "VI_2", "BACKUP"), ("GROUP", "G1", "BACKUP")]


def test_backup_from_master_members_before_group():
    g = master_group()
    higher = VrrpAdvert(2, 52, 200, 100, (ip_address("192.0.2.101"),), 0, bytes(8))
    out = g.handle("VI_2", AdvertReceived(higher, RxMeta(ip_address("192.0.2.9"),
                                                         ip_address("224.0.0.18"))), T0 + 5)
    assert notes(out) == [
        ("INSTANCE", "VI_2", "BACKUP"), ("INSTANCE", "VI_1", "BACKUP"), ("GROUP", "G1", "BACKUP")]


def test_stop_instances_then_group():
    g = master_group()
    out = []
    for name in g.members:
        out += g.handle(name, Stop(), T0 + 10)
    out += g.stop()
    assert notes(out) == [
        ("INSTANCE", "VI_1", "STOP"), ("INSTANCE", "VI_2", "STOP"), ("GROUP", "G1", "STOP")]
    assert g.state == State.STOP


def test_group_stop_is_sent_whatever_the_group_state():
    g = group()
    assert notes(g.stop()) == [("GROUP", "G1", "STOP")]


def test_runtime_stop_sends_instance_stops_then_group_stop():
    import asyncio

    from keepalived_py.config import load_text
    from tests.unit.vrrpd.test_runtime import CONF, Rig

    class Recorder:
        def __init__(self) -> None:
            self.seen: list = []

        def handle(self, action: RunNotify) -> None:
            self.seen.append(action)

    text = (CONF.format(prio=255, extra="") +
            CONF.format(prio=255, extra="").replace("VI_1", "VI_2").replace("eth0", "eth1")
            .replace("192.0.2.100", "198.51.100.100") +
            "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n")

    async def go() -> list:
        r = Rig()
        rt = await r.start(load_text(text).config)
        rec = Recorder()
        rt.notifier = rec
        await rt.stop()
        return rec.seen

    assert notes(asyncio.run(go())) == [
        ("INSTANCE", "VI_1", "STOP"), ("INSTANCE", "VI_2", "STOP"), ("GROUP", "G1", "STOP")]
