"""Raw VRRP sockets (IP protocol 112, 51 for AH), shared per (interface, family, protocol)
like keepalived's socket pool (vrrp_scheduler.c: one fd per interface and family that every
instance on it reads through; the VRID picks the instance).

IPv4: one raw socket with IP_HDRINCL, bound to the interface (SO_BINDTODEVICE), joined to
the instances' multicast groups on that interface, multicast loop off. We build the IPv4
header ourselves (TTL 255, TOS 0xc0 as keepalived's vrrp_build_ip4), so the source address
(mcast_src_ip / unicast_src_ip / primary) is exactly what we put there. Received datagrams
come with their IP header: the instance reads source, destination and TTL from it.

IPv6: a raw socket bound likewise, joined to ff02::12 (or the configured group), hop limit
255 for multicast and unicast; the source goes in IPV6_PKTINFO; destination and hop limit
of received adverts come from IPV6_PKTINFO / IPV6_HOPLIMIT ancillary data. The kernel does
not check VRRP checksums here: the codec does, so that bad ones are counted.

Reading is non-blocking and bounded per wake-up (`BURST`), so a flood of garbage cannot
starve timers: the loop returns to its timer queue between bursts.

Sending: a MASTER sends the same bytes every interval, so what goes to the kernel (the
IPv4 datagram with its header, the destination tuple, IPv6's ancillary data) is built once
by `prepare` and sent by `send_prepared` with no per-advert building (issue 16).
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address

from keepalived_py.vrrp.packet import IPPROTO_VRRP, VRRP_TTL, build_ipv4

IPAddr = IPv4Address | IPv6Address
# one datagram ready for the kernel: bytes, destination address tuple, ancillary data (None: sendto)
Prepared = tuple[bytes, tuple, list | None]
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
IPV6_RECVHOPLIMIT = getattr(socket, "IPV6_RECVHOPLIMIT", 51)
IPV6_HOPLIMIT = getattr(socket, "IPV6_HOPLIMIT", 52)
IPV6_TCLASS = getattr(socket, "IPV6_TCLASS", 67)
IPTOS_NETCONTROL = 0xC0
IP_MULTICAST_ALL = 49
BURST = 64
RCVBUF = 1 << 20


@dataclass(slots=True)
class Received:
    """One datagram off a pool socket."""

    ifname: str
    family: int
    protocol: int
    data: bytes  # IPv4: the whole datagram; IPv6: the VRRP message
    src: IPAddr | None = None  # IPv6 only
    dst: IPAddr | None = None  # IPv6 only (from IPV6_PKTINFO)
    hoplimit: int | None = None  # IPv6 only


@dataclass(slots=True)
class SocketStats:
    rx_packets: int = 0
    rx_errors: int = 0
    tx_packets: int = 0
    tx_errors: int = 0


@dataclass(slots=True)
class VrrpSocket:
    ifname: str
    ifindex: int
    family: int
    protocol: int
    sock: socket.socket
    groups: dict[IPAddr, int] = field(default_factory=dict)  # group -> users
    users: int = 0
    rx_buf: int = 0  # the sum of its instances' receive buffer shares (0: RCVBUF)
    stats: SocketStats = field(default_factory=SocketStats)

    def join(self, group: IPAddr) -> None:
        if group in self.groups:
            self.groups[group] += 1
            return
        if self.family == 4:
            mreq = struct.pack("4s4si", group.packed, b"\0" * 4, self.ifindex)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        else:
            mreq = struct.pack("16sI", group.packed, self.ifindex)
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        self.groups[group] = 1

    def leave(self, group: IPAddr) -> None:
        n = self.groups.get(group, 0)
        if n > 1:
            self.groups[group] = n - 1
            return
        self.groups.pop(group, None)
        try:
            if self.family == 4:
                mreq = struct.pack("4s4si", group.packed, b"\0" * 4, self.ifindex)
                self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq)
            else:
                mreq = struct.pack("16sI", group.packed, self.ifindex)
                self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, mreq)
        except OSError:
            pass

    def send_v4(self, src: IPv4Address, dst: IPv4Address, payload: bytes, ttl: int = VRRP_TTL) -> bool:
        return self.send_datagram(build_ipv4(src, dst, payload, ttl=ttl, protocol=self.protocol), dst)

    def send_datagram(self, datagram: bytes, dst: IPv4Address) -> bool:
        try:
            self.sock.sendto(datagram, (str(dst), 0))
        except OSError:
            self.stats.tx_errors += 1
            return False
        self.stats.tx_packets += 1
        return True

    def send_v6(self, src: IPv6Address | None, dst: IPv6Address, payload: bytes) -> bool:
        anc = []
        if src is not None:
            anc.append((socket.IPPROTO_IPV6, IPV6_PKTINFO, struct.pack("16sI", src.packed, self.ifindex)))
        try:
            self.sock.sendmsg([payload], anc, 0, (str(dst), 0, 0, self.ifindex))
        except OSError:
            self.stats.tx_errors += 1
            return False
        self.stats.tx_packets += 1
        return True

    def prepare(self, src: IPAddr | None, dsts: tuple[IPAddr, ...], payloads: tuple[bytes, ...],
                ttl: int = VRRP_TTL) -> tuple[Prepared, ...]:
        """What send_v4 / send_v6 would send to each destination, built once."""
        if self.family == 4:
            src4 = src if src is not None else IPv4Address(0)
            return tuple((build_ipv4(src4, dst, payload, ttl=ttl, protocol=self.protocol), (str(dst), 0), None)
                         for dst, payload in zip(dsts, payloads, strict=True))
        anc = [] if src is None else [(socket.IPPROTO_IPV6, IPV6_PKTINFO, struct.pack("16sI", src.packed, self.ifindex))]
        return tuple((payload, (str(dst), 0, 0, self.ifindex), anc) for dst, payload in zip(dsts, payloads, strict=True))

    @staticmethod
    def prepare_datagrams(datagrams: tuple[bytes, ...], dsts: tuple[IPAddr, ...]) -> tuple[Prepared, ...]:
        """Whole IPv4 datagrams (AH) as send_datagram sends them."""
        return tuple((dgram, (str(dst), 0), None) for dgram, dst in zip(datagrams, dsts, strict=False))

    def send_prepared(self, prepared: tuple[Prepared, ...]) -> bool:
        """Send each; False when any failed (counted in stats)."""
        sock, stats, ok = self.sock, self.stats, True
        for data, addr, anc in prepared:
            try:
                if anc is None:
                    sock.sendto(data, addr)
                else:
                    sock.sendmsg([data], anc, 0, addr)
            except OSError:
                stats.tx_errors += 1
                ok = False
            else:
                stats.tx_packets += 1
        return ok

    def read_burst(self) -> list[Received]:
        out: list[Received] = []
        for _ in range(BURST):
            try:
                if self.family == 4:
                    data = self.sock.recv(65535)
                    out.append(Received(self.ifname, 4, self.protocol, data))
                else:
                    data, anc, _flags, addr = self.sock.recvmsg(65535, 256)
                    dst = None
                    hops = None
                    for level, kind, value in anc:
                        if level != socket.IPPROTO_IPV6:
                            continue
                        if kind == IPV6_PKTINFO and len(value) >= 16:
                            dst = IPv6Address(value[:16])
                        elif kind == IPV6_HOPLIMIT and len(value) >= 4:
                            hops = struct.unpack("i", value[:4])[0]
                    src = ip_address(addr[0].split("%", 1)[0])
                    out.append(Received(self.ifname, 6, self.protocol, data, src, dst, hops))
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.stats.rx_errors += 1
                break
        self.stats.rx_packets += len(out)
        return out


def open_vrrp_socket(ifname: str, ifindex: int, family: int, protocol: int = IPPROTO_VRRP) -> socket.socket:
    fam = socket.AF_INET if family == 4 else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_RAW, protocol)
    try:
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        except OSError:
            pass
        if family == 4:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            s.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
            mreqn = struct.pack("4s4si", b"\0" * 4, b"\0" * 4, ifindex)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, VRRP_TTL)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, VRRP_TTL)
            # traffic class 0xc0 (network control), as keepalived sets for IPv6 adverts
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_TCLASS, IPTOS_NETCONTROL)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    except BaseException:
        s.close()
        raise
    return s


class SocketPool:
    """Sockets by (ifname, family, protocol); readers on the loop feed `on_packet`."""

    def __init__(self, loop, on_packet: Callable[[Received], None],
                 opener: Callable[..., socket.socket] = open_vrrp_socket) -> None:
        self._loop = loop
        self._on_packet = on_packet
        self._opener = opener
        self.sockets: dict[tuple[str, int, int], VrrpSocket] = {}

    def acquire(self, ifname: str, ifindex: int, family: int, protocol: int = IPPROTO_VRRP,
                group: IPAddr | None = None, rx_buf: int = 0) -> VrrpSocket:
        """`rx_buf`: this instance's share of the receive buffer (kernel_rx_buf_size or
        vrrp_rx_bufs_policy); keepalived sizes a shared socket to the sum of its
        instances' shares, and leaves it alone when that is 0 (we keep RCVBUF then)."""
        key = (ifname, family, protocol)
        vs = self.sockets.get(key)
        if vs is not None and vs.ifindex != ifindex:  # interface re-created: new socket
            self._close(key)
            vs = None
        if vs is None:
            sock = self._opener(ifname, ifindex, family, protocol)
            vs = VrrpSocket(ifname, ifindex, family, protocol, sock)
            self.sockets[key] = vs
            self._loop.add_reader(sock.fileno(), self._readable, vs)
        vs.users += 1
        if rx_buf:
            vs.rx_buf += rx_buf
            self._set_rx_buf(vs)
        if group is not None:
            vs.join(group)
        return vs

    @staticmethod
    def _set_rx_buf(vs: VrrpSocket) -> None:
        with contextlib.suppress(OSError):  # keepalived logs it and goes on
            vs.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, vs.rx_buf or RCVBUF)

    def release(self, vs: VrrpSocket, group: IPAddr | None = None, rx_buf: int = 0) -> None:
        if group is not None:
            vs.leave(group)
        if rx_buf and vs.users > 1:
            vs.rx_buf = max(0, vs.rx_buf - rx_buf)
            self._set_rx_buf(vs)
        vs.users -= 1
        key = (vs.ifname, vs.family, vs.protocol)
        if vs.users <= 0 and self.sockets.get(key) is vs:
            self._close(key)

    def rebind(self, ifname: str, ifindex: int) -> int:
        """The interface was re-created (new index): reopen its sockets in place, rejoin
        their groups; the instances keep their VrrpSocket objects. Returns how many."""
        n = 0
        for vs in list(self.sockets.values()):
            if vs.ifname != ifname or vs.ifindex == ifindex:
                continue
            try:
                self._loop.remove_reader(vs.sock.fileno())
            except (ValueError, OSError):
                pass
            vs.sock.close()
            vs.ifindex = ifindex
            vs.sock = self._opener(ifname, ifindex, vs.family, vs.protocol)
            groups, vs.groups = vs.groups, {}
            for group, users in groups.items():
                vs.join(group)
                vs.groups[group] = users
            if vs.rx_buf:
                self._set_rx_buf(vs)
            self._loop.add_reader(vs.sock.fileno(), self._readable, vs)
            n += 1
        return n

    def get(self, ifname: str, family: int, protocol: int = IPPROTO_VRRP) -> VrrpSocket | None:
        return self.sockets.get((ifname, family, protocol))

    def _readable(self, vs: VrrpSocket) -> None:
        for pkt in vs.read_burst():
            self._on_packet(pkt)

    def _close(self, key) -> None:
        vs = self.sockets.pop(key, None)
        if vs is None:
            return
        try:
            self._loop.remove_reader(vs.sock.fileno())
        except (ValueError, OSError):
            pass
        vs.sock.close()

    def close(self) -> None:
        for key in list(self.sockets):
            self._close(key)
