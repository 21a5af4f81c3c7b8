"""VRRP instance keywords that -t used to list as 'parsed, not implemented', each with its
keepalived 2.2.7 meaning, against the runtime's recording fakes."""

from __future__ import annotations

import asyncio

from keepalived_py.observe.vrrp import data_text
from keepalived_py.observe.vrrp_settings import runtime_snapshots
from tests.unit.vrrpd.test_runtime import Rig, conf


def test_debug_level_is_in_the_data_dump():
    """vrrp_parser.c vrrp_debug_handler: 0-4 into vrrp->debug, which 2.2.7 only prints in
    keepalived.data ('   Debug level = N' after the authentication lines, when not 0)."""
    async def go():
        r = Rig()
        rt = await r.start(conf(extra="    debug 3"))
        lines = data_text(runtime_snapshots(rt), 0.0).splitlines()
        assert "   Debug level = 3" in lines
        assert lines.index("   Debug level = 3") == lines.index("   Authentication type = none") + 1
        await rt.stop()
        r2 = Rig()
        rt2 = await r2.start(conf())
        assert not any("Debug level" in x for x in data_text(runtime_snapshots(rt2), 0.0).splitlines())
        await rt2.stop()
    asyncio.run(go())
