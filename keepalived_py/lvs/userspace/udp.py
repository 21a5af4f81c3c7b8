"""The UDP half of the userspace dataplane: sessions per client address and port.

A client's first datagram to the VIP makes a session: a real server is chosen (IPVS does
the same per UDP "connection"), and a connected socket to it carries that client's datagrams;
replies go back from the VIP's socket. A session ends after the IPVS udp timeout without a
datagram either way (default 300 s), like the kernel's UDP connection entries.

Nothing is buffered without bound: while a session's socket is being made, at most
`PENDING_MAX` datagrams wait; replies go out on the VIP's socket directly and are dropped
when its kernel send buffer is full (as a router drops); above `max_sessions` new clients'
datagrams are dropped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable

from keepalived_py.log import get_logger
from keepalived_py.lvs.table import PROTO_UDP, ServiceKey
from keepalived_py.lvs.userspace.balancer import Balancer, Conn
from keepalived_py.lvs.userspace.tcp import listening_socket

log = get_logger("lvs.userspace")

PENDING_MAX = 64
MAX_SESSIONS = 8192


class _Session:
    __slots__ = ("client", "conn", "transport", "pending", "last", "closed")

    def __init__(self, client: tuple, conn: Conn, now: float) -> None:
        self.client = client
        self.conn = conn
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []
        self.last = now
        self.closed = False


class _ServerSide(asyncio.DatagramProtocol):
    def __init__(self, listener: UdpListener, session: _Session) -> None:
        self.listener = listener
        self.session = session

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        lst, s = self.listener, self.session
        sock = lst.sock
        if sock is None or s.closed:
            return
        try:
            # the socket itself, not the transport's sendto: uvloop caches every peer address
            # it converts (2,048, for ever), which pinned the allocator's memory after a storm
            sock.sendto(data, s.client)
        except OSError:             # the send buffer is full (EAGAIN), or the VIP went
            lst.dropped += 1
            return
        s.conn.add_out(len(data))
        s.last = lst.now()

    def error_received(self, exc: Exception) -> None:
        """ICMP port unreachable from the real server: the datagram is lost, as in IPVS."""
        self.listener.dropped += 1


class _VipSide(asyncio.DatagramProtocol):
    def __init__(self, listener: UdpListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        lst = self.listener
        s = lst.sessions.get(addr)
        if s is None:
            s = lst.open_session(addr)
            if s is None:
                lst.dropped += 1
                return
        s.last = lst.now()
        if s.transport is not None:
            s.transport.sendto(data)
            s.conn.add_in(len(data))
        elif len(s.pending) < PENDING_MAX:
            s.pending.append(data)
        else:
            lst.dropped += 1

    def error_received(self, exc: Exception) -> None:
        self.listener.dropped += 1


class UdpListener:
    """A virtual service's UDP socket and its sessions."""

    def __init__(self, balancer: Balancer, key: ServiceKey, max_sessions: int = MAX_SESSIONS,
                 now: Callable[[], float] = time.monotonic) -> None:
        assert key.protocol == PROTO_UDP and key.address is not None
        self.balancer = balancer
        self.key = key
        self.max_sessions = max_sessions
        self.now = now
        self.sessions: dict[tuple, _Session] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.sock: socket.socket | None = None
        self.tasks: set[asyncio.Task] = set()
        self.dropped = 0

    async def start(self) -> None:
        assert self.key.address is not None
        sock = listening_socket(str(self.key.address), self.key.port, socket.SOCK_DGRAM)
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: _VipSide(self), sock=sock)
        self.sock = sock

    def open_session(self, addr: tuple) -> _Session | None:
        if len(self.sessions) >= self.max_sessions:
            return None
        assert self.key.address is not None
        conn = self.balancer.connect(self.key, ipaddress.ip_address(addr[0]), addr[1], self.key.address,
                                     self.now())
        if conn is None:
            return None
        s = _Session(addr, conn, self.now())
        self.sessions[addr] = s
        task = asyncio.get_running_loop().create_task(self._connect(s))
        self.tasks.add(task)
        task.add_done_callback(self._forget)
        return s

    def _forget(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)      # self.tasks looked up now: compact() replaces the set

    async def _connect(self, s: _Session) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: _ServerSide(self, s),
                                                               remote_addr=s.conn.target)
        except OSError as exc:
            log.debug("userspace IPVS: %s -> %s:%d failed: %s", self.key, *s.conn.target, exc)
            self.end(s)
            return
        if s.closed:
            transport.close()
            return
        s.transport = transport      # UDP entries stay inactive in IPVS's counts
        for data in s.pending:
            transport.sendto(data)
            s.conn.add_in(len(data))
        s.pending.clear()

    def end(self, s: _Session) -> None:
        if s.closed:
            return
        s.closed = True
        if s.transport is not None:
            s.transport.close()
        self.sessions.pop(s.client, None)
        self.balancer.closed(s.conn, self.now())

    def sweep(self, idle: float) -> None:
        """Sessions without a datagram for `idle` seconds end (IPVS udp timeout)."""
        limit = self.now() - idle
        for s in [s for s in self.sessions.values() if s.last < limit]:
            self.end(s)

    def open_count(self) -> int:
        return len(self.sessions) + len(self.tasks)

    def compact(self) -> None:
        """After a storm (port.sweep): the tables again at their present size (a dict or set
        keeps the table of its largest size)."""
        self.sessions = dict(self.sessions)
        self.tasks = set(self.tasks)

    async def stop(self, abort: bool = True) -> None:
        self.sock = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        for s in list(self.sessions.values()):
            self.end(s)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.sleep(0)
