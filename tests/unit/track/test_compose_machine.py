"""Our trackers and notifier composed with the VRRP state machine on the in-memory LAN:
a vrrp_script (its runs faked, on a fake clock) starts failing on the master, its TrackingChanged lowers the priority,
the backup takes the VIP over, and the Notifier turns the machines' RunNotify actions into
keepalived's FIFO lines (the daemon-level test needs the network runtime)."""

from __future__ import annotations

import asyncio
import os
from ipaddress import ip_address
from pathlib import Path

from keepalived_py.config import load_text
from keepalived_py.track.notify import Notifier
from keepalived_py.track.trackers import Trackers
from keepalived_py.vrrp.actions import RunNotify
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.tracking import TrackedObject
from tests.fakes.clock import FakeClock, FakeScheduler, run_for
from tests.fakes.scripts import FakeRunner
from tests.unit.track.helpers import Events, config
from tests.unit.vrrp.lan import Lan

T0 = 1000.0
VIP = ip_address("192.0.2.100")


def params(prio: int, host: int) -> VrrpInstanceParams:
    return VrrpInstanceParams(name="VI_1", interface="eth0", vrid=51, priority=prio, version=2,
                              primary_address=ip_address(f"192.0.2.{host}"), virtual_ipaddress=(VIP,))


def test_failing_script_moves_the_vip(tmp_path: Path):
    cfg = config('vrrp_script chk {\n script "/kpy/chk.sh"\n weight -60\n}\n', "track_script {\n chk\n }")
    status = [0]

    async def collect() -> Events:
        ev = Events()
        sched = FakeScheduler(FakeClock(T0))
        tr = Trackers(FakeRunner(sched.clock, lambda run: status[0]), clock=sched.clock, scheduler=sched)
        await tr.start(cfg, ev)
        await run_for(sched, 0)
        assert ev.of("script", "chk") == [True]
        status[0] = 1
        await run_for(sched, 1)
        assert ev.of("script", "chk") == [True, False]
        await tr.stop()
        return ev

    events = asyncio.run(collect())

    lan = Lan(T0)
    lan.add("a", params(150, 1), tracked=(TrackedObject("script", "chk", -60, initially_ok=None),))
    lan.add("b", params(100, 2))
    lan.start("a")
    lan.start("b")
    lan.deliver("a", "VI_1", events[0])
    lan.run_until(T0 + 10)
    assert lan.masters() == ["a"] and lan.routers["a"].vips == {VIP}
    lan.deliver("a", "VI_1", events[1])
    assert lan.instance("a").effective_priority == 90
    lan.run_until(lan.now + 10)
    assert lan.masters() == ["b"] and lan.routers["b"].vips == {VIP} and not lan.routers["a"].vips

    # the notifications of router a, through our Notifier, in order
    fifo = tmp_path / "fifo"
    ncfg = load_text(f"global_defs {{\n vrrp_notify_fifo {fifo}\n}}\n").config

    async def notify() -> list[str]:
        n = Notifier()
        await n.start(ncfg)
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        for _, a in lan.actions_of("a", RunNotify):
            n.handle(a)
        await n.drain()
        data = os.read(rfd, 65536).decode().splitlines()
        os.close(rfd)
        await n.stop()
        return data

    lines = asyncio.run(notify())
    assert lines[0] == 'INSTANCE "VI_1" BACKUP 150'
    assert 'INSTANCE "VI_1" MASTER 150' in lines
    assert lines[-1] == 'INSTANCE "VI_1" BACKUP 90'
