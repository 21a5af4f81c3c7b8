"""The check child's run(ctx): the backend option, start -> table, reload by difference, stop
-> our table removed (kept with -I), over the recording IPVS fake; real servers without
checkers, so nothing probes the network."""

from __future__ import annotations

import asyncio
import logging

import pytest

from keepalived_py.check import daemon
from keepalived_py.config.loader import load_text
from keepalived_py.core.context import ChildContext
from keepalived_py.core.options import parse_args
from keepalived_py.lvs.diff import AddDest
from tests.fakes.ipvs import FakeIpvs

CONF = """
virtual_server 192.0.2.1 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.51.100.10 80 {
    }
    %s
}
"""


def config(extra: str = ""):
    result = load_text(CONF % extra)
    assert not result.fatal
    return result.config


def test_lvs_backend_option():
    assert parse_args(["--lvs-backend=userspace"]).lvs_backend == "userspace"
    assert parse_args(["--lvs-backend", "kernel"]).lvs_backend == "kernel"
    assert parse_args([]).lvs_backend == "auto"
    bad = parse_args(["--lvs-backend=ebpf"])
    assert bad.bad and "ebpf" in bad.errors[0]


def test_make_port_honours_the_choice():
    from keepalived_py.lvs.kernel import NetlinkIpvs
    assert isinstance(daemon.make_port("kernel", print), NetlinkIpvs)
    port = daemon.make_port("userspace", print)
    assert not isinstance(port, NetlinkIpvs) and hasattr(port, "apply")


@pytest.mark.parametrize("dont_release", [False, True])
def test_run_start_reload_stop(monkeypatch, dont_release):
    port = FakeIpvs()
    monkeypatch.setattr(daemon, "make_port", lambda prefer, log: port)
    opts = parse_args(["-I"] if dont_release else [])

    async def main():
        ctx = ChildContext(role="check", options=opts, config=config(), log=logging.getLogger("t"),
                           pid_file="/nonexistent")
        task = asyncio.ensure_future(daemon.run(ctx))
        for _ in range(200):
            if len(port.table) == 1:
                break
            await asyncio.sleep(0)
        assert [str(d.key.address) for _s, ds in port.table for d in ds] == ["198.51.100.10"]
        n = len(port.ops())
        await ctx.apply_reload(config("real_server 198.51.100.11 80 {\n}"))
        new = port.ops()[n:]
        assert len(new) == 1 and isinstance(new[0], AddDest) and str(new[0].dest.key.address) == "198.51.100.11"
        data = await ctx.dump("data")
        assert data.startswith("------< LVS Topology >------\n") and " VS VIP = 192.0.2.1, VPORT = 80" in data
        assert "   RIP = 198.51.100.11, RPORT = 80, WEIGHT = 1 EFF WEIGHT = 1" in data
        snap = await ctx.dump("snapshot")
        assert snap["virtual_servers"][0]["destinations"] == [
            {"address": "198.51.100.10", "port": 80, "weight": 1}, {"address": "198.51.100.11", "port": 80, "weight": 1}]
        ctx.request_stop()
        assert await task == 0
        assert (len(port.table) == 1) is dont_release
    asyncio.run(main())
