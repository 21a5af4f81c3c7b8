"""PING_CHECK: one ICMP (v4) or ICMPv6 echo request, success when the echo reply comes within
connect_timeout (keepalived/check/check_ping.c). As keepalived, an unprivileged datagram
ICMP socket (net.ipv4.ping_group_range must include our group; keepalived widens it) is used;
when the kernel refuses one and we are root, a raw socket, whose replies are matched on
identifier, sequence and source. 128 bytes of keepalived's fill pattern are sent."""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
import struct

from keepalived_py.check.kinds.base import Target, make_socket, sockaddr
from keepalived_py.check.result import Result, Status

ICMP_BUFSIZE = 128
_FILL = (b"keepalived check - " * 8)[:ICMP_BUFSIZE]
_HDR = struct.Struct("!BBHHH")
_seq = itertools.count(random.getrandbits(16))


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(v6: bool, ident: int, seq: int) -> bytes:
    kind = 128 if v6 else 8
    head = _HDR.pack(kind, 0, 0, ident, seq)
    csum = 0 if v6 else checksum(head + _FILL)  # the kernel fills ICMPv6 checksums
    return _HDR.pack(kind, 0, csum, ident, seq) + _FILL


def is_reply(packet: bytes, v6: bool, raw: bool, ident: int, seq: int) -> bool | None:
    """True: our echo reply; False: an ICMP message that fails the check (datagram socket:
    anything else addressed to us); None: not ours (raw socket), keep waiting."""
    if raw and not v6:
        if len(packet) < 20:
            return None
        packet = packet[(packet[0] & 0x0F) * 4:]
    if len(packet) < _HDR.size:
        return None if raw else False
    kind, _code, _csum, rid, rseq = _HDR.unpack_from(packet)
    if kind != (129 if v6 else 0):
        return None if raw else False
    if raw and rid != ident:
        return None
    if rseq != seq:
        return None
    return True


def _open(target: Target, v6: bool) -> tuple[socket.socket, bool]:
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    try:
        return make_socket(target, socket.SOCK_DGRAM, proto), False
    except PermissionError:
        return make_socket(target, socket.SOCK_RAW, proto), True


def _wake(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


async def _recvfrom(sock: socket.socket, size: int) -> tuple[bytes, tuple]:
    loop = asyncio.get_running_loop()
    while True:
        try:
            return sock.recvfrom(size)
        except BlockingIOError:
            pass
        fut: asyncio.Future = loop.create_future()
        loop.add_reader(sock.fileno(), _wake, fut)
        try:
            await fut
        finally:
            loop.remove_reader(sock.fileno())


async def probe(target: Target, params=None) -> Result:
    loop = asyncio.get_running_loop()
    start = loop.time()
    v6 = target.family == socket.AF_INET6
    try:
        sock, raw = _open(target, v6)
    except OSError as e:
        return Result(Status.FAILED, f"ICMP{'v6' if v6 else ''} socket failed: {e.strerror or e}")
    ident = random.getrandbits(16)
    seq = next(_seq) & 0xFFFF
    try:
        try:
            sock.sendto(echo_request(v6, ident, seq), sockaddr(target, 0))
        except OSError as e:
            return Result(Status.FAILED, f"send ICMP packet fail: {e.strerror or e}", loop.time() - start)
        try:
            async with asyncio.timeout(target.timeout):
                while True:
                    try:
                        packet, addr = await _recvfrom(sock, ICMP_BUFSIZE + 64)
                    except OSError as e:
                        return Result(Status.FAILED, f"recv ICMP packet error: {e.strerror or e}",
                                      loop.time() - start)
                    if raw and addr[0].split("%")[0] != target.address:
                        continue
                    verdict = is_reply(packet, v6, raw, ident, seq)
                    if verdict is None:
                        continue
                    if verdict:
                        return Result(Status.OK, "echo reply", loop.time() - start)
                    return Result(Status.FAILED, "Got ICMP packet that is not an echo reply", loop.time() - start)
        except TimeoutError:
            return Result(Status.TIMEOUT, "timeout", loop.time() - start)
    finally:
        sock.close()
