"""Every receive check: one packet that fails it, counted under its reason and nothing else."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

import pytest

from keepalived_py.vrrp.actions import SendAdvert
from keepalived_py.vrrp.checks import DropReason
from keepalived_py.vrrp.events import (
    AdvertReceived,
    InterfaceDown,
    PacketReceived,
    RxMeta,
    Start,
    TimerExpired,
)
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.packet import (
    VRRP_MCAST4,
    AuthType,
    Family,
    VrrpAdvert,
    encode,
    password_bytes,
)
from keepalived_py.vrrp.params import UnicastPeer, VrrpInstanceParams

T0 = 1000.0
ME = ip_address("192.0.2.1")
PEER = ip_address("192.0.2.2")
VIPS = (ip_address("192.0.2.100"), ip_address("192.0.2.101"))


def base(**kw) -> VrrpInstanceParams:
    kw.setdefault("virtual_ipaddress", VIPS)
    kw.setdefault("priority", 100)
    return VrrpInstanceParams("VI_1", "eth0", 51, ME, **kw)


def backup(p: VrrpInstanceParams) -> VrrpInstance:
    inst = VrrpInstance(p)
    inst.handle(Start(), T0)
    assert inst.state == State.BACKUP
    return inst


def good(p: VrrpInstanceParams, **kw) -> VrrpAdvert:
    v2 = p.version == 2
    fields = dict(version=p.version, vrid=p.vrid, priority=150, advert_int_cs=p.advert_int_cs,
                  addresses=p.virtual_ipaddress, auth_type=p.auth_type if v2 else 0,
                  auth_data=p.auth_data if v2 else b"")
    fields.update(kw)
    return VrrpAdvert(**fields)


def raw(adv: VrrpAdvert, src=PEER, dst=VRRP_MCAST4) -> bytes:
    return encode(adv, src, dst)


def meta(src=PEER, dst=VRRP_MCAST4, ttl=255, **kw) -> RxMeta:
    return RxMeta(src, dst, ttl, **kw)


def assert_counted_only(inst: VrrpInstance, reason: str, advert_rcvd: int = 0) -> None:
    stats = inst.stats.as_dict()
    assert stats[reason] == 1, stats
    others = {r: stats[r] for r in DropReason if r != reason and stats[r]}
    assert not others, others
    assert stats["advert_rcvd"] == advert_rcvd


def _v3(p: VrrpInstanceParams) -> VrrpInstanceParams:
    return replace(p, version=3)


def _case(reason: str):
    """(params, data, meta, advert_rcvd_expected) for a packet failing `reason`."""
    p = base()
    adv = good(p)
    if reason == "packet_len_err":
        return p, raw(adv)[:-3], meta(), 0
    if reason == "vers_err":
        return p, encode(good(_v3(p)), PEER, VRRP_MCAST4), meta(), 0
    if reason == "invalid_type_rcvd":
        return p, raw(replace(adv, type=2)), meta(), 0
    if reason == "chk_err":
        data = bytearray(raw(adv))
        data[6] ^= 0xFF
        return p, bytes(data), meta(), 0
    if reason == "ip_ttl_err":
        return p, raw(adv), meta(ttl=64), 0
    if reason == "vrid_err":
        return p, raw(replace(adv, vrid=52)), meta(), 0
    if reason == "invalid_authtype":
        return p, raw(replace(adv, auth_type=3)), meta(), 0
    if reason == "authtype_mismatch":
        pp = base(auth_type=AuthType.PASS, auth_pass="secret")
        return pp, raw(replace(good(pp), auth_type=0, auth_data=b"\0" * 8)), meta(), 0
    if reason == "auth_failure":
        pp = base(auth_type=AuthType.PASS, auth_pass="secret")
        return pp, raw(replace(good(pp), auth_data=password_bytes("wrong"))), meta(), 0
    if reason == "interval_mismatch":
        return p, raw(replace(adv, advert_int_cs=200)), meta(), 0
    if reason == "addr_list_err":
        return p, raw(replace(adv, addresses=(VIPS[0], ip_address("192.0.2.199")))), meta(), 1
    if reason == "unicast_src_err":
        pu = base(unicast_peers=(UnicastPeer(ip_address("192.0.2.3")),), check_unicast_src=True)
        return pu, raw(adv, PEER, ME), meta(dst=ME), 1
    raise AssertionError(reason)


# an address owner is MASTER from the start: its drop is tested in
# tests/unit/config/test_newer_keywords.py
@pytest.mark.parametrize("reason", [r for r in DropReason if r is not DropReason.OWNER_IGNORED])
def test_each_drop_reason_is_counted_alone(reason):
    p, data, m, rcvd = _case(reason)
    inst = backup(p)
    sands = inst.sands
    out = inst.handle(PacketReceived(data, m), T0 + 1)
    assert_counted_only(inst, reason, rcvd)
    assert inst.state == State.BACKUP and inst.sands == sands
    assert not [a for a in out if isinstance(a, SendAdvert)]


def test_the_good_packet_is_accepted():
    p = base()
    inst = backup(p)
    inst.handle(PacketReceived(raw(good(p)), meta()), T0 + 1)
    assert inst.stats.advert_rcvd == 1
    assert not any(inst.stats.as_dict()[r] for r in DropReason)
    assert inst.sands == pytest.approx(T0 + 1 + 3 + 156 / 256)
    assert inst.master_saddr == PEER and inst.master_priority == 150


def test_address_count_mismatch_is_addr_list_err_before_advert_rcvd():
    p = base()
    inst = backup(p)
    inst.handle(PacketReceived(raw(replace(good(p), addresses=VIPS[:1])), meta()), T0 + 1)
    assert_counted_only(inst, "addr_list_err", 0)


def test_ah_header_without_ah_config_is_authtype_mismatch():
    p = base()
    inst = backup(p)
    inst.handle(PacketReceived(raw(good(p)), meta(ip_protocol=51)), T0 + 1)
    assert_counted_only(inst, "authtype_mismatch")


def test_auth_ah_over_ipv6_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="Cannot use AH authentication with IPv6"):
        VrrpInstanceParams("VI_1", "eth0", 51, ip_address("fe80::1"), version=3, family=Family.INET6,
                           auth_type=AuthType.AH, auth_pass="x")


def test_multicast_received_when_configured_for_unicast():
    pu = base(unicast_peers=(UnicastPeer(PEER),))
    inst = backup(pu)
    inst.handle(PacketReceived(raw(good(pu)), meta()), T0 + 1)
    assert_counted_only(inst, "addr_list_err")


def test_unicast_ignores_ttl_but_checks_peer_ttl_range():
    pu = base(unicast_peers=(UnicastPeer(PEER, min_ttl=250, max_ttl=255),), check_unicast_src=True)
    inst = backup(pu)
    inst.handle(PacketReceived(raw(good(pu), PEER, ME), meta(dst=ME, ttl=253)), T0 + 1)
    assert inst.stats.ip_ttl_err == 0 and inst.stats.advert_rcvd == 1
    inst.handle(PacketReceived(raw(good(pu), PEER, ME), meta(dst=ME, ttl=200)), T0 + 2)
    assert_counted_only(inst, "ip_ttl_err", 2)


def test_unknown_ttl_is_not_checked():
    p = base()
    inst = backup(p)
    inst.handle(PacketReceived(raw(good(p)), meta(ttl=None)), T0 + 1)
    assert inst.stats.advert_rcvd == 1 and inst.stats.ip_ttl_err == 0


def test_priority_zero_counted():
    p = base()
    inst = backup(p)
    inst.handle(PacketReceived(raw(good(p, priority=0)), meta()), T0 + 1)
    assert inst.stats.pri_zero_rcvd == 1
    assert inst.sands == pytest.approx(T0 + 1 + 156 / 256)


def test_v3_interval_is_not_checked_but_learned():
    p = base(version=3)
    inst = backup(p)
    inst.handle(PacketReceived(encode(good(p, advert_int_cs=300), PEER, VRRP_MCAST4), meta()), T0 + 1)
    assert inst.stats.advert_rcvd == 1 and inst.master_adver_int_us == 3_000_000


def test_skip_check_adv_addr_only_checks_a_new_master():
    p = base(skip_check_adv_addr=True)
    inst = backup(p)
    odd = replace(good(p), addresses=(VIPS[0], ip_address("192.0.2.199")))
    inst.handle(PacketReceived(raw(odd), meta()), T0 + 1)
    assert inst.stats.addr_list_err == 1  # first advert from this master: checked
    inst.handle(PacketReceived(raw(good(p)), meta()), T0 + 2)
    inst.handle(PacketReceived(raw(odd), meta()), T0 + 3)
    assert inst.stats.addr_list_err == 1  # same master as last time: skipped
    inst.handle(PacketReceived(raw(odd, ip_address("192.0.2.7")), meta(src=ip_address("192.0.2.7"))), T0 + 4)
    assert inst.stats.addr_list_err == 2


def test_owner_conflict_counted_and_priority_reduced_as_keepalived_does():
    p = base(priority=255)
    inst = VrrpInstance(p)
    inst.handle(Start(), T0)
    assert inst.state == State.MASTER
    inst.handle(PacketReceived(raw(good(p, priority=255)), meta()), T0 + 0.5)
    assert inst.stats.owner_conflict == 1
    assert inst.effective_priority == 254
    assert inst.state == State.BACKUP  # the other owner now has the higher priority


def test_adverts_ignored_in_fault_and_init():
    p = base()
    inst = VrrpInstance(p)
    inst.handle(PacketReceived(raw(good(p)), meta()), T0)
    inst.handle(Start(), T0)
    inst.handle(InterfaceDown("eth0"), T0)
    assert inst.state == State.FAULT
    inst.handle(PacketReceived(b"junk", meta()), T0 + 1)
    inst.handle(AdvertReceived(good(p), meta()), T0 + 1)
    assert all(v == 0 for k, v in inst.stats.as_dict().items() if k != "advert_sent")


def test_v3_unicast_old_checksum_is_detected_and_then_used():
    pu = base(version=3, unicast_peers=(UnicastPeer(PEER),))
    inst = backup(pu)
    old_style = encode(good(pu), PEER, VRRP_MCAST4)  # pre-1.3.6 keepalived: mcast in pseudo-header
    inst.handle(PacketReceived(old_style, meta(dst=ME)), T0 + 1)
    assert inst.stats.advert_rcvd == 1 and inst.stats.chk_err == 0 and inst.old_checksum
    out = inst.handle(TimerExpired("advert"), inst.sands)
    sent = next(a for a in out if isinstance(a, SendAdvert))
    assert sent.payloads[0] == encode(sent.advert, ME, VRRP_MCAST4)


def test_v3_unicast_never_switches_with_never():
    pu = base(version=3, unicast_peers=(UnicastPeer(PEER),), old_unicast_checksum="never")
    inst = backup(pu)
    inst.handle(PacketReceived(encode(good(pu), PEER, VRRP_MCAST4), meta(dst=ME)), T0 + 1)
    assert_counted_only(inst, "chk_err")


def test_checksum_left_to_the_kernel_is_not_checked_again():
    p = base(version=3)
    inst = backup(p)
    data = encode(good(p), PEER, ip_address("224.0.0.99"))  # "wrong" destination in the sum
    inst.handle(PacketReceived(data, meta(checksum_verified=True)), T0 + 1)
    assert inst.stats.advert_rcvd == 1 and inst.stats.chk_err == 0
    inst.handle(PacketReceived(data, meta()), T0 + 2)
    assert inst.stats.chk_err == 1
