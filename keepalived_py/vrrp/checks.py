"""Receive validation that needs the instance's configuration (RFC 3768 7.1, RFC 5798 7.1).

The codec already rejected what the datagram alone shows. These checks follow the order of
keepalived's vrrp_check_packet() and return the name of the counter a failure is filed
under, or None. They are split in two because keepalived counts `advert_rcvd` between
them: first the protocol checks, then the address list and the unicast source.
"""

from __future__ import annotations

import hmac

from keepalived_py.vrrp.events import RxMeta
from keepalived_py.vrrp.packet import IPPROTO_AH, VRRP_TTL, AuthType, Family, VrrpAdvert
from keepalived_py.vrrp.params import VrrpInstanceParams


def check_protocol(p: VrrpInstanceParams, adv: VrrpAdvert, meta: RxMeta) -> str | None:
    """Checks before an advert counts as received (keepalived counts advert_rcvd after)."""
    if (meta.ip_protocol == IPPROTO_AH) != (p.auth_type == AuthType.AH):
        return "authtype_mismatch"
    # RFC: TTL / hop limit must be 255; keepalived skips this for unicast peers and when the
    # socket did not report it.
    if not p.unicast and meta.ttl is not None and meta.ttl != VRRP_TTL:
        return "ip_ttl_err"
    if adv.version != p.version:
        return "vers_err"
    if adv.vrid != p.vrid:
        return "vrid_err"
    if adv.version == 2:
        if adv.auth_type not in (AuthType.NONE, AuthType.PASS, AuthType.AH):
            return "invalid_authtype"
        if adv.auth_type != p.auth_type:
            return "authtype_mismatch"
        # Over IPv6 keepalived sends no password (and its check reads past the message), so
        # there is nothing to compare: the auth type alone must match.
        if (p.auth_type == AuthType.PASS and p.family is Family.INET
                and not hmac.compare_digest(adv.auth_data, p.auth_data)):
            return "auth_failure"
        # RFC 3768 7.1: the interval must match ours (keepalived drops these, to keep two
        # masters from coexisting with different timers).
        if adv.advert_int_cs != p.advert_int_cs:
            return "advert_interval_err"
    return None


def check_count(p: VrrpInstanceParams, adv: VrrpAdvert, check_addr: bool) -> str | None:
    if check_addr and len(adv.addresses) != len(p.virtual_ipaddress):
        return "addr_list_err"
    return None


def check_cast(p: VrrpInstanceParams, meta: RxMeta) -> str | None:
    """Multicast received while configured for unicast peers, or the reverse."""
    if meta.is_multicast == p.unicast:
        return "addr_list_err"
    return None


def check_addresses(p: VrrpInstanceParams, adv: VrrpAdvert, meta: RxMeta,
                    check_addr: bool) -> str | None:
    """After advert_rcvd: the address list (RFC 'MAY'), then unicast source and TTL range."""
    if check_addr:
        if len(adv.addresses) != len(p.virtual_ipaddress):
            return "addr_list_err"
        got = set(adv.addresses)
        if any(vip not in got for vip in p.virtual_ipaddress):
            return "addr_list_err"
    if p.unicast and p.check_unicast_src:
        peer = next((u for u in p.unicast_peers if u.address == meta.src), None)
        if peer is None:
            return "unicast_src_err"
        if meta.ttl is not None and not peer.min_ttl <= meta.ttl <= peer.max_ttl:
            return "ip_ttl_err"
    return None


def compare_addresses(a, b) -> int:
    """-1, 0, 1 comparing two addresses numerically (None sorts lowest)."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    if a.version != b.version:
        return (a.version > b.version) - (a.version < b.version)
    return (int(a) > int(b)) - (int(a) < int(b))
