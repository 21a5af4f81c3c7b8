"""ha_suspend in the check child: checkers of a virtual server whose address is not on the
host are suspended (keepalived's "Deactivating"/"Suspending"/"Activating healthchecker"),
driven by the host's addresses; the rtnetlink address message parser."""

from __future__ import annotations

import asyncio
import socket
import struct

from keepalived_py.check import addrwatch
from keepalived_py.check.runtime import CheckRuntime
from keepalived_py.clock import FakeClock
from keepalived_py.config.loader import load_text
from tests.fakes.ipvs import FakeIpvs
from tests.unit.check.test_runtime import Probes

CONF = """
virtual_server 192.0.2.1 80 {
    delay_loop 5
    ha_suspend
    protocol TCP
    real_server 198.51.100.10 80 {
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
}
virtual_server 192.0.2.2 80 {
    delay_loop 5
    protocol TCP
    real_server 198.51.100.11 80 {
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
}
"""


def addr_msg(new: bool, family: int, raw: bytes, attr: int = addrwatch.IFA_LOCAL) -> bytes:
    rta = struct.pack("=HH", 4 + len(raw), attr) + raw
    rta += bytes((-len(rta)) % 4)
    body = struct.pack("=BBBBI", family, 24, 0, 0, 2) + rta
    mtype = addrwatch.RTM_NEWADDR if new else addrwatch.RTM_DELADDR
    return struct.pack("=IHHII", 16 + len(body), mtype, 0, 0, 0) + body


def test_parse_address_messages():
    data = (addr_msg(True, socket.AF_INET, bytes([192, 0, 2, 1]))
            + addr_msg(False, socket.AF_INET6, bytes(15) + b"\x01", addrwatch.IFA_ADDRESS)
            + struct.pack("=IHHII", 16, addrwatch.NLMSG_DONE, 0, 0, 0))
    events, done = addrwatch.parse(data)
    assert events == [(True, "192.0.2.1"), (False, "::1")] and done
    assert addrwatch.parse(b"\x05\x00")[0] == []        # truncated: nothing, no crash


def test_suspension_follows_the_address():
    async def main():
        cfg = load_text(CONF).config
        lines: list[str] = []
        rt = CheckRuntime(FakeIpvs(), FakeClock(), lines.append, probe_for=Probes(), rand=lambda: 0.0,
                          run_checkers=False, log_detail=True)
        await rt.start(cfg, addresses={"192.0.2.7"})
        assert "Deactivating healthchecker for service [198.51.100.10]:tcp:80 for VS [192.0.2.1]:tcp:80" in lines
        assert "Activating healthchecker for service [198.51.100.11]:tcp:80 for VS [192.0.2.2]:tcp:80" in lines
        rt.addresses_changed({"192.0.2.7", "192.0.2.1"})
        assert "Netlink reflector reports IP 192.0.2.1 added" in lines
        assert lines[-1] == "Activating healthchecker for service [198.51.100.10]:tcp:80 for VS [192.0.2.1]:tcp:80"
        rt.addresses_changed({"192.0.2.7"})
        assert lines[-1] == "Suspending healthchecker for service [198.51.100.10]:tcp:80 for VS [192.0.2.1]:tcp:80"
        n = len(lines)
        rt.addresses_changed({"192.0.2.8"})     # nothing about our VS changed: nothing said
        assert len(lines) == n
        await rt.stop()
    asyncio.run(main())
