"""The IPVS sync daemon follows its VRRP instance (vrrpd/syncd.py), as keepalived drives it:
BACKUP daemon at start, MASTER on entering MASTER, back on leaving, stopped first at
shutdown; the netlink attributes are libipvs's."""

from __future__ import annotations

import asyncio
import logging

from keepalived_py.config import load_text
from keepalived_py.lvs import netlink as nl
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.runtime import VrrpRuntime
from keepalived_py.vrrpd.syncd import (
    ATTR_MCAST_GROUP,
    ATTR_MCAST_IFN,
    ATTR_MCAST_PORT,
    ATTR_STATE,
    ATTR_SYNC_ID,
    CMD_ATTR_DAEMON,
    CMD_NEW_DAEMON,
    syncd_config,
)
from tests.fakes.clock import FakeClock
from tests.fakes.net import FakeNet, FakeOpener, FakeScheduler, FakeSender, FakeSysctls

INST = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
{extra}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"""


def conf(extra: str = "", glob: str = ""):
    return load_text(f"global_defs {{\n{glob}\n}}\n" + INST.format(extra=extra)).config


def decode(cmd: int, attrs: bytes) -> tuple[str, int, str | None]:
    nested = nl.parse_attrs(attrs)[CMD_ATTR_DAEMON]
    a = nl.parse_attrs(nested)
    state = int.from_bytes(a[ATTR_STATE], "little")
    ifname = a[ATTR_MCAST_IFN].rstrip(b"\0").decode() if ATTR_MCAST_IFN in a else None
    return ("start" if cmd == CMD_NEW_DAEMON else "stop"), state, ifname


def test_daemon_follows_the_instance():
    async def go():
        clock = FakeClock()
        net = FakeNet()
        net.add_link("eth0", addrs=("192.0.2.1/24",))
        sched = FakeScheduler(clock)

        async def syncd(cmd, attrs):
            net.calls.append(("syncd", decode(cmd, attrs)))
        rt = VrrpRuntime(net, clock, logging.getLogger("t"), sender=FakeSender(), socket_opener=FakeOpener(),
                         scheduler=sched, vmac_sysctls=FakeSysctls(), syncd_factory=lambda: syncd)
        await rt.start(conf("    lvs_sync_daemon_interface eth0"))
        await rt._drain(1)
        sched.advance(3.7)
        for _ in range(5):
            await asyncio.sleep(0)
        await rt._drain(1)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
        return [c[1] if c[0] == "syncd" else c[0] for c in net.calls
                if c[0] in ("syncd", "add_address", "remove_address")]
    calls = asyncio.run(go())
    assert calls == [("start", 2, "eth0"), "remove_address",          # BACKUP daemon; leftovers swept
                     "add_address", ("stop", 2, None), ("start", 1, "eth0"),  # MASTER (after its VIPs)
                     ("stop", 1, None), "remove_address"]              # stopped before the release


def test_config_from_global_and_instance():
    cfg = syncd_config(conf(glob="    lvs_sync_daemon eth0 VI_1 id 7 port 8849 group 224.0.0.82"))
    assert (cfg.ifname, cfg.instance, cfg.syncid, cfg.port, str(cfg.group)) == ("eth0", "VI_1", 7, 8849,
                                                                                "224.0.0.82")
    assert syncd_config(conf(glob="    lvs_sync_daemon eth0 VI_1")).syncid == 51  # the VRID
    assert syncd_config(conf("    lvs_sync_daemon_interface eth0")).syncid == 0  # as keepalived 2.2.7
    assert syncd_config(conf()) is None
    from keepalived_py.vrrpd.syncd import STATE_MASTER, start_attrs
    a = nl.parse_attrs(nl.parse_attrs(start_attrs(cfg, STATE_MASTER))[CMD_ATTR_DAEMON])
    assert int.from_bytes(a[ATTR_SYNC_ID], "little") == 7
    assert a[ATTR_MCAST_PORT] == (8849).to_bytes(2, "big") and a[ATTR_MCAST_GROUP] == bytes([224, 0, 0, 82])
