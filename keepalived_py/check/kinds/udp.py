"""UDP_CHECK: send the payload (or keepalived's 32 bytes of "keepalived check - ") on a
connected UDP socket; an ICMP unreachable fails the check (keepalived/check/check_udp.c,
core/layer4.c udp_socket_state). Without require_reply silence until connect_timeout is
success; with it a reply is needed, and when require_reply gives data the reply's length must
be within min_reply_length..max_reply_length and its first bytes match the data (nibbles given
as 'x' ignored). At most max_reply_length + 1 bytes of a reply are read."""

from __future__ import annotations

import asyncio
import socket

from keepalived_py.check.kinds.base import Target, make_socket, sockaddr
from keepalived_py.check.result import Result, Status
from keepalived_py.config.model.checkers import hex_bytes

_FILL = b"keepalived check - "
DEFAULT_PAYLOAD = (_FILL * 2)[:32]


def reply_mismatch(reply: bytes, data: bytes, mask: bytes, min_len: int, max_len: int) -> bool:
    """check_udp_reply(): True when the reply does not match."""
    if not min_len <= len(reply) <= max_len:
        return True
    return any((reply[i] ^ data[i]) & mask[i] for i in range(min(len(data), len(reply))))


async def probe(target: Target, params=None) -> Result:
    loop = asyncio.get_running_loop()
    start = loop.time()
    payload_text = getattr(params, "payload", None)
    payload = hex_bytes(payload_text, False)[0] if payload_text else DEFAULT_PAYLOAD
    require = getattr(params, "require_reply", None)
    min_len = getattr(params, "min_reply_length", 0)
    max_len = getattr(params, "max_reply_length", 255)
    data, mask = hex_bytes(require, True) if require else (b"", b"")
    try:
        sock = make_socket(target, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    except OSError as e:
        return Result(Status.FAILED, f"socket setup failed: {e.strerror or e}")
    try:
        try:
            await loop.sock_connect(sock, sockaddr(target))
            await loop.sock_sendall(sock, payload or DEFAULT_PAYLOAD)
        except OSError as e:
            return Result(Status.FAILED, f"send failed: {e.strerror or e}", loop.time() - start)
        try:
            async with asyncio.timeout(target.timeout):
                reply = await loop.sock_recv(sock, max_len + 1)
        except TimeoutError:
            if require is None:
                return Result(Status.OK, "no reply, no error", loop.time() - start)
            return Result(Status.TIMEOUT, "no reply", loop.time() - start)
        except OSError as e:
            return Result(Status.FAILED, f"unreachable: {e.strerror or e}", loop.time() - start)
        if data and reply_mismatch(reply, data, mask, min_len, max_len):
            return Result(Status.FAILED, "reply data mismatch", loop.time() - start, detail="mismatch")
        return Result(Status.OK, "reply", loop.time() - start)
    finally:
        sock.close()
