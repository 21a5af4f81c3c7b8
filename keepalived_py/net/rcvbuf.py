"""keepalived's netlink receive buffer knobs (`vrrp_netlink_*_rcv_bufs`,
`lvs_netlink_monitor_rcv_bufs`, each with `_force`), applied to one socket. Why a module of
its own: the vrrp child's pyroute2 sockets and the check child's address watch both size
their buffers this way, and the check child must not import pyroute2 for it."""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

SO_RCVBUFFORCE = 33  # linux/asm-generic/socket.h (not in Python's socket module)


def set_rcvbuf(sock: Any, rcvbuf: tuple[int, bool]) -> None:
    """keepalived_netlink.c netlink_set_rx_buf_size(): SO_RCVBUF, or SO_RCVBUFFORCE (past
    rmem_max) with _force; a refusal is logged with keepalived's line. Unset (0) leaves the
    socket's own size (pyroute2's 1 MiB, the address watch's 1 MiB), where keepalived would
    set 64 KiB."""
    size, force = rcvbuf
    if not size:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE if force else socket.SO_RCVBUF, size)
    except OSError as exc:
        log.info("cant set SO_RCVBUFFORCE IP option. errno=%d (%s)" if force
                 else "Cannot set SO_RCVBUF IP option. errno=%d (%s)", exc.errno, exc.strerror)


def rcvbuf_setting(g: Any, name: str) -> tuple[int, bool]:
    """A `*_rcv_bufs` keyword of global_defs `g` and its `_force`, as set_rcvbuf takes them;
    (0, False) when `g` is None (no global_defs) or the keyword is unset."""
    if g is None:
        return 0, False
    return getattr(g, name), bool(getattr(g, name + "_force"))
