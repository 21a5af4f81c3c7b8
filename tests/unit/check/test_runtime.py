"""The check child's runtime over the recording IPVS fake, with a fake clock and fake probes:
checker results -> pool -> LiveState -> desired table -> diff -> port. A real server going
down leaves the table (or gets weight 0 with inhibit_on_failure) and comes back; quorum lost
brings the sorry server; a reload changes the table by difference only; stop removes ours
(not with -I, not foreign entries); a respawned runtime adopts the table it finds."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress

import pytest

from keepalived_py.check.result import Result, Status
from keepalived_py.check.runtime import CheckRuntime, live_state
from keepalived_py.clock import FakeClock
from keepalived_py.config.loader import load_text
from keepalived_py.lvs import plan
from keepalived_py.lvs.diff import AddDest, DelDest, SetDest
from keepalived_py.lvs.table import Destination, DestKey, Service, ServiceKey, Table
from tests.fakes.ipvs import FakeIpvs

BASE = """
global_defs {{
    router_id rt
}}
virtual_server 192.0.2.1 80 {{
    delay_loop 5
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    quorum {quorum}
    {sorry}
    real_server 198.51.100.10 80 {{
        weight 3
        {inhibit}
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            warmup 0
        }}
    }}
    real_server 198.51.100.11 80 {{
        weight 2
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            warmup 0
        }}
    }}
    {extra}
}}
"""


def conf(quorum: int = 1, sorry: str = "", inhibit: str = "", extra: str = "", text: str | None = None):
    result = load_text(text if text is not None else BASE.format(quorum=quorum, sorry=sorry, inhibit=inhibit,
                                                                   extra=extra))
    assert not result.fatal, result.diagnostics
    return result.config


class Probes:
    """probe_for(kind) whose probes answer from `up` by address."""

    def __init__(self) -> None:
        self.up: dict[str, bool] = {}

    def __call__(self, kind):
        async def probe(target, params) -> Result:
            ok = self.up.get(target.address, True)
            return Result(Status.OK if ok else Status.FAILED, "" if ok else "connection refused")
        return probe


class Harness:
    def __init__(self, port: FakeIpvs | None = None, dont_release: bool = False) -> None:
        self.clock = FakeClock()
        self.port = port or FakeIpvs()
        self.lines: list[str] = []
        self.probes = Probes()
        self.rt = CheckRuntime(self.port, self.clock, self.lines.append, probe_for=self.probes,
                               rand=lambda: 0.0, dont_release=dont_release, run_checkers=False)

    async def step(self, seconds: float) -> None:
        """Advance the fake clock, run what is due to the end, reconcile."""
        self.clock.advance(seconds)
        sched = self.rt.scheduler
        assert sched is not None
        sched.tick()
        await sched.settle()
        await self.rt.sync()

    def dests(self) -> dict[str, int]:
        out = {}
        for _svc, ds in self.port.table:
            for d in ds:
                out[f"{d.key.address}:{d.key.port}"] = d.weight
        return out


def run(coro):
    return asyncio.run(coro)


def test_start_programs_the_table_and_a_failure_removes_then_restores():
    async def main():
        h = Harness()
        await h.rt.start(conf())
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        assert "Initializing ipvs" in h.lines
        await h.step(1.0)          # first checks pass: nothing changes
        before = len(h.port.ops())
        assert before == 3         # one service, two destinations
        h.probes.up["198.51.100.11"] = False
        await h.step(5.0)
        assert h.dests() == {"198.51.100.10:80": 3}
        assert h.port.ops()[before:] == [DelDest(next(iter(h.port.table.services)),
                                                 DestKey(ipaddress.ip_address("198.51.100.11"), 80))]
        assert any("Removing service [198.51.100.11]:tcp:80 from VS [192.0.2.1]:tcp:80" in li for li in h.lines)
        h.probes.up["198.51.100.11"] = True
        await h.step(5.0)
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        assert isinstance(h.port.ops()[-1], AddDest)
        await h.rt.stop()
        assert h.port.table == Table()
    run(main())


def test_inhibit_on_failure_sets_weight_zero_in_place():
    async def main():
        h = Harness()
        await h.rt.start(conf(inhibit="inhibit_on_failure"))
        await h.step(1.0)
        n = len(h.port.ops())
        h.probes.up["198.51.100.10"] = False
        await h.step(5.0)
        assert h.dests() == {"198.51.100.10:80": 0, "198.51.100.11:80": 2}
        new = h.port.ops()[n:]
        assert len(new) == 1 and isinstance(new[0], SetDest) and new[0].dest.weight == 0
        h.probes.up["198.51.100.10"] = True
        await h.step(5.0)
        assert h.dests()["198.51.100.10:80"] == 3
        await h.rt.stop()
    run(main())


def test_quorum_lost_brings_the_sorry_server_and_quorum_scripts_run():
    async def main():
        h = Harness()
        await h.rt.start(conf(quorum=4, sorry="sorry_server 203.0.113.9 8080"))
        await h.step(1.0)
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        h.probes.up["198.51.100.10"] = False
        await h.step(5.0)
        assert h.dests() == {"203.0.113.9:8080": 1}
        assert any(li.startswith("Lost quorum") for li in h.lines), h.lines
        h.probes.up["198.51.100.10"] = True
        await h.step(5.0)
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        assert any(li.startswith("Gained quorum") for li in h.lines)
        await h.rt.stop()
    run(main())


def test_the_plan_agrees_with_the_pool():
    """The desired table built from LiveState lists exactly the pool's destinations."""
    async def main():
        h = Harness()
        cfg = conf(quorum=4, sorry="sorry_server 203.0.113.9 8080", inhibit="inhibit_on_failure")
        await h.rt.start(cfg)
        for down in ({}, {"198.51.100.10": False}, {"198.51.100.11": False},
                     {"198.51.100.10": False, "198.51.100.11": False}, {}):
            h.probes.up = dict(down)
            await h.step(5.0)
            pool = h.rt.pool.destinations(cfg.virtual_server[0].key)
            table = plan.desired_table(cfg, live_state(cfg, h.rt.pool))
            got = {(str(d.key.address), d.key.port): d.weight for _s, ds in table for d in ds}
            assert got == pool
            assert h.dests() == {f"{a}:{p}": w for (a, p), w in pool.items()}
        await h.rt.stop()
    run(main())


