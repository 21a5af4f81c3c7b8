"""The BFD listener's socket options (keepalived_py/bfd/sockets.py)."""

from __future__ import annotations

import socket
from pathlib import Path

from keepalived_py.bfd.sockets import LISTENER_RCVBUF, open_listener


def test_listener_asks_for_a_receive_buffer_that_outlasts_a_flood():
    # the kernel doubles the request and caps it at net.core.rmem_max (doubled)
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    sock = open_listener(0)
    try:
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    finally:
        sock.close()
    assert got == 2 * min(LISTENER_RCVBUF, rmem_max)
