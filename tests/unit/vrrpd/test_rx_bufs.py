"""kernel_rx_buf_size / vrrp_rx_bufs_policy: a shared VRRP socket's SO_RCVBUF is the sum of
its instances' shares (vrrp_scheduler.c), recomputed when an instance goes."""

from __future__ import annotations

import asyncio
import logging
import socket

from keepalived_py.config import load_text
from keepalived_py.vrrpd.plan import plan_all
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.fakes.clock import FakeClock
from tests.fakes.net import FakeNet, FakeOpener, FakeScheduler, FakeSender, FakeSysctls

INST = """
vrrp_instance {name} {{
    interface eth0
    virtual_router_id {vrid}
    priority 100
{extra}
    virtual_ipaddress {{
        192.0.2.{vrid}/24
    }}
}}
"""


def conf(*insts: tuple[str, int, str], glob: str = ""):
    text = f"global_defs {{\n{glob}\n}}\n" + "".join(INST.format(name=n, vrid=v, extra=e) for n, v, e in insts)
    return load_text(text).config


def rcvbufs(opener: FakeOpener) -> list[int]:
    return [v for lvl, opt, v in opener.by_if("eth0").options if (lvl, opt) == (socket.SOL_SOCKET, socket.SO_RCVBUF)]


def test_shares_add_up_and_go_with_their_instance():
    async def go():
        clock = FakeClock()
        net = FakeNet()
        net.add_link("eth0", addrs=("192.0.2.1/24",))
        opener = FakeOpener()
        rt = VrrpRuntime(net, clock, logging.getLogger("t"), sender=FakeSender(), socket_opener=opener,
                         scheduler=FakeScheduler(clock), vmac_sysctls=FakeSysctls())
        both = conf(("A", 51, "    kernel_rx_buf_size 100000"), ("B", 52, "    kernel_rx_buf_size 50000"))
        await rt.start(both)
        assert rcvbufs(opener)[-1] == 150000
        await rt.reload(conf(("A", 51, "    kernel_rx_buf_size 100000")))
        assert rcvbufs(opener)[-1] == 100000
        await rt.stop()
    asyncio.run(go())


def test_policy_shares():
    def share(glob: str, extra: str = ""):
        (plan,) = plan_all(conf(("A", 51, extra), glob=glob)).values()
        return plan.rx_buf
    assert share("") is None
    assert share("    vrrp_rx_bufs_policy 200000") == ("size", 200000)
    # ADVERT: multiplier (default 3) x (IP 20 + VRRP 8 + v2 auth 8 + one address 4)
    assert share("    vrrp_rx_bufs_policy ADVERT") == ("size", 3 * 40)
    assert share("    vrrp_rx_bufs_policy MTU\n    vrrp_rx_bufs_multiplier 4") == ("mtu", 4)
    assert share("    vrrp_rx_bufs_policy MTU", "    kernel_rx_buf_size 7000") == ("size", 7000)


class Promote:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def apply(self, ifname: str) -> None:
        self.calls.append(("apply", ifname))

    def release(self, ifname: str) -> None:
        self.calls.append(("release", ifname))


def test_promote_secondaries_set_for_the_instance_and_given_back():
    async def go():
        clock = FakeClock()
        net = FakeNet()
        net.add_link("eth0", addrs=("192.0.2.1/24",))
        promote = Promote()
        rt = VrrpRuntime(net, clock, logging.getLogger("t"), sender=FakeSender(), socket_opener=FakeOpener(),
                         scheduler=FakeScheduler(clock), vmac_sysctls=FakeSysctls(), promote=promote)
        await rt.start(conf(("A", 51, "    promote_secondaries"), ("B", 52, "")))
        assert promote.calls == [("apply", "eth0")]
        await rt.stop()
        assert promote.calls == [("apply", "eth0"), ("release", "eth0")]
    asyncio.run(go())
