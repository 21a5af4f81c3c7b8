"""The runtime drives the no_accept / vrrp_strict filter (net/nft.py's NftFirewall API) in
keepalived's order: set before a MASTER's VIPs are added, removed after they go; adopted at
start, re-read at reload, deleted at stop (with -V too); STOP notifies with -V."""

from __future__ import annotations

import asyncio
import logging

from keepalived_py.config import load_text
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.fakes.clock import FakeClock
from tests.fakes.net import FakeNet, FakeOpener, FakeScheduler, FakeSender, FakeSysctls

LOG = logging.getLogger("test.vrrp_firewall")

CONF = """
global_defs {{
{glob}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int 1
{extra}
    virtual_ipaddress {{
        192.0.2.100/24
{more}    }}
}}
"""


def conf(prio: int = 100, extra: str = "    no_accept", glob: str = "", more: str = ""):
    return load_text(CONF.format(prio=prio, extra=extra, glob=glob, more=more)).config


class FakeFirewall:
    """NftFirewall's API, each call recorded in the FakeNet's call list (one timeline)."""

    def __init__(self, calls: list) -> None:
        self.calls = calls
        self.notes: list[str] = []

    def start(self, config) -> None:
        self.calls.append(("fw_start", None))

    def reload(self, config) -> None:
        self.calls.append(("fw_reload", None))
        self.notes.append("Cannot change nftables table name at a reload - please restart keepalived")

    def instance_state(self, name: str, state: str) -> None:
        self.calls.append(("fw_state", (name, state)))

    def stop(self) -> None:
        self.calls.append(("fw_stop", None))


class Notes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def handle(self, act) -> None:
        self.seen.append((act.kind, act.name, act.state))


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.net = FakeNet()
        self.net.add_link("eth0", addrs=("192.0.2.1/24",))
        self.sched = FakeScheduler(self.clock)
        self.made = 0
        self.notes = Notes()

    def factory(self) -> FakeFirewall:
        self.made += 1
        return FakeFirewall(self.net.calls)

    async def start(self, config, release: bool = True) -> VrrpRuntime:
        self.rt = VrrpRuntime(self.net, self.clock, LOG, sender=FakeSender(), socket_opener=FakeOpener(),
                              scheduler=self.sched, release_on_stop=release, vmac_sysctls=FakeSysctls(),
                              firewall_factory=self.factory, notifier=self.notes, log_detail=True)
        await self.rt.start(config)
        await self.settle()
        return self.rt

    async def settle(self) -> None:
        for _ in range(3):
            for _ in range(5):
                await asyncio.sleep(0)
            await self.rt._drain(1.0)

    async def advance(self, seconds: float) -> None:
        self.sched.advance(seconds)
        await self.settle()

    def timeline(self) -> list[tuple[str, object]]:
        return [(c[0], c[1] if c[0].startswith("fw") else str(c[1].address.ip))
                for c in self.net.calls if c[0].startswith("fw") or c[0] in ("add_address", "remove_address")]


def run(coro):
    return asyncio.run(coro)


def test_master_filters_before_vips_and_unfilters_after(caplog):
    async def go():
        r = Rig()
        rt = await r.start(conf())
        # adopt first, then the leftover sweep, then the first state clears stale elements
        assert r.timeline() == [("fw_start", None), ("remove_address", "192.0.2.100"),
                                ("fw_state", ("VI_1", "BACKUP"))]
        await r.advance(3.7)
        assert rt.state_of("VI_1") == State.MASTER
        assert r.timeline()[3:] == [("fw_state", ("VI_1", "MASTER")), ("add_address", "192.0.2.100")]
        await rt.stop()
        assert r.timeline()[5:] == [("remove_address", "192.0.2.100"), ("fw_state", ("VI_1", "STOP")),
                                    ("fw_stop", None)]
        assert r.made == 1
    with caplog.at_level(logging.INFO, logger=LOG.name):
        run(go())
    lines = [m for m in caplog.messages if "firewall drop rule" in m]
    assert lines == ["(VI_1) setting firewall drop rule", "(VI_1) removing firewall drop rule"]


