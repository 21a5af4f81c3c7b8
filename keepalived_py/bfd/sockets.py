"""The bfd child's UDP sockets: listeners on 3784 / 4784 and one sender per session.

Listeners (keepalived's bfd_open_fd_in): one dual-stack IPv6 socket per port, so IPv4
peers arrive as v4-mapped addresses (turned back into IPv4 here); the received TTL / hop
limit and destination address come as ancillary data. keepalived listens on 3784 only;
we also listen on 4784 (RFC 5883 multi-hop) so multi-hop peers reach the same sessions.

Senders (keepalived's bfd_open_fd_out): a socket per session, bound to a random source
port in 49152-65535 (RFC 5881 section 4), starting from a random port and trying the
next when one is taken, with the instance's TTL / hop limit. keepalived binds only when
source_ip is set (otherwise the kernel picks any port); we bind the wildcard address
then, so the source port is in the RFC's range either way.

Link-local IPv6 (fe80::/10) single-hop sessions need a scope (the interface): keepalived's
parser takes no "%ifname" (inet_pton), so it is the interface holding source_ip, or the one
interface with a link-local address when there is no source_ip (`link_scope`). keepalived
2.2.7 cannot run such a session at all (bind() ENODEV, or sendto() ENETUNREACH without
source_ip): conformance/DIFFERENCES.md.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass

from keepalived_py.bfd.demux import Address
from keepalived_py.bfd.packet import SOURCE_PORT_MAX, SOURCE_PORT_MIN

RECV_BUFFER = 2048
_CMSG_SPACE = socket.CMSG_SPACE(20) + socket.CMSG_SPACE(4) + socket.CMSG_SPACE(4)
# Linux values, absent from some Python builds
_IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
_IP_TTL = getattr(socket, "IP_TTL", 2)
_IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
_IPV6_RECVHOPLIMIT = getattr(socket, "IPV6_RECVHOPLIMIT", 51)
_IPV6_HOPLIMIT = getattr(socket, "IPV6_HOPLIMIT", 52)
_IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
_IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)


@dataclass(frozen=True, slots=True)
class Datagram:
    data: bytes
    src: Address
    dst: Address | None
    ttl: int  # 0: the kernel gave none
    truncated: bool


def _plain(addr: str) -> Address:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


#: the listeners' receive buffer (the kernel doubles it, capped by net.core.rmem_max):
#: keepalived keeps the default (208 KiB, about 200 small datagrams, a tenth of a second of a
#: 2,000 packet/s flood), after which a session's own packets are dropped with the flood's
#: while the child is busy or descheduled; 1 MiB holds about a second of such a flood
LISTENER_RCVBUF = 1 << 20


def open_listener(port: int) -> socket.socket:
    """A non-blocking UDP socket on *:port (IPv6 dual-stack, IPv4 when IPv6 is off)."""
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    except OSError as exc:
        if exc.errno != errno.EAFNOSUPPORT:
            raise
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, LISTENER_RCVBUF)
        sock.setsockopt(socket.IPPROTO_IP, _IP_RECVTTL, 1)
        if sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVHOPLIMIT, 1)
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVPKTINFO, 1)
            sock.bind(("::", port))
        else:
            sock.setsockopt(socket.IPPROTO_IP, _IP_PKTINFO, 1)
            sock.bind(("0.0.0.0", port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def receive(sock: socket.socket) -> Datagram:
    """One datagram with its TTL and destination; raises BlockingIOError when none waits."""
    data, ancdata, flags, addr = sock.recvmsg(RECV_BUFFER, _CMSG_SPACE)
    ttl = 0
    dst: Address | None = None
    for level, kind, payload in ancdata:
        if (level, kind) in ((socket.IPPROTO_IP, _IP_TTL), (socket.IPPROTO_IPV6, _IPV6_HOPLIMIT)):
            ttl = int.from_bytes(payload[:4], sys.byteorder) if len(payload) >= 4 else payload[0]
        elif (level, kind) == (socket.IPPROTO_IPV6, _IPV6_PKTINFO) and len(payload) >= 16:
            dst = _plain(socket.inet_ntop(socket.AF_INET6, payload[:16]))
        elif (level, kind) == (socket.IPPROTO_IP, _IP_PKTINFO) and len(payload) >= 12:
            dst = ipaddress.IPv4Address(payload[8:12])
    return Datagram(data, _plain(addr[0]), dst, ttl, bool(flags & socket.MSG_TRUNC))


IF_INET6 = "/proc/net/if_inet6"
_SCOPE_LINK = 0x20


def link_local_table(text: str) -> list[tuple[ipaddress.IPv6Address, int, str]]:
    """(address, ifindex, ifname) of each link-scope address in /proc/net/if_inet6's text."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 6:
            continue
        try:
            if int(f[3], 16) != _SCOPE_LINK:
                continue
            out.append((ipaddress.IPv6Address(int(f[0], 16)), int(f[1], 16), f[5]))
        except ValueError:
            continue
    return out


