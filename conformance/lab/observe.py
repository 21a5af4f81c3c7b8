"""VIP ownership from netlink events, with timestamps, not by polling.

`AddressObserver` opens one NETLINK_ROUTE socket per namespace, subscribed to the IPv4
and IPv6 address groups (RTM_NEWADDR / RTM_DELADDR) and to link events (to name
interfaces).  A socket belongs to the namespace it was created in, so each one is made in
a short-lived thread that first enters the namespace with setns(2) (which only moves the
calling thread); one reader thread then serves all sockets.  Each event is stamped with
time.monotonic() (CLOCK_MONOTONIC: the same clock fault injection stamps with) and
time.time() (to line up with pcap timestamps) when it is read.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
IFLA_IFNAME = 3

_libc = ctypes.CDLL(None, use_errno=True)


def netns_socket(ns: str | None, family: int, type_: int, proto: int) -> socket.socket:
    """A socket created inside named network namespace `ns` (None: the current one)."""
    if ns is None:
        return socket.socket(family, type_, proto)
    box: dict = {}

    def make() -> None:
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({ns}): {os.strerror(err)}")
            finally:
                os.close(fd)
            box["sock"] = socket.socket(family, type_, proto)
        except BaseException as e:  # reported in the caller's thread
            box["err"] = e

    # Python does not reuse a finished thread's OS thread for others, so the namespace
    # change dies with this thread.
    t = threading.Thread(target=make, name=f"setns-{ns}")
    t.start()
    t.join()
    if "err" in box:
        raise box["err"]
    return box["sock"]


@dataclass(frozen=True)
class AddrEvent:
    mono: float          # time.monotonic() when read
    wall: float          # time.time() when read
    node: str
    ifname: str
    address: str         # "192.0.2.100/24" (address with prefix length)
    added: bool          # True: RTM_NEWADDR, False: RTM_DELADDR

    @property
    def ip(self) -> str:
        return self.address.split("/")[0]


def _attrs(data: bytes, off: int, end: int):
    while off + 4 <= end:
        length, kind = struct.unpack_from("=HH", data, off)
        if length < 4:
            break
        yield kind & 0x3FFF, data[off + 4:off + length]
        off += (length + 3) & ~3


def _messages(data: bytes):
    off = 0
    while off + 16 <= len(data):
        length, kind, flags, seq, pid = struct.unpack_from("=IHHII", data, off)
        if length < 16:
            break
        yield kind, data[off:off + length]
        off += (length + 3) & ~3


def parse_addr(msg: bytes) -> tuple[int, str, str | None] | None:
    """(ifindex, "addr/plen", label) from an RTM_NEWADDR/RTM_DELADDR message."""
    family, plen, _flags, _scope, index = struct.unpack_from("=BBBBI", msg, 16)
    local = address = label = None
    for kind, val in _attrs(msg, 24, len(msg)):
        if kind == IFA_LOCAL:
            local = val
        elif kind == IFA_ADDRESS:
            address = val
        elif kind == IFA_LABEL:
            label = val.rstrip(b"\0").decode()
    raw = local or address
    if raw is None or family not in (socket.AF_INET, socket.AF_INET6):
        return None
    return index, f"{ipaddress.ip_address(raw)}/{plen}", label


def parse_link(msg: bytes) -> tuple[int, str | None]:
    _family, _pad, _type, index, _flags, _change = struct.unpack_from("=BBHiII", msg, 16)
    name = None
    for kind, val in _attrs(msg, 32, len(msg)):
        if kind == IFLA_IFNAME:
            name = val.rstrip(b"\0").decode()
    return index, name


def _dump(ns: str | None, kind: int, family: int = socket.AF_UNSPEC) -> list[tuple[int, bytes]]:
    s = netns_socket(ns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    try:
        s.bind((0, 0))
        body = struct.pack("=BBBBI", family, 0, 0, 0, 0) if kind == RTM_GETADDR else struct.pack("=BxHiII", family, 0, 0, 0, 0)
        hdr = struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
        s.send(hdr + body)
        out = []
        while True:
            data = s.recv(1 << 16)
            for mkind, msg in _messages(data):
                if mkind == NLMSG_DONE:
                    return out
                if mkind == NLMSG_ERROR:
                    raise OSError("netlink dump failed")
                out.append((mkind, msg))
    finally:
        s.close()


class AddressObserver:
    """Records address additions/removals in the given namespaces.

    `nodes` maps a node name (as reported in events) to its namespace name.
    """

    def __init__(self, nodes: dict[str, str]):
        self.nodes = dict(nodes)
        self.events: list[AddrEvent] = []
        self._cond = threading.Condition()
        self._names: dict[str, dict[int, str]] = {}
        self._initial: dict[str, set[tuple[str, str]]] = {}
        self._socks: dict[int, tuple[str, socket.socket]] = {}
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> AddressObserver:
        for node, ns in self.nodes.items():
            s = netns_socket(ns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
            s.setblocking(False)
            self._socks[s.fileno()] = (node, s)
            self._sel.register(s, selectors.EVENT_READ, node)
            # baseline after subscribing: nothing can slip between the two
            names = {i: n for k, m in _dump(ns, RTM_GETLINK) for i, n in [parse_link(m)] if n}
            self._names[node] = names
            base = set()
            for _k, m in _dump(ns, RTM_GETADDR):
                p = parse_addr(m)
                if p:
                    base.add((names.get(p[0], p[2] or str(p[0])), p[1]))
            self._initial[node] = base
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="addr-observer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(5)
        for _node, s in self._socks.values():
            s.close()
        self._sel.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> AddressObserver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopping:
            for key, _mask in self._sel.select():
                node = key.data
                if node is None:
                    return
                sock = key.fileobj
                try:
                    data = sock.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    continue  # ENOBUFS: events lost; the reader keeps going
                mono, wall = time.monotonic(), time.time()
                new = []
                for kind, msg in _messages(data):
                    if kind in (RTM_NEWLINK, RTM_DELLINK):
                        idx, name = parse_link(msg)
                        if name:
                            self._names[node][idx] = name
                    elif kind in (RTM_NEWADDR, RTM_DELADDR):
                        p = parse_addr(msg)
                        if p is None:
                            continue
                        idx, addr, label = p
                        ifname = self._names[node].get(idx) or label or str(idx)
                        new.append(AddrEvent(mono, wall, node, ifname, addr, kind == RTM_NEWADDR))
                if new:
                    with self._cond:
                        self.events.extend(new)
                        self._cond.notify_all()

    # -- queries -------------------------------------------------------------------------
    def initial(self, node: str) -> set[tuple[str, str]]:
        """(ifname, "addr/plen") present in `node` when the observer started."""
        return set(self._initial.get(node, ()))

    def holders(self, ip: str) -> set[str]:
        """Nodes holding `ip` now, from the baseline plus every event since."""
        ip = str(ipaddress.ip_address(ip))
        with self._cond:
            have = {n for n, addrs in self._initial.items() if any(a.split("/")[0] == ip for _i, a in addrs)}
            for e in self.events:
                if e.ip == ip:
                    (have.add if e.added else have.discard)(e.node)
        return have

    def history(self, ip: str) -> list[AddrEvent]:
        ip = str(ipaddress.ip_address(ip))
        with self._cond:
            return [e for e in self.events if e.ip == ip]

    def wait_for(self, ip: str, *, node: str | None = None, added: bool = True,
                 after: float | None = None, timeout: float = 10.0) -> AddrEvent | None:
        """The first event for `ip` (on `node`, of that kind, stamped at or after `after`),
        waiting until it arrives or `timeout` seconds pass (then None)."""
        ip = str(ipaddress.ip_address(ip))
        deadline = time.monotonic() + timeout

        def find():
            for e in self.events:
                if e.ip == ip and e.added == added and (node is None or e.node == node) \
                        and (after is None or e.mono >= after):
                    return e
            return None

        with self._cond:
            while True:
                e = find()
                if e is not None:
                    return e
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
