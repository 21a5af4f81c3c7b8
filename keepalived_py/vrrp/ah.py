"""VRRPv2 IPsec-AH authentication, the way keepalived does it (RFC 2338 / RFC 2402 style).

Why it exists: RFC 3768 dropped AH, but keepalived still speaks it (auth_type AH) and a
drop-in replacement must interoperate with such peers. Checked byte for byte against a
capture from keepalived 2.2.7 (conformance/packets/vectors/v2_ipv4_ah_*.json).

The datagram is IPv4 (protocol 51) + AH + the VRRPv2 message (auth type 2, zero auth data):

    AH: next header 112 | payload len 4 | reserved 0 | SPI = source address
        | sequence number | ICV (12 bytes)

ICV = HMAC-MD5-96 keyed with the 8-byte padded auth_pass over the IP header with tos,
frag_off and checksum zeroed (and TTL too when unicast), then the AH header with the ICV
zeroed, then the VRRP message. The IP id is part of it, so the sender picks the id itself
(keepalived counts it up per advert, skipping 0, so the kernel leaves it alone).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address

from keepalived_py.errors import PacketError
from keepalived_py.vrrp.packet import (
    IPPROTO_AH,
    IPPROTO_VRRP,
    VRRP_TTL,
    Ipv4Info,
    inet_checksum,
    parse_ipv4,
)

AH_LEN = 24
AH_ICV_LEN = 12
AH_PAYLOAD_LEN = 4  # RFC 2402: length in 32-bit words minus 2
SEQ_MAX = 0xFFFFFFFD  # keepalived stops at this and starts again after a new election


@dataclass(frozen=True, slots=True)
class AhHeader:
    next_header: int
    spi: int
    seq: int
    icv: bytes


def _icv(key: bytes, ip_header: bytes, ah_no_icv: bytes, vrrp: bytes, unicast: bool) -> bytes:
    ip = bytearray(ip_header)
    ip[1] = 0  # tos
    ip[6:8] = b"\0\0"  # frag_off
    ip[10:12] = b"\0\0"  # header checksum
    if unicast:
        ip[8] = 0  # ttl: mutable when routed
    return hmac.new(key, bytes(ip) + ah_no_icv + vrrp, hashlib.md5).digest()[:AH_ICV_LEN]


def build_ah_datagram(src: IPv4Address, dst: IPv4Address, vrrp: bytes, key: bytes, seq: int,
                      ip_id: int, unicast: bool = False, ttl: int = VRRP_TTL,
                      tos: int = 0xC0) -> bytes:
    """A complete IPv4 datagram carrying `vrrp` under AH, as keepalived sends it."""
    total = 20 + AH_LEN + len(vrrp)
    head = struct.pack("!BBHHHBBH4s4s", 0x45, tos, total, ip_id, 0, ttl, IPPROTO_AH, 0,
                       src.packed, dst.packed)
    ah = struct.pack("!BBHII", IPPROTO_VRRP, AH_PAYLOAD_LEN, 0, int(src), seq)
    icv = _icv(key, head, ah + bytes(AH_ICV_LEN), vrrp, unicast)
    head = head[:10] + struct.pack("!H", inet_checksum(head)) + head[12:]
    return head + ah + icv + vrrp


def open_ah_datagram(datagram: bytes, key: bytes, unicast: bool = False
                     ) -> tuple[Ipv4Info, AhHeader, bytes]:
    """Verify an AH-wrapped VRRP datagram; return IP info, AH header and the VRRP message.

    ICV or SPI mismatch is `auth_failure` (keepalived's counter). A next header other than
    VRRP is returned as is: keepalived ignores such packets without counting them.
    """
    info, payload = parse_ipv4(datagram)
    if info.protocol != IPPROTO_AH:
        raise PacketError("authtype_mismatch", "expected an AH header")
    if len(payload) < AH_LEN:
        raise PacketError("packet_len_err", f"{len(payload)} bytes cannot hold an AH header")
    nh, _plen, _res, spi, seq = struct.unpack("!BBHII", payload[:12])
    icv = payload[12:AH_LEN]
    ah = AhHeader(nh, spi, seq, icv)
    vrrp = payload[AH_LEN:]
    if nh != IPPROTO_VRRP:
        return info, ah, vrrp
    want = _icv(key, datagram[:info.header_len], payload[:12] + bytes(AH_ICV_LEN), vrrp, unicast)
    if not hmac.compare_digest(want, icv):
        raise PacketError("auth_failure", "invalid IPSEC HMAC-MD5 value (fields mutated or bad password)")
    if spi != int(info.src):
        raise PacketError("auth_failure", f"invalid IPSEC SPI {spi}, expected {int(info.src)}")
    return info, ah, vrrp
