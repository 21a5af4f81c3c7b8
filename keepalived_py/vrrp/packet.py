"""VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798), IPv4 and IPv6.

Pure bytes in, typed values out. The codec checks only what the datagram itself can tell
(length, version, type, address count, checksum); checks that need the instance's
configuration live in `checks.py`. Every failure is a `PacketError` whose `reason` is the
statistics counter it is filed under (keepalived's names where it has one).

Wire layout (RFC 5798 5.1; RFC 3768 5.1 differs in the marked fields):

    0: version(4) | type(4)    1: VRID    2: priority    3: count of addresses
    4: v2: auth type(8), advert interval in seconds(8)
       v3: reserved(4), max advert interval in centiseconds(12)
    6: checksum               8: addresses ...    v2 only: 8 bytes of authentication data

Checksums: v2 covers the VRRP message alone; v3 adds the IPv4 or IPv6 pseudo-header
(RFC 5798 5.2.8), which is why v3 encoding and checking need the source and destination.

VRRPv2 over IPv6 is not in any RFC, but keepalived 2.2.7 sends it when `version 2` is set
explicitly on an IPv6 instance: the v2 header (auth type, interval in seconds), IPv6
addresses, no authentication data, and the checksum the kernel computes for raw IPv6
sockets (IPV6_CHECKSUM: with the IPv6 pseudo-header). Captured and matched byte for byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from ipaddress import IPv4Address, IPv6Address, ip_address

from keepalived_py.errors import PacketError

IPPROTO_VRRP = 112
IPPROTO_AH = 51
VRRP_TTL = 255  # RFC 3768 5.2.3 / RFC 5798 5.1.1.3
VRRP_TYPE_ADVERT = 1
VRRP_HEADER_LEN = 8
VRRP_V2_AUTH_LEN = 8
VRRP_MCAST4 = IPv4Address("224.0.0.18")
VRRP_MCAST6 = IPv6Address("ff02::12")
MAX_ADVERT_INT_CS = 0x0FFF  # v3: 12 bits of centiseconds

IPAddr = IPv4Address | IPv6Address


class Family(IntEnum):
    """Address family of an instance; values are the IP versions."""

    INET = 4
    INET6 = 6

    @property
    def addr_len(self) -> int:
        return 4 if self is Family.INET else 16


class AuthType(IntEnum):
    """VRRPv2 authentication types (RFC 2338 5.3.6; keepalived still speaks all three)."""

    NONE = 0
    PASS = 1
    AH = 2


@dataclass(frozen=True, slots=True)
class VrrpAdvert:
    """One decoded or to-be-encoded advertisement.

    `advert_int_cs` is always in centiseconds so both versions compare alike; v2 carries
    whole seconds, so a v2 advert's interval is a multiple of 100. `auth_data` is the 8
    bytes on the wire for v2 (password padded with zeros) and empty for v3. `checksum` is
    what was read (0 for a built advert) and does not take part in equality.
    """

    version: int
    vrid: int
    priority: int
    advert_int_cs: int
    addresses: tuple[IPAddr, ...]
    auth_type: int = AuthType.NONE
    auth_data: bytes = b""
    type: int = VRRP_TYPE_ADVERT
    checksum: int = field(default=0, compare=False)

    @property
    def family(self) -> Family:
        """From the addresses; an advert without any is taken as IPv4 (see `encode`)."""
        if self.addresses and self.addresses[0].version == 6:
            return Family.INET6
        return Family.INET

    @property
    def advert_int_s(self) -> float:
        return self.advert_int_cs / 100


def password_bytes(auth_pass: str | bytes) -> bytes:
    """keepalived's auth_pass on the wire: at most 8 bytes, zero padded."""
    raw = auth_pass.encode() if isinstance(auth_pass, str) else auth_pass
    return raw[:VRRP_V2_AUTH_LEN].ljust(VRRP_V2_AUTH_LEN, b"\0")


def inet_checksum(data: bytes, initial: int = 0) -> int:
    """RFC 1071 one's complement sum, folded and complemented."""
    if len(data) % 2:
        data += b"\0"
    total = initial + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def checksum_as_v2(message: bytes) -> bytes:
    """An encoded VRRPv3 IPv4 message with the checksum over the message alone, no
    pseudo-header (keepalived 2.2.8's v3_checksum_as_v2, for peers that check it that way)."""
    body = message[:6] + b"\0\0" + message[8:]
    return message[:6] + struct.pack("!H", inet_checksum(body)) + message[8:]


