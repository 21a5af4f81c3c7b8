"""Dropped-packet log lines are rate limited by who dropped the packet and the core's typed
reason (fake clock), never by reading the log text."""

from __future__ import annotations

import asyncio
import logging

from keepalived_py.vrrp.checks import DropReason
from keepalived_py.vrrpd.drop_log import DropLogLimiter
from tests.unit.vrrpd.test_runtime import Rig, _advert, conf

TTL = DropReason.IP_TTL


def test_ten_per_second_then_a_count_of_the_rest():
    lim = DropLogLimiter(10)
    got = [lim.allow(("VI_1", TTL), 100.0 + i * 0.01) for i in range(15)]
    assert got == [(True, 0)] * 10 + [(False, 0)] * 5
    assert lim.allow(("VI_1", TTL), 101.0) == (True, 5)  # new window reports the old one
    assert lim.allow(("VI_1", TTL), 102.5) == (True, 0)


def test_keys_are_independent():
    lim = DropLogLimiter(1)
    assert lim.allow(("VI_1", TTL), 0.0) == (True, 0)
    assert lim.allow(("VI_1", TTL), 0.1) == (False, 0)
    assert lim.allow(("VI_1", DropReason.AUTH_FAILURE), 0.2) == (True, 0)
    assert lim.allow(("VI_2", TTL), 0.3) == (True, 0)
    assert lim.allow(("*eth0", None), 0.4) == (True, 0)


def test_runtime_limits_a_flood_of_bad_packets(caplog):
    async def go():
        r = Rig()
        rt = await r.start(conf())
        with caplog.at_level(logging.INFO, logger="test.vrrp_runtime"):
            for _ in range(15):
                r.sock().inject(_advert(200, ttl=64))
            r.sock().inject(_advert(200, vrid=51, src="192.0.2.2", ttl=255)[:-3])  # truncated
            await r.settle()
            await r.advance(1.0)
            r.sock().inject(_advert(200, ttl=64))
            await r.settle()
        lines = [rec.getMessage() for rec in caplog.records]
        ttl = [x for x in lines if x.startswith("(VI_1) dropped advert") and "ip_ttl_err" in x]
        assert len(ttl) == 11  # ten, then one in the next second
        assert "(VI_1) 5 more dropped packet messages suppressed (ip_ttl_err)" in lines
        assert any("packet_len_err" in x for x in lines), "another reason is not hidden by the flood"
        assert rt.by_name["VI_1"].machine.stats.ip_ttl_err == 16
        await rt.stop()
    asyncio.run(go())
