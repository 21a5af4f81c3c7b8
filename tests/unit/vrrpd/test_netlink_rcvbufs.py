"""vrrp_netlink_cmd_rcv_bufs / vrrp_netlink_monitor_rcv_bufs (and _force) size the vrrp
child's netlink sockets as keepalived's netlink_set_rx_buf_size() does."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

from keepalived_py.config.loader import load_text
from keepalived_py.net.pyroute2_adapter import Pyroute2Net
from keepalived_py.net.rcvbuf import SO_RCVBUFFORCE, set_rcvbuf
from keepalived_py.vrrpd.daemon import netlink_rcvbufs


class FakeSock:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[int, int, int]] = []
        self.fail = fail

    def setsockopt(self, level: int, name: int, value: int) -> None:
        if self.fail:
            raise PermissionError(1, "Operation not permitted")
        self.calls.append((level, name, value))


def test_the_globals_reach_the_sockets_settings():
    g = load_text("global_defs {\n vrrp_netlink_cmd_rcv_bufs 300000\n vrrp_netlink_monitor_rcv_bufs 500000\n"
                  " vrrp_netlink_monitor_rcv_bufs_force\n}\n").config.global_defs
    assert netlink_rcvbufs(g) == ((300000, False), (500000, True))
    assert netlink_rcvbufs(load_text("").config.global_defs) == ((0, False), (0, False))


def test_size_and_force_pick_the_option_and_unset_leaves_the_socket_alone():
    s = FakeSock()
    set_rcvbuf(s, (300000, False))
    set_rcvbuf(s, (500000, True))
    set_rcvbuf(s, (0, True))
    assert s.calls == [(socket.SOL_SOCKET, socket.SO_RCVBUF, 300000), (socket.SOL_SOCKET, SO_RCVBUFFORCE, 500000)]


def test_a_refused_size_is_keepalived_s_log_line(caplog):
    with caplog.at_level(logging.INFO):
        set_rcvbuf(FakeSock(fail=True), (500000, True))
    assert caplog.messages == ["cant set SO_RCVBUFFORCE IP option. errno=1 (Operation not permitted)"]


def test_the_request_socket_gets_the_size():
    # a NETLINK_ROUTE socket needs no privilege; the kernel doubles SO_RCVBUF, capped by rmem_max
    size = 300000
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())

    async def go() -> int:
        net = Pyroute2Net(cmd_rcvbuf=(size, False))
        ipr = await net._req()
        try:
            return ipr.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        finally:
            ipr.close()
    assert asyncio.run(go()) == 2 * min(size, rmem_max)


def test_unset_keeps_pyroute2_s_buffer_not_keepalived_s_64k():
    # a deliberate difference (conformance/DIFFERENCES.md): keepalived would set 64 KiB
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())

    async def go() -> int:
        ipr = await Pyroute2Net()._req()
        try:
            return ipr.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        finally:
            ipr.close()
    got = asyncio.run(go())
    assert got == 2 * min(1024 * 1024, rmem_max) and got != 2 * 64 * 1024
