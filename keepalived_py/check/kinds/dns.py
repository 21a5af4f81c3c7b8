"""DNS_CHECK: one query (type, name; recursion desired, a random id) over UDP; success is a
reply with our id, the QR bit and rcode 0 (keepalived/check/check_dns.c). As keepalived does,
replies that are too short, carry another id or are not responses are ignored and reading
goes on until connect_timeout; the answer section is not examined. At most 768 bytes of a
reply are read (DNS_BUFFER_SIZE). dnspython builds the query."""

from __future__ import annotations

import asyncio
import errno
import os
import random
import socket
import struct

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype

from keepalived_py.check.kinds.base import Target, make_socket, sockaddr
from keepalived_py.check.result import Result, Status

BUFFER_SIZE = 768
_HEADER = struct.Struct("!HH")


def make_query(name: str, rtype: str, qid: int) -> bytes:
    query = dns.message.make_query(dns.name.from_text(name or "."), dns.rdatatype.from_text(rtype or "SOA"),
                                   dns.rdataclass.IN, use_edns=False)
    query.id = qid
    query.flags = dns.flags.RD
    return query.to_wire()


def judge(reply: bytes, qid: int) -> int | None:
    """None: ignore this datagram; else the reply's rcode."""
    if len(reply) < 12:
        return None
    rid, flags = _HEADER.unpack_from(reply)
    if rid != qid or not flags & 0x8000:
        return None
    return flags & 0x000F


async def probe(target: Target, params=None, rand: random.Random | None = None) -> Result:
    loop = asyncio.get_running_loop()
    start = loop.time()
    qid = (rand or random).getrandbits(16)
    wire = make_query(getattr(params, "name", "."), getattr(params, "type", "SOA"), qid)
    try:
        sock = make_socket(target, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    except OSError as e:
        return Result(Status.FAILED, f"socket setup failed: {e.strerror or e}")
    try:
        async with asyncio.timeout(target.timeout):
            try:
                await loop.sock_connect(sock, sockaddr(target, target.port or 53))
                await loop.sock_sendall(sock, wire)
            except OSError:
                return Result(Status.FAILED, "failed to write socket.", loop.time() - start)
            while True:
                try:
                    reply = await loop.sock_recv(sock, BUFFER_SIZE)
                except OSError as e:
                    code = e.errno or errno.EIO
                    return Result(Status.FAILED, f"failed to read socket; errno {code} ({os.strerror(code)})",
                                  loop.time() - start)
                rcode = judge(reply, qid)
                if rcode is None:
                    continue
                if rcode:
                    return Result(Status.FAILED, f"read error occurred. (rcode = {rcode})", loop.time() - start)
                return Result(Status.OK, "answered", loop.time() - start)
    except TimeoutError:
        return Result(Status.TIMEOUT, "read timeout from socket", loop.time() - start)
    finally:
        sock.close()
