"""A tiny pcap reader: enough to pull VRRP adverts and ARP out of a capture, with times.

Reads classic pcap (what tcpdump -w writes), micro- or nanosecond, either byte order,
Ethernet link type (with 802.1Q tags skipped).  Pure: bytes in, records out.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from pathlib import Path

LINKTYPE_ETHERNET = 1
ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100
PROTO_VRRP = 112


@dataclass(frozen=True)
class Frame:
    ts: float            # capture time, seconds since the epoch (time.time() scale)
    data: bytes


@dataclass(frozen=True)
class VrrpAdvert:
    ts: float
    src_mac: str
    src: str
    dst: str
    ttl: int             # IPv4 TTL / IPv6 hop limit (must be 255)
    version: int
    type: int
    vrid: int
    priority: int
    addresses: tuple[str, ...]
    interval_cs: int     # advertisement interval in centiseconds (v2: seconds * 100)
    raw: bytes           # the VRRP payload


@dataclass(frozen=True)
class Arp:
    ts: float
    src_mac: str
    op: int              # 1 request, 2 reply
    sender_ip: str
    target_ip: str

    @property
    def gratuitous(self) -> bool:
        return self.sender_ip == self.target_ip


def read_pcap(source: Path | str | bytes) -> list[Frame]:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if len(data) < 24:
        return []
    magic = data[:4]
    table = {
        b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
        b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
    }
    if magic not in table:
        raise ValueError("not a classic pcap file")
    end, scale = table[magic]
    linktype = struct.unpack_from(end + "I", data, 20)[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"unsupported link type {linktype}")
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(end + "IIII", data, off)
        off += 16
        if off + incl > len(data):
            break  # a record cut short by a killed writer
        frames.append(Frame(sec + frac * scale, data[off:off + incl]))
        off += incl
    return frames


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _l3(frame: bytes) -> tuple[int, bytes, bytes] | None:
    if len(frame) < 14:
        return None
    src_mac, etype, off = frame[6:12], struct.unpack_from("!H", frame, 12)[0], 14
    while etype == ETH_VLAN and len(frame) >= off + 4:
        etype = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    return etype, src_mac, frame[off:]


def parse_vrrp(f: Frame) -> VrrpAdvert | None:
    l3 = _l3(f.data)
    if l3 is None:
        return None
    etype, src_mac, pkt = l3
    if etype == ETH_IPV4 and len(pkt) >= 20 and pkt[9] == PROTO_VRRP:
        ihl = (pkt[0] & 0x0F) * 4
        src, dst, ttl = ipaddress.ip_address(pkt[12:16]), ipaddress.ip_address(pkt[16:20]), pkt[8]
        payload, alen = pkt[ihl:], 4
    elif etype == ETH_IPV6 and len(pkt) >= 40 and pkt[6] == PROTO_VRRP:
        src, dst, ttl = ipaddress.ip_address(pkt[8:24]), ipaddress.ip_address(pkt[24:40]), pkt[7]
        payload, alen = pkt[40:], 16
    else:
        return None
    if len(payload) < 8:
        return None
    version, vtype = payload[0] >> 4, payload[0] & 0x0F
    vrid, prio, count = payload[1], payload[2], payload[3]
    if version == 3:
        interval = struct.unpack_from("!H", payload, 4)[0] & 0x0FFF
    else:
        interval = payload[5] * 100
    addrs = tuple(
        str(ipaddress.ip_address(payload[8 + i * alen:8 + (i + 1) * alen]))
        for i in range(count) if 8 + (i + 1) * alen <= len(payload)
    )
    return VrrpAdvert(f.ts, _mac(src_mac), str(src), str(dst), ttl, version, vtype, vrid, prio,
                      addrs, interval, bytes(payload))


def parse_arp(f: Frame) -> Arp | None:
    l3 = _l3(f.data)
    if l3 is None or l3[0] != ETH_ARP or len(l3[2]) < 28:
        return None
    pkt = l3[2]
    op = struct.unpack_from("!H", pkt, 6)[0]
    return Arp(f.ts, _mac(l3[1]), op, str(ipaddress.ip_address(pkt[14:18])),
               str(ipaddress.ip_address(pkt[24:28])))


def vrrp_adverts(frames: list[Frame]) -> list[VrrpAdvert]:
    return [a for a in map(parse_vrrp, frames) if a is not None]


def arps(frames: list[Frame]) -> list[Arp]:
    return [a for a in map(parse_arp, frames) if a is not None]


@dataclass(frozen=True)
class NeighborAdvert:
    """An ICMPv6 Neighbour Advertisement (VRRPv3's IPv6 equivalent of a gratuitous ARP)."""

    ts: float
    src_mac: str
    src: str
    dst: str
    target: str
    override: bool

    @property
    def unsolicited(self) -> bool:
        return self.dst == "ff02::1"


def parse_na(f: Frame) -> NeighborAdvert | None:
    l3 = _l3(f.data)
    if l3 is None or l3[0] != ETH_IPV6:
        return None
    pkt = l3[2]
    # no extension headers expected: next header must be ICMPv6 (58), type 136
    if len(pkt) < 40 + 24 or pkt[6] != 58 or pkt[40] != 136:
        return None
    return NeighborAdvert(f.ts, _mac(l3[1]), str(ipaddress.ip_address(pkt[8:24])),
                          str(ipaddress.ip_address(pkt[24:40])),
                          str(ipaddress.ip_address(pkt[48:64])), bool(pkt[44] & 0x20))


def neighbor_adverts(frames: list[Frame]) -> list[NeighborAdvert]:
    return [a for a in map(parse_na, frames) if a is not None]
