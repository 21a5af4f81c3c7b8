"""Restarts without a failover for a vrrp_sync_group (issue 16), the vrrp child against
recording fakes on a fake clock: a group whose members were all MASTER with the same
configuration and left all their VIPs resumes as a whole (one listen, then every member
MASTER with an advert, no notify, no GARP, no address removed); one member that may not
resume (changed, a VIP missing) or that hears another master while listening sends the
whole group to keepalived's start, with the reason in the log."""

from __future__ import annotations

import json
import logging
from ipaddress import ip_interface

from keepalived_py.config import load_text
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.adopt import Decision, StateFile, config_digest, decide_group, group_key
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.vrrpd.test_runtime import CONF, LOG, Rig, _advert, run

VIP1, VIP2 = "192.0.2.100", "198.51.100.100"
GROUP = "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"


def conf(prio1: int = 100, prio2: int = 100):
    second = (CONF.format(prio=prio2, extra="").replace("VI_1", "VI_2").replace("eth0", "eth1")
              .replace("192.0.2.100", VIP2).replace("virtual_router_id 51", "virtual_router_id 52"))
    return load_text(CONF.format(prio=prio1, extra="") + second + GROUP).config


class Notes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def handle(self, act) -> None:
        self.seen.append((act.kind, act.name, act.state))


async def start(r: Rig, config, path, resume: bool = True) -> VrrpRuntime:
    r.notes = Notes()
    r.rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                       vmac_sysctls=r.sysctls, notifier=r.notes, resume=resume, state_file=StateFile(path))
    await r.rt.start(config)
    await r.settle()
    return r.rt


def predecessor(tmp_path, config) -> object:
    """The state file a MASTER group leaves (the caller puts the VIPs on the links)."""
    async def go():
        r = Rig()
        rt = await start(r, config, tmp_path / "first.state", resume=False)
        return {n: config_digest(rt.by_name[n].machine.params) for n in ("VI_1", "VI_2")}
    digests = run(go())
    path = tmp_path / "vrrp.pid.state"
    key = group_key("G1", ["VI_1", "VI_2"])
    path.write_text(json.dumps({"version": 1, "instances": {
        n: {"state": "MASTER", "config": d, "group": key} for n, d in digests.items()}}))
    return path


def rig_with_vips(*vips: tuple[str, str]) -> Rig:
    r = Rig()
    for ifname, vip in vips or (("eth0", VIP1), ("eth1", VIP2)):
        r.net.addrs[ifname].append(ip_interface(f"{vip}/24"))
    return r


def test_group_resumes_as_a_whole(tmp_path):
    path = predecessor(tmp_path, conf())

    async def go():
        r = rig_with_vips()
        rt = await start(r, conf(), path)
        m1, m2 = rt.by_name["VI_1"].machine, rt.by_name["VI_2"].machine
        assert m1.resuming and m2.resuming
        assert r.adverts("eth0") == r.adverts("eth1") == [] and r.net.ops("remove_address") == []
        await r.advance(0.49)
        assert r.adverts("eth0") == r.adverts("eth1") == []  # still listening
        await r.advance(0.02)
        assert rt.state_of("VI_1") == rt.state_of("VI_2") == State.MASTER
        assert not m1.resuming and not m2.resuming and m1.sync.state == State.MASTER
        assert len(r.adverts("eth0")) == len(r.adverts("eth1")) == 1
        assert r.net.has("eth0", VIP1) and r.net.has("eth1", VIP2) and r.net.ops("remove_address") == []
        assert r.sender.frames == [] and r.notes.seen == []  # no GARP burst, no INSTANCE/GROUP notify
        await r.advance(1.0)
        assert len(r.adverts("eth0")) == len(r.adverts("eth1")) == 2  # one interval on: one more each
        recs = json.loads(path.read_text())["instances"]
        assert {n: (v["state"], v["group"]) for n, v in recs.items()} == {
            "VI_1": ("MASTER", "G1:VI_1,VI_2"), "VI_2": ("MASTER", "G1:VI_1,VI_2")}
        await rt.stop()
    run(go())


