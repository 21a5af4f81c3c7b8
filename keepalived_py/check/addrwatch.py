"""ha_suspend: which virtual servers' addresses are on this host, from rtnetlink.

keepalived's checker process follows the host's addresses itself (keepalived_netlink.c
reports address changes, check_api.c update_checker_activity()): a virtual server with
ha_suspend has its checkers suspended while its address is not configured locally - on a
BACKUP director, whose VRRP instance has not added the VIP - and activated when the address
appears. No message from the vrrp child is needed: the address is the signal.

`parse()` and `suspended()` are pure; `AddressWatch` is the I/O: one NETLINK_ROUTE socket
subscribed to IPv4/IPv6 address groups, a dump at start, events read on the loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from keepalived_py.net.rcvbuf import rcvbuf_setting, set_rcvbuf

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
NLMSG_DONE, NLMSG_ERROR = 3, 2
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR = 0x10, 0x100
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300


def parse(data: bytes) -> tuple[list[tuple[bool, str]], bool]:
    """(events [(added, address text)], dump done) from netlink messages."""
    out: list[tuple[bool, str]] = []
    done = False
    off = 0
    while off + 16 <= len(data):
        length, mtype = struct.unpack_from("=IH", data, off)
        if length < 16 or off + length > len(data):
            break
        if mtype in (NLMSG_DONE, NLMSG_ERROR):
            done = True
        elif mtype in (RTM_NEWADDR, RTM_DELADDR) and length >= 24:
            family = data[off + 16]
            attrs: dict[int, bytes] = {}
            a = off + 24
            end = off + length
            while a + 4 <= end:
                alen, atype = struct.unpack_from("=HH", data, a)
                if alen < 4:
                    break
                attrs[atype & 0x3FFF] = data[a + 4:a + alen]
                a += (alen + 3) & ~3
            raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
            if raw and family in (socket.AF_INET, socket.AF_INET6) and len(raw) in (4, 16):
                out.append((mtype == RTM_NEWADDR, str(ipaddress.ip_address(raw))))
        off += (length + 3) & ~3
    return out, done


def ha_suspend_targets(config: KeepalivedConfig) -> dict[Hashable, str]:
    """vs key -> its address, for the virtual servers with ha_suspend and an address."""
    out: dict[Hashable, str] = {}
    for vs in config.virtual_server:
        if vs.ha_suspend and vs.address is not None:
            out[vs.key] = str(vs.address)
    return out


def suspended(targets: dict[Hashable, str], addresses: set[str]) -> set[Hashable]:
    return {key for key, addr in targets.items() if addr not in addresses}


#: the monitor socket's receive buffer unless lvs_netlink_monitor_rcv_bufs says otherwise
RCVBUF = 1 << 20


def monitor_rcvbuf(config: KeepalivedConfig) -> tuple[int, bool]:
    """lvs_netlink_monitor_rcv_bufs (with _force): keepalived's size for the checker process's
    netlink monitor socket, our address watch; (0, False) when unset."""
    return rcvbuf_setting(config.global_defs, "lvs_netlink_monitor_rcv_bufs")


class AddressWatch:
    """The host's addresses, kept current; `on_change(addresses)` after each change."""

    def __init__(self, on_change: Callable[[set[str]], None], rcvbuf: tuple[int, bool] = (0, False)) -> None:
        """`rcvbuf`: lvs_netlink_monitor_rcv_bufs (and _force), keepalived's size for the
        checker process's monitor socket; unset keeps RCVBUF."""
        self.on_change = on_change
        self.addresses: set[str] = set()
        self.rcvbuf = rcvbuf
        self._sock: socket.socket | None = None

    async def start(self) -> set[str]:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
                             socket.NETLINK_ROUTE)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        set_rcvbuf(sock, self.rcvbuf)
        sock.bind((0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
        self._sock = sock
        # a dump of every address (ifaddrmsg with family AF_UNSPEC)
        req = struct.pack("=IHHII", 16 + 8, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + bytes(8)
        sock.send(req)
        loop = asyncio.get_running_loop()
        done = False
        while not done:
            data = await loop.sock_recv(sock, 1 << 16)
            events, done = parse(data)
            for added, addr in events:
                (self.addresses.add if added else self.addresses.discard)(addr)
        loop.add_reader(sock.fileno(), self._readable)
        return set(self.addresses)

    def _readable(self) -> None:
        assert self._sock is not None
        changed = False
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except BlockingIOError:
                break
            except OSError:   # ENOBUFS: events lost; the next change brings us up to date
                break
            for added, addr in parse(data)[0]:
                before = addr in self.addresses
                (self.addresses.add if added else self.addresses.discard)(addr)
                changed |= before != added
        if changed:
            self.on_change(set(self.addresses))

    def close(self) -> None:
        if self._sock is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            except RuntimeError:
                pass
            self._sock.close()
            self._sock = None
