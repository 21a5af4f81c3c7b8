"""The check child's answers to the parent's view requests, through its dump hook as the
ipc layer calls it: "snapshot" (check_view, with the IPVS counters of a backend that keeps
them) and "preview:PATH" (the IPVS part of a reload preview, then the reload itself does
what it said). Recording IPVS fake, real servers without checkers: nothing probes."""

from __future__ import annotations

import asyncio
import logging

from keepalived_py.check import daemon
from keepalived_py.config.loader import load_text
from keepalived_py.core.context import ChildContext
from keepalived_py.core.options import parse_args
from keepalived_py.lvs.userspace.balancer import Counters, DestStats, ServiceStats
from tests.fakes.ipvs import FakeIpvs
from tests.unit.check.test_daemon import CONF, config


class CountingIpvs(FakeIpvs):
    """The fake with per-destination counters, as the userspace backend keeps them."""

    def stats(self):
        return [ServiceStats(svc.key, Counters(conns=7), tuple(DestStats(d.key, 1, 0, 0, Counters(conns=7))
                                                               for d in ds)) for svc, ds in self.table]


def test_snapshot_and_preview_through_the_dump_hook(monkeypatch, tmp_path):
    port = CountingIpvs()
    monkeypatch.setattr(daemon, "make_port", lambda prefer, log: port)
    new_conf = tmp_path / "new.conf"
    new_conf.write_text(CONF.replace("real_server 198.51.100.10 80 {\n    }",
                                     "real_server 198.51.100.10 80 {\n        weight 4\n    }") % (
        "real_server 198.51.100.12 80 {\n}"))

    async def main():
        ctx = ChildContext(role="check", options=parse_args([]), config=config(), log=logging.getLogger("t"),
                           pid_file="/nonexistent")
        task = asyncio.ensure_future(daemon.run(ctx))
        for _ in range(200):
            if len(port.table) == 1:
                break
            await asyncio.sleep(0)
        snap = await ctx.dump("snapshot")
        preview = await ctx.dump(f"preview:{new_conf}")
        n = len(port.ops())
        await ctx.apply_reload(load_text(new_conf.read_text()).config)
        done = port.ops()[n:]
        ctx.request_stop()
        assert await task == 0
        return snap, preview, done
    snap, preview, done = asyncio.run(main())
    vs = snap["virtual_servers"][0]
    assert vs["real_servers"][0]["name"] == "[198.51.100.10]:tcp:80" and vs["real_servers"][0]["alive"]
    assert snap["ipvs"][0]["service"] == "TCP 192.0.2.1:80" and snap["ipvs"][0]["conns"] == 7
    assert snap["ipvs"][0]["destinations"][0]["destination"] == "198.51.100.10:80"
    assert preview["destinations_added"] == ["TCP 192.0.2.1:80 -> 198.51.100.12:80 weight 1"]
    assert preview["destinations_reweighted"] == ["TCP 192.0.2.1:80 -> 198.51.100.10:80 weight 1 -> 4"]
    # what the preview said: one added, one reweighted
    assert sorted((type(op).__name__, str(op.dest.key), op.dest.weight) for op in done) == [
        ("AddDest", "198.51.100.12:80", 1), ("SetDest", "198.51.100.10:80", 4)]