def test_master_heard_by_one_member_sends_the_group_to_start(tmp_path, caplog):
    path = predecessor(tmp_path, conf())

    async def go():
        r = rig_with_vips()
        rt = await start(r, conf(), path)
        r.sock("eth0").inject(_advert(200))  # a live master for VI_1's VRID
        await r.settle()
        for n in ("VI_1", "VI_2"):
            assert rt.state_of(n) == State.BACKUP and not rt.by_name[n].machine.resuming
        assert not r.net.has("eth0", VIP1) and not r.net.has("eth1", VIP2)
        assert r.adverts("eth0") == r.adverts("eth1") == []  # we never spoke: no priority 0
        # keepalived's start order: the group's BACKUP first, then its members'
        assert r.notes.seen[0] == ("GROUP", "G1", "BACKUP")
        assert sorted(r.notes.seen[1:]) == [("INSTANCE", "VI_1", "BACKUP"), ("INSTANCE", "VI_2", "BACKUP")]
        await r.advance(2.0)
        assert rt.state_of("VI_2") == State.BACKUP and r.adverts("eth1") == []
        await rt.stop()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        run(go())
    assert "sync group G1: VI_1 did not resume" in caplog.text


def test_changed_member_sends_the_group_to_start(tmp_path, caplog):
    path = predecessor(tmp_path, conf())

    async def go():
        r = rig_with_vips()
        rt = await start(r, conf(prio2=120), path)
        for n in ("VI_1", "VI_2"):
            assert not rt.by_name[n].machine.resuming and rt.state_of(n) == State.BACKUP
        assert not r.net.has("eth0", VIP1) and not r.net.has("eth1", VIP2)  # leftovers removed
        await rt.stop()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        run(go())
    assert ("VRRP_Group(G1) not resuming: sync group G1: member VI_2 may not resume: "
            "configuration changed since the previous vrrp process") in caplog.text
    assert "(VI_1) not resuming (sync group G1: member VI_2" in caplog.text


def test_missing_vip_of_one_member_sends_the_group_to_start(tmp_path):
    path = predecessor(tmp_path, conf())

    async def go():
        r = rig_with_vips(("eth0", VIP1))  # VI_2's VIP is gone
        rt = await start(r, conf(), path)
        assert not rt.by_name["VI_1"].machine.resuming and not rt.by_name["VI_2"].machine.resuming
        assert not r.net.has("eth0", VIP1)
        await rt.stop()
    run(go())


def test_membership_change_is_a_changed_configuration(tmp_path):
    """VI_1 alone was MASTER outside any group; now in G1: not the instance that ran."""
    single = tmp_path / "vrrp.pid.state"

    async def first():
        r = Rig()
        rt = await start(r, conf(), tmp_path / "x.state", resume=False)
        return config_digest(rt.by_name["VI_1"].machine.params), config_digest(rt.by_name["VI_2"].machine.params)
    d1, d2 = run(first())
    single.write_text(json.dumps({"version": 1, "instances": {
        "VI_1": {"state": "MASTER", "config": d1}, "VI_2": {"state": "MASTER", "config": d2}}}))

    async def go():
        r = rig_with_vips()
        rt = await start(r, conf(), single)
        assert not rt.by_name["VI_1"].machine.resuming and not rt.by_name["VI_2"].machine.resuming
        await rt.stop()
    run(go())


def test_decide_group():
    yes, no = Decision(True, "ok"), Decision(False, "only 0 of 1 addresses found")
    assert decide_group("G", {"a": yes, "b": yes}).adopt
    d = decide_group("G", {"a": yes, "b": no, "c": no})
    assert not d.adopt and d.why == "sync group G: member b may not resume: only 0 of 1 addresses found (and 1 more)"
    assert not decide_group("G", {}).adopt
    assert group_key("G", ["b", "a"]) == "G:a,b"