def test_accepting_config_makes_no_filter():
    async def go():
        r = Rig()
        rt = await r.start(conf(extra=""))
        await r.advance(3.7)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
        assert r.made == 0 and not [c for c in r.net.calls if c[0].startswith("fw")]
    run(go())


def test_no_accept_owner_gets_the_table_but_no_drop_line(caplog):
    async def go():
        r = Rig()
        rt = await r.start(conf(prio=255))
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
        assert r.made == 1 and ("fw_stop", None) in r.timeline()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        run(go())
    assert not [m for m in caplog.messages if "firewall drop rule" in m]


def test_reload_rereads_and_logs_the_filter_notes(caplog):
    async def go():
        r = Rig()
        rt = await r.start(conf())
        await r.advance(3.7)
        await rt.reload(conf(more="        192.0.2.101/24\n"))
        await r.settle()
        assert ("fw_reload", None) in r.timeline()
        await rt.stop()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        run(go())
    assert "Cannot change nftables table name at a reload - please restart keepalived" in caplog.messages


def test_filter_first_needed_at_reload_hears_the_current_masters():
    async def go():
        r = Rig()
        rt = await r.start(conf(extra=""))
        await r.advance(3.7)
        assert r.made == 0
        await rt.reload(conf(extra="", glob="    nftables"))
        await r.settle()
        assert r.timeline()[-2:] == [("fw_start", None), ("fw_state", ("VI_1", "MASTER"))]
        await rt.stop()
    run(go())


def test_dont_release_keeps_vips_but_runs_stop_notifies_and_drops_the_table():
    async def go():
        r = Rig()
        rt = await r.start(conf(), release=False)
        await r.advance(3.7)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
        assert r.net.has("eth0", "192.0.2.100")
        assert r.notes.seen[-1] == ("INSTANCE", "VI_1", "STOP")
        assert r.timeline()[-2:] == [("fw_state", ("VI_1", "STOP")), ("fw_stop", None)]
    run(go())


def test_unavailable_nftables_is_one_error_line(caplog):
    async def go():
        r = Rig()

        def broken():
            raise OSError("libnftables.so.1: cannot open shared object file")
        r.factory = broken  # type: ignore[method-assign]
        rt = await r.start(conf())
        await r.advance(3.7)
        assert rt.state_of("VI_1") == State.MASTER and r.net.has("eth0", "192.0.2.100")
        await rt.reload(conf())
        await rt.stop()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        run(go())
    assert len([m for m in caplog.messages if "nftables unavailable" in m]) == 1


TWO = """
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    no_accept
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""
SECOND = """
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
%s
    virtual_ipaddress {
        192.0.2.101/24
    }
}
"""


def test_instance_removed_at_reload_notifies_deleted_not_stop():
    """vrrp.c clear_diff_vrrp(): DELETED (the notifier turns it into FAULT for scripts
    without notify_deleted); its filter elements go after its VIPs."""
    async def go():
        r = Rig()
        rt = await r.start(load_text(TWO + SECOND % "").config)
        await r.advance(3.7)
        assert rt.state_of("VI_2") == State.MASTER
        await rt.reload(load_text(TWO).config)
        await r.settle()
        assert ("INSTANCE", "VI_2", "DELETED") in r.notes.seen
        assert ("INSTANCE", "VI_2", "STOP") not in r.notes.seen
        tl = r.timeline()
        assert tl.index(("remove_address", "192.0.2.101")) < tl.index(("fw_state", ("VI_2", "DELETED")))
        await rt.stop()
    run(go())


def test_instance_in_fault_removed_says_nothing_without_notify_deleted():
    async def go():
        for extra, expect in (("", False), ("    notify_deleted", True)):
            r = Rig()
            r.net.add_link("eth9", up=False)
            cfg = TWO + SECOND % f"    track_interface {{\n        eth9\n    }}\n{extra}"
            rt = await r.start(load_text(cfg).config)
            assert rt.state_of("VI_2") == State.FAULT
            await rt.reload(load_text(TWO).config)
            await r.settle()
            assert (("INSTANCE", "VI_2", "DELETED") in r.notes.seen) == expect
            assert ("INSTANCE", "VI_2", "STOP") not in r.notes.seen
            await rt.stop()
    run(go())
