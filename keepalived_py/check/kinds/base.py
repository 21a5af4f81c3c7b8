"""What every probe shares: the target, the resources, and a socket made as keepalived makes
its checker sockets (keepalived/core/layer4.c socket_bind_connect: SO_MARK for fwmark,
SO_BINDTODEVICE for bind_if, bind to bindto/bind_port, non-blocking)."""

from __future__ import annotations

import _socket
import asyncio
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

from keepalived_py.check.result import Result

SO_MARK = getattr(socket, "SO_MARK", 36)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


@dataclass(frozen=True, slots=True)
class Resources:
    """Shared by every probe of a check child.

    `runner`: the scripts.runner.ScriptRunner MISC_CHECK uses; `ssl_context`: SSL_GET's
    client context (None: keepalived's default, no certificate verification);
    `max_response_bytes`: HTTP body / DNS and UDP reply bounds; `http_total_factor`: an HTTP
    check gives up after this many connect_timeouts in all (keepalived only bounds each read,
    so a server trickling an endless body would hold it forever)."""

    runner: Any = None
    ssl_context: ssl.SSLContext | None = None
    max_response_bytes: int = 1 << 20
    http_total_factor: float = 4.0


@dataclass(frozen=True, slots=True)
class Target:
    """Where one checker connects, after keepalived's defaults (connect_ip else the real
    server's address, connect_port else its port; connect_timeout inherited). `label` is the
    checker's FMT_CHK for messages, `virtualhost` the HTTP Host after inheritance, `url_index`
    the HTTP url this run checks, `script` the prepared MISC_CHECK script."""

    address: str
    port: int | None = None
    timeout: float = 5.0
    bindto: str | None = None
    bind_port: int | None = None
    bind_if: str | None = None
    fwmark: int | None = None
    label: str = ""
    virtualhost: str | None = None
    url_index: int = 0
    script: Any = None
    script_timeout: float | None = None
    resources: Resources = field(default_factory=Resources)

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.address else socket.AF_INET

    @property
    def pair(self) -> str:
        """inet_sockaddrtopair(): "[address]:port"."""
        return f"[{self.address}]:{self.port or 0}"


def make_socket(target: Target, kind: int, proto: int = 0, family: int | None = None, *,
                raw: bool = False) -> socket.socket:
    """A non-blocking socket with the checker's fwmark, bind_if and bind address applied;
    OSError if one of them cannot be (keepalived logs and reschedules). `raw`: the C-level
    _socket.socket without the Python wrapper (cheaper to make and close; for sockets only
    connected and closed, never handed to asyncio streams)."""
    cls = _socket.socket if raw else socket.socket
    sock = cls(family or target.family, kind | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC, proto)
    try:
        if target.fwmark:
            sock.setsockopt(socket.SOL_SOCKET, SO_MARK, target.fwmark)
        if target.bind_if:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, target.bind_if.encode() + b"\0")
        if target.bindto or target.bind_port:
            any_addr = "::" if (family or target.family) == socket.AF_INET6 else "0.0.0.0"
            sock.bind((target.bindto or any_addr, target.bind_port or 0))
    except OSError:
        sock.close()
        raise
    return sock


def sockaddr(target: Target, port: int | None = None) -> tuple:
    if target.family == socket.AF_INET6:
        return (target.address, port if port is not None else target.port or 0, 0, 0)
    return (target.address, port if port is not None else target.port or 0)


def connected(sock: socket.socket) -> tuple[bool, int]:
    """(connected, pending error) of a non-blocking TCP socket, without waiting: SO_ERROR
    says whether the attempt failed, getpeername whether the handshake completed. Why: a
    timer that fires late (a busy loop) must not call a connection the kernel made a
    timeout."""
    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        return False, err
    try:
        sock.getpeername()
    except OSError:
        return False, 0
    return True, 0


async def connect(target: Target, timeout: float) -> tuple[socket.socket | None, Result | None]:
    """A TCP connection to the target: (socket, None) or (None, a failed/timed-out Result with
    keepalived's words: "timeout", "refused", "unreachable"). The connect is sent before this
    returns to the loop, and a late deadline asks the socket (check.fastconnect)."""
    from keepalived_py.check.fastconnect import ConnectCheck  # it builds on this module

    loop = asyncio.get_running_loop()
    fut: asyncio.Future = loop.create_future()

    def done(_check, result: Result, sock: socket.socket | None) -> None:
        if fut.done():
            if sock is not None:
                sock.close()
            return
        fut.set_result((sock, None) if result.ok else (None, result))

    check = ConnectCheck(loop, target, done, keep=True, timeout=timeout)
    try:
        return await fut
    finally:
        check.cancel()
