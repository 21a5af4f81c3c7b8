"""Unsolicited neighbour advertisements as keepalived sends them (vrrp_ndisc.c).

A whole Ethernet frame: to 33:33:00:00:00:01 / ff02::1 from the VIP itself, hop limit 255,
ICMPv6 type 136 with the Override flag (and Router when IPv6 forwarding is on), the VIP as
target and a target link-layer address option with the interface's (or VMAC's) address.
"""

from __future__ import annotations

import struct
from ipaddress import IPv6Address

from keepalived_py.net.garp import ETH_P_IPV6
from keepalived_py.vrrp.packet import inet_checksum

ALL_NODES = IPv6Address("ff02::1")
ALL_NODES_MAC = b"\x33\x33\x00\x00\x00\x01"
ND_NEIGHBOR_ADVERT = 136
ND_NA_FLAG_ROUTER = 0x80000000
ND_NA_FLAG_OVERRIDE = 0x20000000
ND_OPT_TARGET_LINKADDR = 2
IPPROTO_ICMPV6 = 58


def na_frame(mac: bytes, address: IPv6Address, router: bool = False) -> bytes:
    if len(mac) != 6:
        raise ValueError("an NA frame needs a 6-byte Ethernet address")
    flags = ND_NA_FLAG_OVERRIDE | (ND_NA_FLAG_ROUTER if router else 0)
    body = struct.pack("!BBHI", ND_NEIGHBOR_ADVERT, 0, 0, flags) + address.packed
    body += struct.pack("!BB", ND_OPT_TARGET_LINKADDR, 1) + mac
    pseudo = address.packed + ALL_NODES.packed + struct.pack("!I3xB", len(body), IPPROTO_ICMPV6)
    csum = inet_checksum(pseudo + body)
    body = body[:2] + struct.pack("!H", csum) + body[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(body), IPPROTO_ICMPV6, 255) + address.packed + ALL_NODES.packed
    return ALL_NODES_MAC + mac + struct.pack("!H", ETH_P_IPV6) + ip6 + body


def ipv6_forwarding(ifname: str) -> bool:
    """Whether the interface forwards IPv6 (keepalived sets the Router flag then)."""
    try:
        with open(f"/proc/sys/net/ipv6/conf/{ifname}/forwarding") as f:
            return f.read().strip() == "1"
    except OSError:
        return False
