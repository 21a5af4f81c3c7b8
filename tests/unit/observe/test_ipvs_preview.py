"""The IPVS side of the reload preview equals what the reload then does: the preview's
operations, computed on copies in the check runtime, are the operations the reload sends to
the recording IPVS fake, and the running state is untouched by the preview."""

from __future__ import annotations

import asyncio

from keepalived_py.observe.ipvs_preview import describe, reload_ops
from tests.unit.check.test_runtime import BASE, Harness, conf

NEW = BASE.replace("        weight 2\n", "        weight 5\n").replace(
    "    real_server 198.51.100.10 80 {{", "    real_server 198.51.100.12 80 {{\n        weight 1\n    }}\n"
    "    real_server 198.51.100.13 80 {{")


def test_preview_ops_are_the_reload_ops():
    async def main():
        h = Harness()
        await h.rt.start(conf(extra="real_server 198.51.100.14 80 {\n weight 4\n TCP_CHECK {\n"
                                    " connect_timeout 1\n retry 0\n warmup 0\n }\n }"))
        await h.step(1.0)
        h.probes.up["198.51.100.14"] = False      # down: its reweight shows nowhere
        await h.step(5.0)
        new = conf(text=NEW.format(quorum=1, sorry="", inhibit="", extra=""))
        actual = await h.port.dump()
        states_before = dict(h.rt.scheduler.states)
        ops = reload_ops(h.rt, new, actual)
        assert h.rt.scheduler.states == states_before
        assert await h.port.dump() == actual
        text = describe(ops, actual)
        n = len(h.port.ops())
        await h.rt.reload(new)
        return ops, text, h.port.ops()[n:]
    ops, text, done = asyncio.run(main())
    assert ops == done
    assert text["destinations_added"] == ["TCP 192.0.2.1:80 -> 198.51.100.12:80 weight 1",
                                          "TCP 192.0.2.1:80 -> 198.51.100.13:80 weight 3"]
    assert text["destinations_reweighted"] == ["TCP 192.0.2.1:80 -> 198.51.100.11:80 weight 2 -> 5"]
    assert text["destinations_removed"] == ["TCP 192.0.2.1:80 -> 198.51.100.10:80"]
    assert text["services_added"] == text["services_removed"] == [] and text["changes"]


def test_unchanged_configuration_previews_nothing():
    async def main():
        h = Harness()
        await h.rt.start(conf())
        await h.step(1.0)
        actual = await h.port.dump()
        return describe(reload_ops(h.rt, conf(), actual), actual)
    assert asyncio.run(main())["changes"] is False


def test_preview_text_shows_the_ipvs_part():
    from keepalived_py.observe.preview import preview_text
    text = preview_text({"config_file": "/n.conf", "running_config": "/r.conf", "vrrp": {"changes": False},
                         "ipvs": {"changes": True, "destinations_added": ["TCP 192.0.2.1:80 -> 198.51.100.12:80 weight 1"],
                                  "destinations_reweighted": ["TCP 192.0.2.1:80 -> 198.51.100.11:80 weight 2 -> 5"]}})
    assert "    + real server TCP 192.0.2.1:80 -> 198.51.100.12:80 weight 1\n" in text
    assert "    ~ real server TCP 192.0.2.1:80 -> 198.51.100.11:80 weight 2 -> 5\n" in text
    assert "IPVS: not previewed: x" in preview_text({"ipvs": {"error": "x"}})
