"""PING_CHECK with connect_port: keepalived accepts it (the common connection keywords) and
its ICMP echo ignores the port, as does its log text (FMT_CHK is the real server's). Here
the port reaches the probe's target (spec.build) and an echo to loopback, v4 and v6,
still succeeds with it."""

from __future__ import annotations

import asyncio

import pytest

from keepalived_py.check import spec as specmod
from keepalived_py.check.kinds import ping
from keepalived_py.check.kinds.base import Target
from keepalived_py.config.loader import load_text
from tests.envcheck import need_root

pytestmark = [pytest.mark.root]

CONF = """
virtual_server 192.0.2.10 80 {
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 80 {
        PING_CHECK {
            connect_port 7
            connect_timeout 1
        }
    }
}
"""


def test_connect_port_reaches_the_target_and_the_echo_ignores_it() -> None:
    need_root()
    result = load_text(CONF)
    assert not result.fatal and "PING_CHECK.connect_port" not in {w for _p, w in result.not_implemented_at}
    _servers, specs = specmod.build(result.config)
    (chk,) = specs
    assert chk.endpoint.port == 7 and chk.policy.rs_label.endswith(":80")

    async def main() -> list:
        return [await ping.probe(Target(addr, 7, 1.0)) for addr in ("127.0.0.1", "::1")]

    for r in asyncio.run(main()):
        assert r.ok, r