def pick_scope(table: list[tuple[ipaddress.IPv6Address, int, str]], neighbor: Address,
               source: Address | None) -> int:
    """The scope id a session towards `neighbor` needs: 0 unless it is IPv6 link-local; then
    the interface holding `source`, else the only interface (not lo) with a link-local
    address. OSError(ENODEV) when there is none or more than one to choose from."""
    if neighbor.version != 6 or not neighbor.is_link_local:
        return 0
    if source is not None:
        found = {idx for addr, idx, _ in table if addr == source}
        why = f"no interface holds {source}"
    else:
        found = {idx for _addr, idx, name in table if name != "lo"}
        why = "a link-local neighbor without source_ip needs exactly one interface with a link-local address"
    if len(found) != 1:
        raise OSError(errno.ENODEV, why if not found else f"{why} (found {len(found)})")
    return found.pop()


def link_scope(neighbor: Address, source: Address | None, path: str = IF_INET6) -> int:
    """pick_scope() on this namespace's addresses (read only for a link-local neighbour)."""
    if neighbor.version != 6 or not neighbor.is_link_local:
        return 0
    with open(path) as f:
        return pick_scope(link_local_table(f.read()), neighbor, source)


def destination(neighbor: Address, port: int, scope: int = 0) -> tuple:
    """sendto()'s address for `neighbor` (IPv6 with its scope id)."""
    if neighbor.version == 4:
        return (str(neighbor), port)
    return (str(neighbor), port, 0, scope)


def open_sender(neighbor: Address, source: Address | None, ttl: int,
                rand: Callable[[int, int], int], port_range: tuple[int, int] | None = None,
                scope: int = 0) -> socket.socket:
    """A non-blocking UDP socket towards `neighbor`, source port in 49152-65535 (`scope`:
    a link-local session's interface index, from link_scope())."""
    family = socket.AF_INET if neighbor.version == 4 else socket.AF_INET6
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        lo, hi = port_range or local_port_range()
        first = port = rand(lo, hi)
        host = str(source) if source is not None else ("0.0.0.0" if family == socket.AF_INET else "::")
        while True:
            try:
                sock.bind((host, port) if family == socket.AF_INET else (host, port, 0, scope))
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                port = lo if port >= hi else port + 1
                if port == first:
                    raise
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, _IP_TTL, ttl)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def local_port_range(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> tuple[int, int]:
    """keepalived's read_local_port_range clamped to 49152-65535, with at least 1024 ports."""
    lo, hi = 49152, 60999
    try:
        with open(path) as f:
            lo, hi = (int(x) for x in f.read().split()[:2])
    except (OSError, ValueError):
        pass
    lo, hi = max(lo, SOURCE_PORT_MIN), min(hi, SOURCE_PORT_MAX)
    if lo + 1023 > hi:
        lo, hi = SOURCE_PORT_MIN, SOURCE_PORT_MAX
    return lo, hi

