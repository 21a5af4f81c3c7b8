"""The runtime against recording fakes: actions executed in order, packets dispatched by
VRID, timers on a fake clock, link events, stop/release, reload by key."""

from __future__ import annotations

import asyncio
import logging
from ipaddress import IPv4Address

from keepalived_py.clock import FakeClock
from keepalived_py.config import load_text
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.packet import VrrpAdvert, build_ipv4, encode, parse_ipv4
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.fakes.net import FakeNet, FakeOpener, FakeScheduler, FakeSender, FakeSysctls

LOG = logging.getLogger("test.vrrp_runtime")

CONF = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int 1
    virtual_ipaddress {{
        192.0.2.100/24 brd + label eth0:vip
    }}
{extra}
}}
"""


def conf(prio: int = 100, extra: str = "", more: str = ""):
    return load_text(CONF.format(prio=prio, extra=extra) + more).config


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.net = FakeNet()
        self.net.add_link("eth0", addrs=("192.0.2.1/24",))
        self.net.add_link("eth1", addrs=("198.51.100.1/24",))
        self.opener = FakeOpener()
        self.sender = FakeSender()
        self.sched = FakeScheduler(self.clock)
        self.sysctls = FakeSysctls()
        self.rt: VrrpRuntime | None = None

    async def start(self, config, release: bool = True) -> VrrpRuntime:
        self.rt = VrrpRuntime(self.net, self.clock, LOG, sender=self.sender, socket_opener=self.opener,
                              scheduler=self.sched, release_on_stop=release,
                              vmac_sysctls=self.sysctls)
        await self.rt.start(config)
        await self.settle()
        return self.rt

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        await self.rt._drain(1.0)
        for _ in range(5):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        self.sched.advance(seconds)
        await self.settle()

    def sock(self, ifname: str = "eth0"):
        return self.opener.by_if(ifname)

    def adverts(self, ifname: str = "eth0"):
        out = []
        for data, addr, _anc in self.sock(ifname).sent:
            info, payload = parse_ipv4(data)
            out.append((info, payload, addr))
        return out


def run(coro):
    return asyncio.run(coro)


def _advert(prio: int, vrid: int = 51, src: str = "192.0.2.2", ttl: int = 255) -> bytes:
    adv = VrrpAdvert(2, vrid, prio, 100, (IPv4Address("192.0.2.100"),), 0, b"\0" * 8)
    return build_ipv4(IPv4Address(src), IPv4Address("224.0.0.18"), encode(adv), ttl=ttl)


def test_backup_becomes_master_and_installs_vip_with_options():
    async def go():
        r = Rig()
        rt = await r.start(conf())
        assert rt.state_of("VI_1") == State.BACKUP
        # the leftover sweep ran before start; nothing added yet
        assert [c[0] for c in r.net.calls] == ["remove_address"]
        await r.advance(3.7)  # Master_Down_Interval 3.609 s
        assert rt.state_of("VI_1") == State.MASTER
        adds = r.net.ops("add_address")
        assert len(adds) == 1
        spec = adds[0][1]
        assert spec.ifname == "eth0" and spec.label == "eth0:vip" and str(spec.broadcast) == "192.0.2.255"
        assert r.net.has("eth0", "192.0.2.100")
        info, payload, addr = r.adverts()[0]
        assert info.ttl == 255 and str(info.dst) == "224.0.0.18" and str(info.src) == "192.0.2.1"
        assert payload[2] == 100 and addr == ("224.0.0.18", 0)
        # gratuitous ARPs from eth0's MAC, garp_master_repeat (5) of them at once
        assert len(r.sender.frames) == 5 and all(f[0] == "eth0" for f in r.sender.frames)
        await r.advance(1.0)
        assert len(r.adverts()) == 2
        await rt.stop()
    run(go())


def test_stop_sends_priority_zero_and_releases():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255))
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
        last = r.adverts()[-1][1]
        assert last[2] == 0
        assert not r.net.has("eth0", "192.0.2.100")
        assert r.net.ops("remove_address")[-1][1].address.ip == IPv4Address("192.0.2.100")
    run(go())


def test_dont_release_keeps_vips_and_sends_nothing():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255), release=False)
        sent = len(r.sock().sent)
        s = r.sock()
        await rt.stop()
        assert len(s.sent) == sent
        assert r.net.has("eth0", "192.0.2.100")
    run(go())


def test_packets_dispatched_by_vrid_and_counted():
    async def go():
        r = Rig()
        rt = await r.start(conf())
        s = r.sock()
        for _ in range(3):
            await r.advance(1.0)
            s.inject(_advert(200))  # a live higher priority master
            await r.settle()
        assert rt.state_of("VI_1") == State.BACKUP
        await r.advance(2.0)
        assert rt.state_of("VI_1") == State.BACKUP  # timer restarted by each advert
        s.inject(_advert(200, vrid=99))
        s.inject(b"\x45\x00")
        s.inject(_advert(200, ttl=64))
        await r.settle()
        assert rt.counters.rx_unknown_vrid == 1 and rt.counters.rx_too_short == 1
        stats = rt.by_name["VI_1"].machine.stats
        assert stats.advert_rcvd == 3 and stats.ip_ttl_err == 1
        await rt.stop()
    run(go())


def test_interface_down_faults_and_recovers():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255))
        assert rt.state_of("VI_1") == State.MASTER
        r.net.set_link("eth0", False)
        await r.settle()
        assert rt.state_of("VI_1") == State.FAULT
        assert not r.net.has("eth0", "192.0.2.100")
        r.net.set_link("eth0", True)
        await r.settle()
        assert rt.state_of("VI_1") == State.MASTER
        assert r.net.has("eth0", "192.0.2.100")
        await rt.stop()
    run(go())


def test_track_interface_weight():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=150, extra="    track_interface {\n        eth1 weight -60\n    }"))
        m = rt.by_name["VI_1"].machine
        assert m.effective_priority == 150
        r.net.set_link("eth1", False)
        await r.settle()
        assert m.effective_priority == 90 and m.state == State.BACKUP
        r.net.set_link("eth1", True)
        await r.settle()
        assert m.effective_priority == 150
        await rt.stop()
    run(go())


def test_interface_down_at_start_is_fault():
    async def go():
        r = Rig()
        r.net.set_link("eth0", False)
        rt = await r.start(conf())
        assert rt.state_of("VI_1") == State.FAULT
        await rt.stop()
    run(go())


def test_reload_keeps_unchanged_removes_and_adds():
    async def go():
        r = Rig()
        two = conf(prio=255, more=CONF.format(prio=255, extra="").replace("VI_1", "VI_2")
                   .replace("51", "52").replace("192.0.2.100", "192.0.2.101"))
        rt = await r.start(two)
        assert rt.state_of("VI_1") == rt.state_of("VI_2") == State.MASTER
        s = r.sock()
        before = len(s.sent)
        r.net.calls.clear()
        # VI_2 removed, VI_3 added, VI_1 unchanged
        new = conf(prio=255, more=CONF.format(prio=255, extra="").replace("VI_1", "VI_3")
                   .replace("51", "53").replace("192.0.2.100", "192.0.2.103"))
        await rt.reload(new)
        await r.settle()
        assert set(rt.by_name) == {"VI_1", "VI_3"}
        assert rt.state_of("VI_1") == State.MASTER and rt.state_of("VI_3") == State.MASTER
        touched = {str(c[1].address.ip) for c in r.net.calls if c[0] in ("add_address", "remove_address")}
        assert "192.0.2.100" not in touched
        assert r.net.has("eth0", "192.0.2.100") and r.net.has("eth0", "192.0.2.103")
        assert not r.net.has("eth0", "192.0.2.101")
        prios = [(p[1], p[2]) for _i, p, _a in r.adverts()[before:]]
        assert (52, 0) in prios  # the removed instance said goodbye
        assert s is r.sock()  # the shared socket stayed
        await rt.stop()
    run(go())


def test_routes_and_rules_follow_master():
    async def go():
        r = Rig()
        extra = ("    virtual_routes {\n        198.51.100.0/24 via 192.0.2.254 dev eth0\n    }\n"
                 "    virtual_rules {\n        from 192.0.2.100 table 100 priority 10\n    }")
        rt = await r.start(conf(prio=255, extra=extra))
        assert len(r.net.routes) == 1 and len(r.net.rules) == 1
        await rt.stop()
        assert r.net.routes == [] and r.net.rules == []
    run(go())


def test_static_entries_added_and_removed():
    async def go():
        r = Rig()
        cfg = conf(more="static_ipaddress {\n    203.0.113.1/24 dev eth1\n}\n")
        rt = await r.start(cfg)
        assert r.net.has("eth1", "203.0.113.1")
        await rt.stop()
        assert not r.net.has("eth1", "203.0.113.1")
    run(go())


def test_use_vmac_creates_macvlan_and_removes_it():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255, extra="    use_vmac"))
        assert ("add_macvlan", ("vrrp.51", "eth0", bytes.fromhex("00005e000133"), "private")) in r.net.calls
        assert r.net.has("vrrp.51", "192.0.2.100")
        assert r.sock("vrrp.51").sent, "adverts go out on the VMAC interface"
        mac = r.sender.frames[0][1][6:12]
        assert mac == bytes.fromhex("00005e000133")
        await rt.stop()
        assert ("delete_link", "vrrp.51") in r.net.calls
        assert r.sysctls.calls == [("apply", "vrrp.51", "eth0"), ("release", "eth0", None)]
    run(go())


def test_unicast_sends_to_each_peer():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255, extra="    unicast_src_ip 192.0.2.1\n"
                                "    unicast_peer {\n        192.0.2.2\n        192.0.2.3\n    }"))
        dsts = [str(i.dst) for i, _p, _a in r.adverts()]
        assert dsts[:2] == ["192.0.2.2", "192.0.2.3"]
        # no multicast membership for a unicast instance
        assert not any(opt[1] == 35 for opt in r.sock().options)  # IP_ADD_MEMBERSHIP
        await rt.stop()
    run(go())


def test_dumps_views():
    from keepalived_py.observe.vrrp import data_text, json_data, stats_text

    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255))
        snaps = rt.snapshots()
        assert "VRRP Instance: VI_1" in stats_text(snaps) and "    Sent: 1" in stats_text(snaps)
        data = data_text(snaps, rt.wall_offset())
        assert " VRRP Instance = VI_1" in data and "   State = MASTER" in data
        j = json_data(snaps, rt.wall_offset())
        assert j[0]["data"]["iname"] == "VI_1" and j[0]["data"]["state"] == 2
        assert j[0]["stats"]["advert_sent"] == 1
        await rt.stop()
    run(go())


def test_reload_changed_master_stays_master():
    async def go():
        r = Rig()
        extra = "    virtual_ipaddress_excluded {\n        198.51.100.50/32\n    }"
        rt = await r.start(conf(prio=200, extra=extra))
        await r.advance(3.7)
        assert rt.state_of("VI_1") == State.MASTER
        assert r.net.has("eth0", "198.51.100.50")
        r.net.calls.clear()
        before = len(r.adverts())
        await rt.reload(conf(prio=180))  # priority changed, excluded address dropped
        await r.settle()
        assert rt.state_of("VI_1") == State.MASTER
        assert r.net.has("eth0", "192.0.2.100") and not r.net.has("eth0", "198.51.100.50")
        removed = [str(c[1].address.ip) for c in r.net.calls if c[0] == "remove_address"]
        assert removed == ["198.51.100.50"]
        assert all(p[2] != 0 for _i, p, _a in r.adverts()[before:]), "no goodbye on reload"
        assert rt.by_name["VI_1"].machine.effective_priority == 180
        await rt.stop()
    run(go())


def test_sync_group_fault_pulls_members():
    async def go():
        r = Rig()
        text = (CONF.format(prio=255, extra="") +
                CONF.format(prio=255, extra="").replace("VI_1", "VI_2").replace("eth0", "eth1")
                .replace("192.0.2.100", "198.51.100.100") +
                "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n")
        rt = await r.start(load_text(text).config)
        assert rt.state_of("VI_1") == rt.state_of("VI_2") == State.MASTER
        r.net.set_link("eth1", False)
        await r.settle()
        assert rt.state_of("VI_2") == State.FAULT and rt.state_of("VI_1") == State.FAULT
        assert not r.net.has("eth0", "192.0.2.100")
        r.net.set_link("eth1", True)
        await r.settle()
        await r.advance(4.0)
        assert rt.state_of("VI_1") == rt.state_of("VI_2") == State.MASTER
        assert r.net.has("eth0", "192.0.2.100") and r.net.has("eth1", "198.51.100.100")
        await rt.stop()
    run(go())


def test_startup_delay_and_mcast_src_ip():
    async def go():
        r = Rig()
        r.net.addrs["eth0"].append(__import__("ipaddress").ip_interface("192.0.2.9/24"))
        cfg = load_text("global_defs {\n    vrrp_startup_delay 2\n}\n"
                        + CONF.format(prio=255, extra="    mcast_src_ip 192.0.2.9")).config
        rt = await r.start(cfg)
        assert rt.state_of("VI_1") == State.INIT
        await r.advance(2.0)
        assert rt.state_of("VI_1") == State.MASTER
        assert str(r.adverts()[0][0].src) == "192.0.2.9"
        await rt.stop()
    run(go())


def test_recreated_interface_reopens_sockets():
    async def go():
        from keepalived_py.net.ports import LinkEvent

        r = Rig()
        rt = await r.start(conf(prio=255))
        old = r.sock()
        rt.on_link_event(LinkEvent("eth0", 1, False, deleted=True))
        assert rt.state_of("VI_1") == State.FAULT
        rt.on_link_event(LinkEvent("eth0", 77, True))
        await r.settle()
        new = r.sock()
        assert new is not old and old.closed and new.ifindex == 77
        assert rt.by_name["VI_1"].rx.sock is new
        assert rt.state_of("VI_1") == State.MASTER
        assert new.sent, "adverts go out on the new socket"
        await rt.stop()
    run(go())


def test_unicast_fault_no_peer():
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255, extra="    unicast_fault_no_peer\n    unicast_src_ip 192.0.2.1"))
        assert rt.state_of("VI_1") == State.FAULT
        assert not r.net.has("eth0", "192.0.2.100")
        await rt.stop()
    run(go())


def test_leftover_vip_is_not_the_source():
    async def go():
        r = Rig()
        r.net.addrs["eth0"].insert(0, __import__("ipaddress").ip_interface("192.0.2.100/24"))
        rt = await r.start(conf(prio=255))
        assert str(rt.by_name["VI_1"].machine.params.primary_address) == "192.0.2.1"
        assert str(r.adverts()[0][0].src) == "192.0.2.1"
        await rt.stop()
    run(go())
