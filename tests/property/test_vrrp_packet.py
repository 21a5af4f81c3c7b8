"""Properties of the VRRP codec: round trips, and random bytes fail only in our own way."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import given, settings
from hypothesis import strategies as st

from keepalived_py.errors import PacketError
from keepalived_py.vrrp.packet import Family, VrrpAdvert, decode, encode, parse_ipv4

v4 = st.integers(0, 2**32 - 1).map(IPv4Address)
v6 = st.integers(0, 2**128 - 1).map(IPv6Address)

adverts_v2 = st.builds(
    VrrpAdvert,
    version=st.just(2),
    vrid=st.integers(0, 255),
    priority=st.integers(0, 255),
    advert_int_cs=st.integers(0, 255).map(lambda s: s * 100),
    addresses=st.lists(v4, max_size=20).map(tuple),
    auth_type=st.sampled_from([0, 1, 3, 255]),
    auth_data=st.binary(min_size=8, max_size=8),
)
adverts_v2_6 = st.builds(
    VrrpAdvert, version=st.just(2), vrid=st.integers(0, 255), priority=st.integers(0, 255),
    advert_int_cs=st.integers(0, 255).map(lambda s: s * 100),
    addresses=st.lists(v6, min_size=1, max_size=10).map(tuple), auth_type=st.sampled_from([0, 1]),
)
adverts_v3_4 = st.builds(
    VrrpAdvert, version=st.just(3), vrid=st.integers(0, 255), priority=st.integers(0, 255),
    advert_int_cs=st.integers(0, 4095), addresses=st.lists(v4, max_size=20).map(tuple),
)
adverts_v3_6 = st.builds(
    VrrpAdvert, version=st.just(3), vrid=st.integers(0, 255), priority=st.integers(0, 255),
    advert_int_cs=st.integers(0, 4095), addresses=st.lists(v6, min_size=1, max_size=10).map(tuple),
)


@given(adverts_v2, v4, v4)
def test_roundtrip_v2(adv, src, dst):
    assert decode(encode(adv, src, dst), Family.INET, src, dst) == adv


@given(adverts_v2_6, v6, v6)
def test_roundtrip_v2_ipv6_as_keepalived_sends_it(adv, src, dst):
    assert decode(encode(adv, src, dst), Family.INET6, src, dst) == adv


@given(adverts_v3_4, v4, v4)
def test_roundtrip_v3_ipv4(adv, src, dst):
    assert decode(encode(adv, src, dst), Family.INET, src, dst) == adv


@given(adverts_v3_6, v6, v6)
def test_roundtrip_v3_ipv6(adv, src, dst):
    assert decode(encode(adv, src, dst), Family.INET6, src, dst) == adv


@settings(max_examples=500)
@given(st.binary(max_size=120), st.sampled_from(list(Family)), st.booleans())
def test_random_bytes_only_raise_packet_error(data, family, verify):
    src, dst = (IPv4Address("192.0.2.1"), IPv4Address("224.0.0.18")) if family is Family.INET \
        else (IPv6Address("fe80::1"), IPv6Address("ff02::12"))
    try:
        decode(data, family, src, dst, verify_checksum=verify)
    except PacketError:
        pass
    try:
        parse_ipv4(data)
    except PacketError:
        pass


@given(adverts_v2, st.integers(0, 2**16 - 1))
def test_single_bit_flip_is_caught_by_the_v2_checksum(adv, bit):
    data = bytearray(encode(adv))
    bit %= len(data) * 8
    data[bit // 8] ^= 1 << (bit % 8)
    try:
        decode(bytes(data), Family.INET)
    except PacketError:
        return
    raise AssertionError("a flipped bit decoded cleanly")
