"""Restarts without a failover (issue 16), the vrrp child side, against recording fakes:
a child started with resume adopts a MASTER predecessor's VIPs and resumes as MASTER after
a short listen (advert at once, no address removal, no GARP, no notify); a foreign advert
heard, a changed configuration or a non-MASTER record fall back to keepalived's start
(leftovers removed, BACKUP); a quiet stop leaves everything and sends nothing."""

from __future__ import annotations

import json
from ipaddress import ip_interface

from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.adopt import StateFile, config_digest, decide
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.vrrpd.test_runtime import LOG, Rig, _advert, conf, run

VIP = "192.0.2.100"


class Notes:
    def __init__(self) -> None:
        self.seen = []

    def handle(self, act) -> None:
        self.seen.append((act.name, act.state))


async def start(r: Rig, config, path, resume: bool = True) -> VrrpRuntime:
    r.notes = Notes()
    r.rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                       vmac_sysctls=r.sysctls, notifier=r.notes, resume=resume, state_file=StateFile(path))
    await r.rt.start(config)
    await r.settle()
    return r.rt


def predecessor(tmp_path, config, state="MASTER", digest=None):
    """What a MASTER predecessor leaves: its state file (and the caller adds the VIP)."""
    async def go():
        r = Rig()
        rt = await start(r, config, tmp_path / "first.state", resume=False)
        return config_digest(rt.by_name["VI_1"].machine.params)
    d = run(go()) if digest is None else digest
    path = tmp_path / "vrrp.pid.state"
    path.write_text(json.dumps({"version": 1, "instances": {"VI_1": {"state": state, "config": d}}}))
    return path


def rig_with_vip() -> Rig:
    r = Rig()
    r.net.addrs["eth0"].append(ip_interface(f"{VIP}/24"))
    return r


def test_resumes_master_without_transition(tmp_path):
    path = predecessor(tmp_path, conf())

    async def go():
        r = rig_with_vip()
        rt = await start(r, conf(), path)
        m = rt.by_name["VI_1"].machine
        assert m.resuming and r.net.ops("remove_address") == [] and r.adverts() == []
        await r.advance(0.49)
        assert r.adverts() == []  # listening: nothing sent yet
        await r.advance(0.02)  # half of advert_int 1 s
        assert rt.state_of("VI_1") == State.MASTER and not m.resuming
        assert len(r.adverts()) == 1 and r.adverts()[0][1][2] == 100
        assert r.net.has("eth0", VIP) and r.net.ops("remove_address") == []
        assert r.sender.frames == [] and r.notes.seen == []  # no GARP burst, no notify
        await r.advance(1.0)
        assert len(r.adverts()) == 2
        rec = json.loads(path.read_text())["instances"]["VI_1"]
        assert rec["state"] == "MASTER"
        await rt.stop()
        assert r.adverts()[-1][1][2] == 0 and not r.net.has("eth0", VIP)  # a normal stop releases
        assert json.loads(path.read_text())["instances"]["VI_1"]["state"] == "STOP"
    run(go())


def test_foreign_advert_while_listening_falls_back(tmp_path):
    path = predecessor(tmp_path, conf())

    async def go():
        r = rig_with_vip()
        rt = await start(r, conf(), path)
        r.sock().inject(_advert(200))  # a live master of higher priority
        await r.settle()
        assert rt.state_of("VI_1") == State.BACKUP and not rt.by_name["VI_1"].machine.resuming
        assert not r.net.has("eth0", VIP)
        assert r.adverts() == []  # we never spoke: no priority 0 either
        assert ("VI_1", "BACKUP") in r.notes.seen
        await r.advance(2.0)
        assert rt.state_of("VI_1") == State.BACKUP
        await rt.stop()
    run(go())


def test_changed_config_falls_back(tmp_path):
    path = predecessor(tmp_path, conf(prio=100))

    async def go():
        r = rig_with_vip()
        rt = await start(r, conf(prio=120), path)
        assert not rt.by_name["VI_1"].machine.resuming
        assert rt.state_of("VI_1") == State.BACKUP
        assert not r.net.has("eth0", VIP)  # keepalived's start: leftovers removed
        await rt.stop()
    run(go())


def test_without_resume_the_leftovers_go(tmp_path):
    path = predecessor(tmp_path, conf())

    async def go():
        r = rig_with_vip()
        rt = await start(r, conf(), path, resume=False)
        assert rt.state_of("VI_1") == State.BACKUP and not r.net.has("eth0", VIP)
        await rt.stop()
    run(go())


def test_quiet_stop_leaves_everything(tmp_path):
    async def go():
        r = Rig()
        rt = await start(r, conf(prio=255), tmp_path / "s", resume=False)
        assert rt.state_of("VI_1") == State.MASTER
        sent = len(r.sock().sent)
        r.notes.seen.clear()
        s = r.sock()
        await rt.stop(quiet=True)
        assert len(s.sent) == sent and r.net.has("eth0", VIP)
        assert r.notes.seen == []
        assert json.loads((tmp_path / "s").read_text())["instances"]["VI_1"]["state"] == "MASTER"
    run(go())


def test_decide_rules():
    vips = frozenset({1, 2})
    ok = {"state": "MASTER", "config": "d"}
    kw = {"fault": False}
    assert decide(ok, "d", vips, vips, **kw).adopt
    assert not decide(ok, "e", vips, vips, **kw).adopt
    assert not decide({"state": "BACKUP", "config": "d"}, "d", vips, vips, **kw).adopt
    assert not decide(ok, "d", vips, frozenset({1}), **kw).adopt
    assert decide(None, "d", vips, vips, **kw).adopt
    assert not decide(None, "d", frozenset(), frozenset(), **kw).adopt
    assert decide(ok, "d", frozenset(), frozenset(), **kw).adopt
    # a sync group member: its record names the same group and members, or it changed
    assert decide({**ok, "group": "G:a,b"}, "d", vips, vips, fault=False, group="G:a,b").adopt
    assert not decide(ok, "d", vips, vips, fault=False, group="G:a,b").adopt
    assert not decide({**ok, "group": "G:a,b"}, "d", vips, vips, fault=False).adopt
    assert not decide({**ok, "group": "G:a"}, "d", vips, vips, fault=False, group="G:a,b").adopt
    assert not decide(ok, "d", vips, vips, fault=True).adopt


def test_state_file_roundtrip_and_garbage(tmp_path):
    sf = StateFile(tmp_path / "x.state")
    assert sf.load() == {}
    sf.write({"VI_1": {"state": "MASTER", "config": "d"}})
    assert sf.load() == {"VI_1": {"state": "MASTER", "config": "d"}}
    (tmp_path / "x.state").write_text("{not json")
    assert sf.load() == {}
    assert StateFile.beside("/run/vrrp.pid").path.name == "vrrp.pid.state"