def pseudo_header(src: IPAddr, dst: IPAddr, length: int) -> bytes:
    """RFC 5798 5.2.8: IPv4 (RFC 768 style) or IPv6 (RFC 8200 8.1) pseudo-header."""
    if src.version != dst.version:
        raise ValueError(f"source {src} and destination {dst} differ in family")
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, IPPROTO_VRRP, length)
    return src.packed + dst.packed + struct.pack("!I3xB", length, IPPROTO_VRRP)


def _message_len(version: int, family: Family, naddr: int) -> int:
    extra = VRRP_V2_AUTH_LEN if version == 2 and family is Family.INET else 0
    return VRRP_HEADER_LEN + naddr * family.addr_len + extra


def _validate_for_encode(adv: VrrpAdvert, src: IPAddr | None) -> Family:
    if adv.version not in (2, 3):
        raise ValueError(f"VRRP version {adv.version} is not 2 or 3")
    for name, value, top in (("vrid", adv.vrid, 255), ("priority", adv.priority, 255),
                             ("type", adv.type, 15)):
        if not 0 <= value <= top:
            raise ValueError(f"{name} {value} out of range 0..{top}")
    if len(adv.addresses) > 255:
        raise ValueError("more than 255 addresses")
    family = adv.family
    if not adv.addresses and src is not None and src.version == 6:
        family = Family.INET6
    if any(a.version != family.value for a in adv.addresses):
        raise ValueError("addresses of mixed families")
    if adv.version == 2:
        if adv.advert_int_cs % 100 or not 0 <= adv.advert_int_cs // 100 <= 255:
            raise ValueError(f"VRRPv2 interval {adv.advert_int_cs} cs is not 0..255 whole seconds")
        if not 0 <= adv.auth_type <= 255:
            raise ValueError(f"auth type {adv.auth_type} out of range")
        if family is Family.INET and len(adv.auth_data) not in (0, VRRP_V2_AUTH_LEN):
            raise ValueError("VRRPv2 authentication data is 8 bytes")
        if family is Family.INET6 and adv.auth_data:
            raise ValueError("keepalived's VRRPv2 over IPv6 carries no authentication data")
    else:
        if not 0 <= adv.advert_int_cs <= MAX_ADVERT_INT_CS:
            raise ValueError(f"VRRPv3 interval {adv.advert_int_cs} cs exceeds 12 bits")
        if adv.auth_type or adv.auth_data:
            raise ValueError("VRRPv3 has no authentication (RFC 5798 9)")
    return family


