"""Receive validation that needs the instance's configuration (RFC 3768 7.1, RFC 5798 7.1).

The codec already rejected what the datagram alone shows. These checks follow the order of
keepalived's vrrp_check_packet() and return the reason a packet is dropped (a DropReason,
whose value is the counter it is filed under), or None. They are split in two because
keepalived counts `advert_rcvd` between them: first the protocol checks, then the address
list and the unicast source.
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from keepalived_py.vrrp.events import RxMeta
from keepalived_py.vrrp.packet import IPPROTO_AH, VRRP_TTL, AuthType, Family, VrrpAdvert
from keepalived_py.vrrp.params import VrrpInstanceParams


class DropReason(StrEnum):
    """Why a received packet was dropped. Each value names the VrrpStats counter it is
    counted under; the codec's PacketError reasons are among them."""

    PACKET_LEN = "packet_len_err"
    # keepalived 2.2.7 drops these uncounted (advert_interval_err stays 0 in its dumps):
    # ours, beside its counters, so its dumps stay equal to keepalived's
    ADVERT_INTERVAL = "interval_mismatch"
    IP_TTL = "ip_ttl_err"
    INVALID_TYPE = "invalid_type_rcvd"
    ADDR_LIST = "addr_list_err"
    INVALID_AUTHTYPE = "invalid_authtype"
    AUTHTYPE_MISMATCH = "authtype_mismatch"
    AUTH_FAILURE = "auth_failure"
    CHECKSUM = "chk_err"
    VERSION = "vers_err"
    VRID = "vrid_err"
    UNICAST_SRC = "unicast_src_err"
    OWNER_IGNORED = "owner_ignored"  # keepalived 2.3.3 owner_ignore_adverts (a drop, no error)


def check_protocol(p: VrrpInstanceParams, adv: VrrpAdvert, meta: RxMeta) -> DropReason | None:
    """Checks before an advert counts as received (keepalived counts advert_rcvd after)."""
    if (meta.ip_protocol == IPPROTO_AH) != (p.auth_type == AuthType.AH):
        return DropReason.AUTHTYPE_MISMATCH
    # RFC: TTL / hop limit must be 255; keepalived skips this for unicast peers and when the
    # socket did not report it.
    if not p.unicast and meta.ttl is not None and meta.ttl != VRRP_TTL:
        return DropReason.IP_TTL
    if adv.version != p.version:
        return DropReason.VERSION
    if adv.vrid != p.vrid:
        return DropReason.VRID
    if adv.version == 2:
        if adv.auth_type not in (AuthType.NONE, AuthType.PASS, AuthType.AH):
            return DropReason.INVALID_AUTHTYPE
        if adv.auth_type != p.auth_type:
            return DropReason.AUTHTYPE_MISMATCH
        # Over IPv6 keepalived sends no password (and its check reads past the message), so
        # there is nothing to compare: the auth type alone must match.
        if (p.auth_type == AuthType.PASS and p.family is Family.INET
                and not hmac.compare_digest(adv.auth_data, p.auth_data)):
            return DropReason.AUTH_FAILURE
        # RFC 3768 7.1: the interval must match ours (keepalived drops these, to keep two
        # masters from coexisting with different timers).
        if adv.advert_int_cs != p.advert_int_cs:
            return DropReason.ADVERT_INTERVAL
    return None


def check_count(p: VrrpInstanceParams, adv: VrrpAdvert, check_addr: bool) -> DropReason | None:
    if check_addr and len(adv.addresses) != len(p.virtual_ipaddress):
        return DropReason.ADDR_LIST
    return None


def check_cast(p: VrrpInstanceParams, meta: RxMeta) -> DropReason | None:
    """Multicast received while configured for unicast peers, or the reverse."""
    if meta.is_multicast == p.unicast:
        return DropReason.ADDR_LIST
    return None


def check_addresses(p: VrrpInstanceParams, adv: VrrpAdvert, meta: RxMeta,
                    check_addr: bool) -> DropReason | None:
    """After advert_rcvd: the address list (RFC 'MAY'), then unicast source and TTL range."""
    if check_addr:
        if len(adv.addresses) != len(p.virtual_ipaddress):
            return DropReason.ADDR_LIST
        got = set(adv.addresses)
        if any(vip not in got for vip in p.virtual_ipaddress):
            return DropReason.ADDR_LIST
    if p.unicast and p.check_unicast_src:
        peer = next((u for u in p.unicast_peers if u.address == meta.src), None)
        if peer is None:
            return DropReason.UNICAST_SRC
        if meta.ttl is not None and not peer.min_ttl <= meta.ttl <= peer.max_ttl:
            return DropReason.IP_TTL
    return None


def compare_addresses(a, b) -> int:
    """-1, 0, 1 comparing two addresses numerically (None sorts lowest)."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    if a.version != b.version:
        return (a.version > b.version) - (a.version < b.version)
    return (int(a) > int(b)) - (int(a) < int(b))
