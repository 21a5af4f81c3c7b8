"""Gratuitous ARP as keepalived sends it (vrrp_arp.c, send_gratuitous_arp_immediate).

An ARP *request* broadcast on the VIP's interface: sender and target protocol address the
VIP, sender hardware address the interface's (the VMAC with use_vmac), target hardware
address broadcast. Frames go out through one AF_PACKET socket per interface.
"""

from __future__ import annotations

import socket
import struct
from ipaddress import IPv4Address

ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
BROADCAST = b"\xff" * 6


def garp_frame(mac: bytes, address: IPv4Address) -> bytes:
    """The Ethernet frame of one gratuitous ARP for `address` from `mac`."""
    if len(mac) != 6:
        raise ValueError("gratuitous ARP needs a 6-byte Ethernet address")
    eth = BROADCAST + mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", ARPHRD_ETHER, 0x0800, 6, 4, ARPOP_REQUEST)
    arp += mac + address.packed + BROADCAST + address.packed
    return eth + arp


class PacketSender:
    """AF_PACKET sockets by interface name, for GARP and unsolicited NA frames."""

    def __init__(self) -> None:
        self._socks: dict[str, socket.socket] = {}
        self.sent = 0
        self.errors = 0

    def _sock(self, ifname: str) -> socket.socket:
        s = self._socks.get(ifname)
        if s is None:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            s.setblocking(False)
            s.bind((ifname, 0))
            self._socks[ifname] = s
        return s

    def send(self, ifname: str, frame: bytes) -> bool:
        try:
            self._sock(ifname).send(frame)
        except OSError:
            self.errors += 1
            self.forget(ifname)
            return False
        self.sent += 1
        return True

    def forget(self, ifname: str) -> None:
        s = self._socks.pop(ifname, None)
        if s is not None:
            s.close()

    def close(self) -> None:
        for name in list(self._socks):
            self.forget(name)
