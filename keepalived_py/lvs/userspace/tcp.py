"""The TCP half of the userspace dataplane: accept on the VIP, connect to the chosen real
server, copy both ways.

Copy path: asyncio protocols on uvloop (data_received -> transport.write), with each side's
write-buffer limits pausing the other side's reading, so nothing buffers more than
`HIGH_WATER` per direction. uvloop's transports read and write in C; the Python work is
one callback per read. os.splice through a pipe would save the copy into Python bytes but
needs two pipe fds per connection and a Python callback per chunk as well; it was not
adopted (conformance/bench/dataplane.py gives the numbers of this path beside HAProxy).

Half-close: a FIN from one side becomes write_eof() on the other; the connection ends when
both directions are finished. A reset or a vanished peer aborts the other side (RST).
A connection idle longer than the IPVS tcp timeout is aborted; so is a real server that does
not accept within `CONNECT_TIMEOUT` (both found by the listener's sweep, once a second: no
timer per connection). A side whose reading is paused (its peer is not reading)
cannot see its own peer's reset: such a connection ends at the idle timeout, as the kernel's
entry would. Above `max_conns` open connections per listener, new
clients are closed at once (IPVS has no such limit; a userspace process has fds).

The real server sees the balancer's address as the source (the kernel's NAT would keep the
client's): doing otherwise needs IP_TRANSPARENT and policy routing on the real servers.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from collections.abc import Callable
from typing import cast

from keepalived_py.log import get_logger
from keepalived_py.lvs.table import PROTO_TCP, ServiceKey
from keepalived_py.lvs.userspace.balancer import Balancer, Conn

log = get_logger("lvs.userspace")

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
CONNECT_TIMEOUT = 10.0
MAX_CONNS = 8192
IP_FREEBIND = 15
IPV6_FREEBIND = 78


def listening_socket(address: str, port: int, kind: int, backlog: int = 1024) -> socket.socket:
    """A socket on the VIP, bindable before the VIP is on an interface (FREEBIND): a BACKUP
    router listens too, and starts answering the moment VRRP moves the address to it."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
            except OSError:
                pass
        else:
            sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(backlog)
        sock.setblocking(False)
        return sock
    except BaseException:
        sock.close()
        raise


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Client addresses repeat; parsing one costs more than the rest of the bookkeeping."""
    return ipaddress.ip_address(text)


class _Pipe:
    """One proxied connection: both transports, and who has finished writing."""

    __slots__ = ("client", "server", "conn", "listener", "client_eof", "server_eof", "last", "closed", "early",
                 "task")

    def __init__(self, listener: TcpListener, client: asyncio.Transport, conn: Conn) -> None:
        self.listener = listener
        self.client = client
        self.server: asyncio.Transport | None = None
        self.conn = conn
        self.client_eof = self.server_eof = False
        self.last = listener.now()
        self.closed = False
        #: what the client sent before the real server accepted (uvloop may deliver one read
        #: although reading was paused in connection_made); bounded by that pause
        self.early: list[bytes] = []
        #: the connect to the real server while it is under way
        self.task: asyncio.Task | None = None

    def finish(self, abort: bool, failed: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        if self.task is not None:       # a connect under way: it will not be wanted
            self.task.cancel()
            self.listener.tasks.discard(self.task)   # also if it never ran
        for t in (self.client, self.server):
            if t is not None and not t.is_closing():
                t.abort() if abort else t.close()
        self.listener.pipes.discard(self)
        self.listener.balancer.closed(self.conn, self.listener.now(), failed=failed)


class _ClientSide(asyncio.Protocol):
    __slots__ = ("listener", "pipe")

    def __init__(self, listener: TcpListener) -> None:
        self.listener = listener
        self.pipe: _Pipe | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)     # uvloop's are not subclasses
        lst = self.listener
        if len(lst.pipes) >= lst.max_conns:
            lst.refused += 1
            transport.abort()
            return
        peer = transport.get_extra_info("peername")
        assert lst.key.address is not None
        conn = lst.balancer.connect(lst.key, _address(peer[0]), peer[1], lst.key.address, lst.now())
        if conn is None:
            lst.refused += 1
            transport.abort()
            return
        transport.pause_reading()
        transport.set_write_buffer_limits(HIGH_WATER, LOW_WATER)
        self.pipe = _Pipe(lst, transport, conn)
        lst.pipes.add(self.pipe)
        # the listener's loop, not asyncio.get_running_loop(): on 3.11 that costs a getpid()
        # syscall per call, a measured 6% of the new-connection path
        loop = lst.loop
        assert loop is not None
        # no timer per connection (a uvloop timer is a libuv handle to allocate, start, stop
        # and close): the listener's sweep cancels a connect older than CONNECT_TIMEOUT
        task = self.pipe.task = loop.create_task(self._connect(self.pipe, loop))
        lst.tasks.add(task)

    async def _connect(self, pipe: _Pipe, loop: asyncio.AbstractEventLoop) -> None:
        host, port = pipe.conn.target
        me = pipe.task
        try:
            # (loop.sock_connect + create_connection(sock=) measured slower on uvloop)
            transport, _ = await loop.create_connection(lambda: _ServerSide(pipe), host, port)
        except (OSError, asyncio.CancelledError) as exc:
            pipe.task = None
            log.debug("userspace IPVS: %s -> %s:%d failed: %r", self.listener.key, host, port, exc)
            pipe.finish(abort=True, failed=True)
            return
        finally:
            # here rather than a done callback (one loop callback fewer per connection); a
            # task cancelled before its first step never gets here: finish() and stop()
            # take it out of the set
            self.listener.tasks.discard(me)  # type: ignore[arg-type]
            pipe.task = None
        if pipe.closed:
            transport.abort()
            return
        transport = cast(asyncio.Transport, transport)
        transport.set_write_buffer_limits(HIGH_WATER, LOW_WATER)
        pipe.server = transport
        self.listener.balancer.established(pipe.conn)
        for data in pipe.early:
            transport.write(data)
            pipe.conn.add_in(len(data))
        pipe.early.clear()
        if pipe.client_eof and transport.can_write_eof():
            transport.write_eof()
        pipe.client.resume_reading()

    def data_received(self, data: bytes) -> None:
        pipe = self.pipe
        if pipe is None or pipe.closed:
            return
        if pipe.server is None:
            pipe.early.append(data)
            pipe.client.pause_reading()
            return
        pipe.server.write(data)
        pipe.conn.add_in(len(data))
        pipe.last = self.listener.now()

    def eof_received(self) -> bool:
        pipe = self.pipe
        if pipe is None:
            return False
        pipe.client_eof = True
        if pipe.server is None:          # passed on once the real server accepts
            return True
        if pipe.server_eof:
            # both directions done: close() flushes and sends the FIN that write_eof's
            # shutdown() would (all the real server sent was read), one syscall fewer
            pipe.finish(abort=False)
            return False
        if pipe.server.can_write_eof() and not pipe.server.is_closing():
            pipe.server.write_eof()
        return True

    def pause_writing(self) -> None:
        if self.pipe is not None and self.pipe.server is not None:
            self.pipe.server.pause_reading()

    def resume_writing(self) -> None:
        if self.pipe is not None and self.pipe.server is not None and not self.pipe.closed:
            self.pipe.server.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.pipe is not None:
            self.pipe.finish(abort=exc is not None or not self.pipe.client_eof)


class _ServerSide(asyncio.Protocol):
    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe

    def data_received(self, data: bytes) -> None:
        pipe = self.pipe
        if pipe.closed:
            return
        pipe.client.write(data)
        pipe.conn.add_out(len(data))
        pipe.last = pipe.listener.now()

    def eof_received(self) -> bool:
        pipe = self.pipe
        pipe.server_eof = True
        if pipe.client_eof:
            pipe.finish(abort=False)     # as in _ClientSide.eof_received: close() sends the FIN
            return False
        if pipe.client.can_write_eof() and not pipe.client.is_closing():
            pipe.client.write_eof()
        return True

    def pause_writing(self) -> None:
        self.pipe.client.pause_reading()

    def resume_writing(self) -> None:
        if not self.pipe.closed:
            self.pipe.client.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.pipe.finish(abort=exc is not None or not self.pipe.server_eof)


class TcpListener:
    """A virtual service's TCP socket and its proxied connections."""

    def __init__(self, balancer: Balancer, key: ServiceKey, max_conns: int = MAX_CONNS,
                 now: Callable[[], float] = time.monotonic) -> None:
        assert key.protocol == PROTO_TCP and key.address is not None
        self.balancer = balancer
        self.key = key
        self.max_conns = max_conns
        self.now = now
        self.pipes: set[_Pipe] = set()
        self.tasks: set[asyncio.Task] = set()
        self.refused = 0
        self._server: asyncio.AbstractServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        assert self.key.address is not None
        sock = listening_socket(str(self.key.address), self.key.port, socket.SOCK_STREAM)
        self.loop = loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _ClientSide(self), sock=sock)

    def sweep(self, idle: float) -> None:
        """Abort connections idle longer than `idle` seconds, and cancel connects to a real
        server older than CONNECT_TIMEOUT (so that timeout has the sweep's resolution)."""
        now = self.now()
        limit, connect_limit = now - idle, now - CONNECT_TIMEOUT
        for pipe in list(self.pipes):
            if pipe.task is not None and pipe.server is None and pipe.last < connect_limit:
                pipe.task.cancel()          # its _connect ends the pipe as failed
            elif pipe.last < limit:
                pipe.finish(abort=True)

    def open_count(self) -> int:
        return len(self.pipes) + len(self.tasks)

    def compact(self) -> None:
        """After a storm (port.sweep): the sets again at their present size (a set keeps the
        table of its largest size), and the client address cache emptied."""
        self.pipes = set(self.pipes)
        self.tasks = set(self.tasks)
        _address.cache_clear()

    async def stop(self, abort: bool = True) -> None:
        """Stop accepting; with `abort`, end every connection too (flush, shutdown). Without,
        open connections finish on their own, as the kernel's do when a service goes."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if abort:
            for pipe in list(self.pipes):
                pipe.finish(abort=True)
            for task in list(self.tasks):
                task.cancel()
            self.tasks.clear()
        await asyncio.sleep(0)
