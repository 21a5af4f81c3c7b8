"""lvs_netlink_monitor_rcv_bufs (and _force) size the check child's netlink monitor socket
(its address watch) as keepalived's netlink_set_rx_buf_size() sizes the checker's nl_kernel."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from keepalived_py.check.addrwatch import RCVBUF, AddressWatch, monitor_rcvbuf
from keepalived_py.config.loader import load_text


def test_the_globals_reach_the_watch():
    conf = load_text("global_defs {\n lvs_netlink_monitor_rcv_bufs 300000\n lvs_netlink_monitor_rcv_bufs_force\n}\n")
    assert monitor_rcvbuf(conf.config) == (300000, True)
    assert monitor_rcvbuf(load_text("").config) == (0, False)


def _size(rcvbuf: tuple[int, bool]) -> int:
    async def go() -> int:
        watch = AddressWatch(lambda addrs: None, rcvbuf=rcvbuf)
        await watch.start()       # a NETLINK_ROUTE socket and an address dump: no privilege needed
        try:
            assert watch._sock is not None
            return watch._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        finally:
            watch.close()
    return asyncio.run(go())


def test_the_monitor_socket_gets_the_size_and_keeps_its_own_when_unset():
    # the kernel doubles SO_RCVBUF and caps it at rmem_max (doubled) unless forced
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    assert _size((100000, False)) == 2 * min(100000, rmem_max)
    assert _size((0, False)) == 2 * min(RCVBUF, rmem_max)