def encode(adv: VrrpAdvert, src: IPAddr | None = None, dst: IPAddr | None = None) -> bytes:
    """The VRRP message for `adv`, checksum filled in.

    v3 (and v2 over IPv6) needs `src` and `dst` for the pseudo-header (for keepalived's
    unicast checksum compatibility mode pass the multicast group as `dst`); v2 over IPv4
    ignores them.
    """
    family = _validate_for_encode(adv, src)
    if adv.version == 2:
        word = struct.pack("!BB", adv.auth_type, adv.advert_int_cs // 100)
    else:
        word = struct.pack("!H", adv.advert_int_cs & MAX_ADVERT_INT_CS)
    body = b"".join(a.packed for a in adv.addresses)
    if adv.version == 2 and family is Family.INET:
        body += adv.auth_data.ljust(VRRP_V2_AUTH_LEN, b"\0")
    head = struct.pack("!BBBB", (adv.version << 4) | adv.type, adv.vrid, adv.priority,
                       len(adv.addresses)) + word
    msg = head + b"\0\0" + body
    if adv.version == 2 and family is Family.INET:
        csum = inet_checksum(msg)
    else:
        if src is None or dst is None:
            raise ValueError("this checksum needs source and destination addresses")
        if src.version != family.value:
            raise ValueError(f"source {src} is not {family.name}")
        csum = inet_checksum(pseudo_header(src, dst, len(msg)) + msg)
    return head + struct.pack("!H", csum) + body


def decode(data: bytes, family: Family, src: IPAddr | None = None, dst: IPAddr | None = None,
           verify_checksum: bool = True) -> VrrpAdvert:
    """Parse one VRRP message (no IP header). Raises only `PacketError`.

    Order of checks follows keepalived's: length, version, type, address count against
    length, checksum. A v3 checksum is verified only when `src` and `dst` are given (on
    IPv6 the kernel already verified it, as keepalived relies on).
    """
    data = bytes(data)
    if len(data) < VRRP_HEADER_LEN:
        raise PacketError("packet_len_err", f"{len(data)} bytes is shorter than the VRRP header")
    vers_type, vrid, priority, naddr = data[0], data[1], data[2], data[3]
    version, ptype = vers_type >> 4, vers_type & 0x0F
    if version not in (2, 3):
        raise PacketError("vers_err", f"version {version}")
    if ptype != VRRP_TYPE_ADVERT:
        raise PacketError("invalid_type_rcvd", f"type {ptype}")
    expected = _message_len(version, family, naddr)
    if len(data) != expected:
        raise PacketError("packet_len_err",
                          f"{len(data)} bytes but {naddr} addresses need {expected}")
    (checksum,) = struct.unpack("!H", data[6:8])
    if verify_checksum:
        if version == 2 and family is Family.INET:
            ok = inet_checksum(data) == 0
        elif src is not None and dst is not None:
            if src.version != family.value or dst.version != family.value:
                raise PacketError("chk_err", "pseudo-header addresses of the wrong family")
            ok = inet_checksum(pseudo_header(src, dst, len(data)) + data) == 0
        else:
            ok = True
        if not ok:
            raise PacketError("chk_err", f"bad VRRPv{version} checksum 0x{checksum:04x}")
    alen = family.addr_len
    addresses = tuple(ip_address(data[8 + i * alen:8 + (i + 1) * alen]) for i in range(naddr))
    if version == 2:
        auth_type, interval_s = data[4], data[5]
        auth_data = data[-VRRP_V2_AUTH_LEN:] if family is Family.INET else b""
        return VrrpAdvert(2, vrid, priority, interval_s * 100, addresses, auth_type,
                          auth_data, ptype, checksum)
    (word,) = struct.unpack("!H", data[4:6])
    return VrrpAdvert(3, vrid, priority, word & MAX_ADVERT_INT_CS, addresses, AuthType.NONE,
                      b"", ptype, checksum)


def peek_vrid(data: bytes) -> int | None:
    """The VRID of a VRRP message, so a receiver can find the instance before decoding."""
    return data[1] if len(data) >= VRRP_HEADER_LEN else None


@dataclass(frozen=True, slots=True)
class Ipv4Info:
    """The IPv4 header fields VRRP cares about."""

    src: IPv4Address
    dst: IPv4Address
    ttl: int
    protocol: int
    total_len: int
    header_len: int


def parse_ipv4(datagram: bytes) -> tuple[Ipv4Info, bytes]:
    """Split a raw IPv4 datagram (as a raw socket returns it) into header info and payload."""
    datagram = bytes(datagram)
    if len(datagram) < 20 or datagram[0] >> 4 != 4:
        raise PacketError("packet_len_err", "not an IPv4 header")
    ihl = (datagram[0] & 0x0F) * 4
    if ihl < 20 or len(datagram) < ihl:
        raise PacketError("packet_len_err", f"IPv4 header length {ihl}")
    (total,) = struct.unpack("!H", datagram[2:4])
    if total != len(datagram):
        raise PacketError("packet_len_err", f"ip_tot_len {total} but received {len(datagram)}")
    info = Ipv4Info(IPv4Address(datagram[12:16]), IPv4Address(datagram[16:20]), datagram[8],
                    datagram[9], total, ihl)
    return info, datagram[ihl:]


def build_ipv4(src: IPv4Address, dst: IPv4Address, payload: bytes, ttl: int = VRRP_TTL,
               protocol: int = IPPROTO_VRRP, tos: int = 0xC0) -> bytes:
    """The IPv4 header keepalived builds (tos internet control, id 0, no fragments)."""
    head = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), 0, 0, ttl, protocol, 0,
                       src.packed, dst.packed)
    csum = inet_checksum(head)
    return head[:10] + struct.pack("!H", csum) + head[12:] + payload