def test_reload_keeps_unchanged_entries_untouched():
    async def main():
        h = Harness()
        await h.rt.start(conf())
        await h.step(1.0)
        svc = next(iter(h.port.table.services))
        n = len(h.port.ops())
        new = conf(extra="real_server 198.51.100.12 80 {\n weight 5\n }")
        await h.rt.reload(new)
        ops = h.port.ops()[n:]
        assert len(ops) == 1 and isinstance(ops[0], AddDest) and ops[0].service == svc
        assert ops[0].dest.key == DestKey(ipaddress.ip_address("198.51.100.12"), 80) and ops[0].dest.weight == 5
        # and back: only the removed server goes
        n = len(h.port.ops())
        await h.rt.reload(conf())
        ops = h.port.ops()[n:]
        assert len(ops) == 1 and isinstance(ops[0], DelDest) and str(ops[0].key.address) == "198.51.100.12"
        assert h.dests() == {"198.51.100.10:80": 3, "198.51.100.11:80": 2}
        await h.rt.stop()
    run(main())


def test_reload_that_raises_keeps_the_running_table(monkeypatch):
    async def main():
        h = Harness()
        await h.rt.start(conf())
        before = h.port.table
        n = len(h.port.ops())

        def broken(_config):
            raise ValueError("broken")
        monkeypatch.setattr(h.rt, "_build", broken)
        with pytest.raises(ValueError):
            await h.rt.reload(conf(extra="real_server 198.51.100.12 80 {\n}"))
        assert h.port.table == before and len(h.port.ops()) == n
        await h.rt.stop()
    run(main())


