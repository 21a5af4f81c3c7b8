"""Codec edge cases: what the datagram alone can reject, and what encode refuses to build."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest

from keepalived_py.errors import PacketError
from keepalived_py.vrrp.packet import (
    Family,
    VrrpAdvert,
    decode,
    encode,
    inet_checksum,
    parse_ipv4,
    password_bytes,
    peek_vrid,
)

SRC4, DST4 = IPv4Address("192.0.2.1"), IPv4Address("224.0.0.18")
SRC6, DST6 = IPv6Address("fe80::1"), IPv6Address("ff02::12")
V2 = VrrpAdvert(2, 1, 100, 100, (IPv4Address("192.0.2.100"),))
V3 = VrrpAdvert(3, 1, 100, 100, (IPv4Address("192.0.2.100"),))


def _reason(data: bytes, family=Family.INET, src=SRC4, dst=DST4) -> str:
    with pytest.raises(PacketError) as exc:
        decode(data, family, src, dst)
    return exc.value.reason


def test_short_packet_is_a_length_error():
    assert _reason(b"\x21\x01\x64") == "packet_len_err"


def test_unknown_version():
    data = bytearray(encode(V2))
    data[0] = 0x41
    assert _reason(bytes(data)) == "vers_err"


def test_v2_over_ipv6_has_no_auth_data_and_a_pseudo_header_checksum():
    adv = VrrpAdvert(2, 1, 100, 100, (IPv6Address("2001:db8::1"),))
    data = encode(adv, SRC6, DST6)
    assert len(data) == 8 + 16
    assert decode(data, Family.INET6, SRC6, DST6) == adv
    assert _reason(data, Family.INET6, IPv6Address("fe80::2"), DST6) == "chk_err"
    assert _reason(encode(V2), Family.INET6, SRC6, DST6) == "packet_len_err"


def test_wrong_type():
    data = bytearray(encode(V2))
    data[0] = 0x22
    assert _reason(bytes(data)) == "invalid_type_rcvd"


def test_count_inconsistent_with_length():
    data = bytearray(encode(V2))
    data[3] = 2
    assert _reason(bytes(data)) == "packet_len_err"
    assert _reason(encode(V2) + b"\0\0\0\0") == "packet_len_err"


def test_v2_checksum_covers_message():
    data = bytearray(encode(V2))
    data[2] ^= 1
    assert _reason(bytes(data)) == "chk_err"


def test_v3_checksum_covers_pseudo_header():
    data = encode(V3, SRC4, DST4)
    assert decode(data, Family.INET, SRC4, DST4) == V3
    assert _reason(data, Family.INET, IPv4Address("192.0.2.9"), DST4) == "chk_err"
    assert _reason(data, Family.INET, SRC4, IPv4Address("192.0.2.2")) == "chk_err"


def test_v3_ipv6_checksum():
    adv = VrrpAdvert(3, 7, 200, 25, (IPv6Address("2001:db8::1"), IPv6Address("2001:db8::2")))
    data = encode(adv, SRC6, DST6)
    assert decode(data, Family.INET6, SRC6, DST6) == adv
    assert _reason(data, Family.INET6, IPv6Address("fe80::2"), DST6) == "chk_err"


def test_v3_interval_twelve_bits_and_reserved_bits_ignored():
    adv = VrrpAdvert(3, 1, 100, 4095, (IPv4Address("192.0.2.100"),))
    data = bytearray(encode(adv, SRC4, DST4))
    assert data[4:6] == b"\x0f\xff"
    data[4] |= 0xF0  # reserved bits set by a sender: RFC 5798 says ignore on receipt
    got = decode(bytes(data), Family.INET, verify_checksum=False)
    assert got.advert_int_cs == 4095
    with pytest.raises(ValueError):
        encode(VrrpAdvert(3, 1, 100, 4096, ()), SRC4, DST4)


def test_encode_refuses_what_the_wire_cannot_carry():
    with pytest.raises(ValueError):
        encode(VrrpAdvert(2, 1, 100, 150, ()))  # v2 is whole seconds
    with pytest.raises(ValueError):
        encode(VrrpAdvert(2, 1, 100, 100, (IPv6Address("2001:db8::1"),)))  # needs src/dst
    with pytest.raises(ValueError):
        encode(VrrpAdvert(2, 1, 100, 100, (IPv6Address("2001:db8::1"),), 1, b"x" * 8), SRC6, DST6)
    with pytest.raises(ValueError):
        encode(VrrpAdvert(2, 1, 100, 100, (), 256))
    with pytest.raises(ValueError):
        encode(V3)  # no pseudo-header addresses
    with pytest.raises(ValueError):
        encode(VrrpAdvert(3, 1, 256, 100, ()), SRC4, DST4)


def test_password_padding_and_truncation():
    assert password_bytes("abc") == b"abc\0\0\0\0\0"
    assert password_bytes("0123456789") == b"01234567"


def test_checksum_of_zero_sum_and_odd_lengths():
    assert inet_checksum(b"") == 0xFFFF
    assert inet_checksum(b"\x01") == inet_checksum(b"\x01\x00")


def test_peek_vrid_and_ip_header_errors():
    assert peek_vrid(encode(V2)) == 1
    assert peek_vrid(b"\x21") is None
    with pytest.raises(PacketError) as exc:
        parse_ipv4(b"\x45" + b"\0" * 10)
    assert exc.value.reason == "packet_len_err"
    with pytest.raises(PacketError):
        parse_ipv4(b"\x45\x00\x00\x30" + b"\0" * 20)  # total length says 48, got 24