def _foreign() -> tuple[Service, Destination]:
    svc = Service(ServiceKey(4, 6, ipaddress.ip_address("192.0.2.50"), 443), "rr")
    return svc, Destination(DestKey(ipaddress.ip_address("198.51.100.50"), 443), 0, 1)


def test_stop_removes_ours_only_and_dont_release_keeps_everything():
    async def main():
        svc, d = _foreign()
        h = Harness(FakeIpvs(Table.build([(svc, [d])])))
        await h.rt.start(conf())
        assert len(h.port.table) == 2
        await h.rt.stop()
        assert h.port.table == Table.build([(svc, [d])]) and h.port.closed

        h2 = Harness(dont_release=True)
        await h2.rt.start(conf())
        kept = h2.port.table
        await h2.rt.stop()
        assert h2.port.table == kept and len(kept) == 1
    run(main())


def test_a_respawned_runtime_adopts_the_table_it_finds():
    """A predecessor left its table (killed: no stop). The new one, on the same configuration,
    changes nothing that is still right, corrects what differs in place, removes what it does
    not want yet (an alpha server not checked again), leaves foreign entries, never flushes."""
    async def main():
        alpha = "real_server 198.51.100.12 80 {\n TCP_CHECK {\n alpha\n retry 0\n warmup 0\n }\n }"
        cfg = conf(extra=alpha)
        first = Harness()
        await first.rt.start(cfg)
        assert "198.51.100.12:80" not in first.dests()
        await first.step(1.0)
        assert first.dests()["198.51.100.12:80"] == 1
        svc_key = next(iter(first.port.table.services))
        left = first.port.table
        fsvc, fdest = _foreign()
        tampered = [(s, [dataclasses.replace(d, weight=9) if str(d.key.address) == "198.51.100.11" else d
                         for d in ds]) for s, ds in left] + [(fsvc, [fdest])]
        port = FakeIpvs(Table.build(tampered))
        second = Harness(port)
        await second.rt.start(cfg)
        assert ("flush",) not in port.calls
        ops = port.ops()
        assert len(ops) == 2
        assert isinstance(ops[0], SetDest) and ops[0].service == svc_key and ops[0].dest.weight == 2
        assert isinstance(ops[1], DelDest) and str(ops[1].key.address) == "198.51.100.12"
        assert fsvc.key in port.table.services
        await second.rt.stop()
        assert list(port.table.services) == [fsvc.key]
    run(main())


def test_notify_scripts_and_fifo_lines(tmp_path):
    async def main():
        fifo = tmp_path / "lvs.fifo"
        up, down = tmp_path / "up.sh", tmp_path / "down.sh"
        for p in (up, down):
            p.write_text(f"#!/bin/sh\necho {p.name} >> {tmp_path}/ran\n")
            p.chmod(0o755)
        text = BASE.format(quorum=1, sorry="", inhibit=f"notify_up {up}\n notify_down {down}", extra="")
        text = text.replace("router_id rt", f"router_id rt\n    lvs_notify_fifo {fifo}")
        h = Harness()
        await h.rt.start(conf(text=text))
        reader = open(fifo, "rb", buffering=0)  # noqa: SIM115 - read below
        import os
        os.set_blocking(reader.fileno(), False)
        h.probes.up["198.51.100.10"] = False
        await h.step(5.0)
        await h.rt.notifier.drain()
        h.probes.up["198.51.100.10"] = True
        await h.step(5.0)
        await h.rt.notifier.drain()
        data = reader.read() or b""
        assert b"RS [198.51.100.10]:tcp:80 [192.0.2.1]:tcp:80 DOWN\n" in data
        assert b"RS [198.51.100.10]:tcp:80 [192.0.2.1]:tcp:80 UP\n" in data
        assert [a[-1] for a in h.rt.notifier.started] == [str(down), str(up)]
        reader.close()
        await h.rt.stop()
    run(main())
