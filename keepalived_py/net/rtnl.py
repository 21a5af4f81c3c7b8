"""Route and rule requests to the kernel as keepalived 2.2.7 builds them (pure, no I/O).

`route_request` and `rule_request` turn a config `Route` / `Rule` (numbers only: the config
models resolved every iproute2 name) into the bytes of one rtnetlink request, attribute
for attribute as keepalived's netlink_route() (vrrp_iproute.c) and netlink_rule()
(vrrp_iprule.c) do, so that the kernel ends up with the same route or rule:

- every route is `proto keepalived` (RTPROT_KEEPALIVED, 18) but a no_track route that names
  a protocol; a tracked rule is `proto keepalived`, a no_track rule has the protocol it names
  (or none);
- a route is added with NLM_F_CREATE alone (`prepend`, keepalived's default), with NLM_F_EXCL
  for `add` and NLM_F_APPEND for `append`; its scope is RT_SCOPE_UNIVERSE unless `scope` says
  otherwise (keepalived does not derive `scope link` as `ip route` does);
- a deletion carries scope RT_SCOPE_NOWHERE and the type only when the line gave one.

The netlink header's sequence number and port id are the socket's business: a request here
is (message type, flags, payload after the 16-byte header).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from keepalived_py.config.model.ipline import prefix_parts
from keepalived_py.config.model.routes import RTAX, Encap, Nexthop, Route
from keepalived_py.config.model.rules import FR_ACT_GOTO, FR_ACT_TO_TBL, Rule

AF_INET, AF_INET6 = 2, 10
RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWRULE, RTM_DELRULE = 24, 25, 32, 33
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND = 0x200, 0x400, 0x800

RT_TABLE_MAIN = 254
RT_SCOPE_UNIVERSE, RT_SCOPE_NOWHERE = 0, 255
RTN_UNICAST = 1
RTNH_F_ONLINK = 4
RTAX_FEATURE_ECN = 1
FIB_RULE_INVERT = 2

# route attributes (linux/rtnetlink.h)
RTA_DST, RTA_SRC, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC = 1, 2, 4, 5, 6, 7
RTA_METRICS, RTA_MULTIPATH, RTA_FLOW, RTA_TABLE = 8, 9, 11, 15
RTA_PREF, RTA_ENCAP_TYPE, RTA_ENCAP, RTA_EXPIRES, RTA_TTL_PROPAGATE = 20, 21, 22, 23, 26
# lightweight tunnel encapsulations (linux/lwtunnel.h, linux/mpls_iptunnel.h, linux/ila.h)
ENCAP_TYPES = {"mpls": 1, "ip": 2, "ila": 3, "ip6": 4}
LWT_ID, LWT_DST, LWT_SRC, LWT_TTL, LWT_TOS, LWT_FLAGS = 1, 2, 3, 4, 5, 6
MPLS_IPTUNNEL_DST = 1
ILA_ATTR_LOCATOR = 1
# rule attributes (linux/fib_rules.h)
FRA_DST, FRA_SRC, FRA_IIFNAME, FRA_GOTO, FRA_PRIORITY = 1, 2, 3, 4, 6
FRA_FWMARK, FRA_FLOW, FRA_TUN_ID, FRA_SUPPRESS_IFGROUP, FRA_SUPPRESS_PREFIXLEN = 10, 11, 12, 13, 14
FRA_TABLE, FRA_FWMASK, FRA_OIFNAME, FRA_L3MDEV, FRA_UID_RANGE = 15, 16, 17, 19, 20
FRA_PROTOCOL, FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE = 21, 22, 23, 24

#: the metrics keepalived sends, in its order (RTAX_CC_ALGO first, RTAX_LOCK last)
_METRICS = ("rtt", "rttvar", "rto_min", "features", "mtu", "window", "ssthresh", "cwnd", "advmss",
            "reordering", "hoplimit", "initcwnd", "initrwnd", "quickack", "fastopen_no_cookie")


@dataclass(frozen=True, slots=True)
class Request:
    """One rtnetlink request: message type, header flags, and what follows the header."""

    type: int
    flags: int
    payload: bytes


def attr(kind: int, data: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * (-length % 4)


def _u8(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=B", value))


def _u16(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=H", value))


def _u32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def _be64(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack(">Q", value))


def _addr(kind: int, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bytes:
    return attr(kind, address.packed)


def _zero(family: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv6Address(0) if family == 6 else ipaddress.IPv4Address(0)


def _prefix(prefix: str, family: int) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """The address and length keepalived sends for a prefix: default/any/all as the zero address /0."""
    address, length = prefix_parts(prefix)
    return (address if address is not None else _zero(family)), length


# --------------------------------------------------------------------------- routes
def encap_attrs(encap: Encap) -> bytes:
    """RTA_ENCAP (nested) and RTA_ENCAP_TYPE, as keepalived's add_encap()."""
    inner = b""
    if encap.type == "mpls":
        labels = encap.labels
        inner = attr(MPLS_IPTUNNEL_DST, b"".join(
            struct.pack(">I", (label << 12) | ((i == len(labels) - 1) << 8)) for i, label in enumerate(labels)))
    elif encap.type == "ila":
        inner = _be64(ILA_ATTR_LOCATOR, encap.locator or 0)
    else:
        if encap.id is not None:
            inner += _be64(LWT_ID, encap.id)
        if encap.dst is not None:
            inner += _addr(LWT_DST, encap.dst)
        if encap.src is not None:
            inner += _addr(LWT_SRC, encap.src)
        # keepalived's order: ip sends tos then ttl, ip6 tc then hoplimit
        if encap.tos is not None:
            inner += _u8(LWT_TOS, encap.tos)
        if encap.ttl is not None:
            inner += _u8(LWT_TTL, encap.ttl)
        if encap.flags is not None:
            inner += _u16(LWT_FLAGS, encap.flags)
    return attr(RTA_ENCAP, inner) + _u16(RTA_ENCAP_TYPE, ENCAP_TYPES[encap.type])


def metrics_attr(route: Route) -> bytes:
    """RTA_METRICS with every metric the line set (and RTAX_LOCK), or nothing."""
    inner = b""
    if route.congctl is not None:
        inner += attr(RTAX["congctl"], route.congctl.encode())  # keepalived: strlen, no NUL
    for name in _METRICS:
        if name == "features":
            value = RTAX_FEATURE_ECN if route.features_ecn else None
        else:
            value = getattr(route, name)
        if value is not None:
            inner += _u32(RTAX[name], value)
    if not inner:
        return b""
    if route.lock_mask:
        inner += _u32(1, route.lock_mask)  # RTAX_LOCK
    return attr(RTA_METRICS, inner)


def _nexthop(hop: Nexthop, ifindex: Mapping[str, int]) -> bytes:
    attrs = b""
    if hop.via is not None:
        attrs += _addr(RTA_GATEWAY, hop.via)
    if hop.realms:
        attrs += _u32(RTA_FLOW, hop.realms)
    if hop.encap is not None:
        attrs += encap_attrs(hop.encap)
    hops = (hop.weight - 1) & 0xFF if hop.weight is not None else 0
    index = ifindex[hop.dev] if hop.dev else 0
    return struct.pack("=HBBi", 8 + len(attrs), RTNH_F_ONLINK if hop.onlink else 0, hops, index) + attrs


def route_request(route: Route, add: bool, ifindex: Mapping[str, int]) -> Request:
    """The RTM_NEWROUTE (`add`) or RTM_DELROUTE request for `route`; `ifindex` maps each interface
    the route names to its index."""
    family = route.ip_family
    table = RT_TABLE_MAIN if route.table is None else route.table
    if add:
        flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
        flags |= {"add": NLM_F_EXCL, "append": NLM_F_APPEND}.get(route.mode or "", 0)
        scope, rtype = RT_SCOPE_UNIVERSE, route.type if route.type is not None else RTN_UNICAST
    else:
        flags = NLM_F_REQUEST | NLM_F_ACK
        scope, rtype = RT_SCOPE_NOWHERE, route.type or 0
    if route.scope is not None:
        scope = route.scope
    dst, dst_len = _prefix(route.dst, family)
    src_len = 0
    body = b""
    if table >= 256:
        body += _u32(RTA_TABLE, table)
    body += _addr(RTA_DST, dst)
    if route.from_ is not None:
        src, src_len = _prefix(route.from_, family)
        body += _addr(RTA_SRC, src)
    if route.src is not None:
        body += _addr(RTA_PREFSRC, route.src)
    if route.via is not None:
        body += _addr(RTA_GATEWAY, route.via)
    if route.encap is not None:
        body += encap_attrs(route.encap)
    if route.dev:
        body += _u32(RTA_OIF, ifindex[route.dev])
    if route.metric is not None:
        body += _u32(RTA_PRIORITY, route.metric)
    if route.realms:
        body += _u32(RTA_FLOW, route.realms)
    if route.expires is not None:
        body += _u32(RTA_EXPIRES, route.expires)
    if route.pref is not None:
        body += _u8(RTA_PREF, route.pref)
    if route.ttl_propagate is not None:
        body += _u8(RTA_TTL_PROPAGATE, int(route.ttl_propagate))
    body += metrics_attr(route)
    if route.nexthops:
        body += attr(RTA_MULTIPATH, b"".join(_nexthop(h, ifindex) for h in route.nexthops))
    header = struct.pack("=BBBBBBBBI", AF_INET6 if family == 6 else AF_INET, dst_len, src_len, route.tos or 0,
                         table if table < 256 else 0, route.kernel_protocol, scope, rtype,
                         RTNH_F_ONLINK if route.onlink else 0)
    return Request(RTM_NEWROUTE if add else RTM_DELROUTE, flags, header + body)


# --------------------------------------------------------------------------- rules
def rule_request(rule: Rule, add: bool) -> Request:
    """The RTM_NEWRULE (`add`) or RTM_DELRULE request for `rule`."""
    family = rule.ip_family
    action = rule.kernel_action
    table = 0
    body = b""
    if action == FR_ACT_TO_TBL and not rule.l3mdev:
        value = rule.table or 0
        if value < 256:
            table = value or RT_TABLE_MAIN
        else:
            body += _u32(FRA_TABLE, value)
    src_len = dst_len = 0
    if rule.from_ is not None:
        src, src_len = _prefix(rule.from_, family)
        body += _addr(FRA_SRC, src)
    if rule.to is not None:
        dst, dst_len = _prefix(rule.to, family)
        body += _addr(FRA_DST, dst)
    if rule.preference is not None:
        body += _u32(FRA_PRIORITY, rule.preference)
    if rule.fwmark is not None:
        body += _u32(FRA_FWMARK, rule.fwmark)
    if rule.fwmask is not None:
        body += _u32(FRA_FWMASK, rule.fwmask)
    if rule.realms:
        body += _u32(FRA_FLOW, rule.realms)
    if rule.suppress_prefixlength is not None:
        body += _u32(FRA_SUPPRESS_PREFIXLEN, rule.suppress_prefixlength)
    if rule.suppress_ifgroup is not None:
        body += _u32(FRA_SUPPRESS_IFGROUP, rule.suppress_ifgroup)
    if rule.iif:
        body += attr(FRA_IIFNAME, rule.iif.encode() + b"\0")
    if rule.oif:
        body += attr(FRA_OIFNAME, rule.oif.encode() + b"\0")
    if rule.tunnel_id:
        body += _be64(FRA_TUN_ID, rule.tunnel_id)
    if rule.uidrange is not None:
        body += attr(FRA_UID_RANGE, struct.pack("=II", *rule.uidrange))
    if rule.l3mdev:
        body += _u8(FRA_L3MDEV, 1)
    if rule.kernel_protocol is not None:
        body += _u8(FRA_PROTOCOL, rule.kernel_protocol)
    if rule.ipproto is not None:
        body += _u8(FRA_IP_PROTO, rule.ipproto)
    if rule.sport is not None:
        body += attr(FRA_SPORT_RANGE, struct.pack("=HH", *rule.sport))
    if rule.dport is not None:
        body += attr(FRA_DPORT_RANGE, struct.pack("=HH", *rule.dport))
    if action == FR_ACT_GOTO:
        body += _u32(FRA_GOTO, rule.goto or 0)
    header = struct.pack("=BBBBBBBBI", AF_INET6 if family == 6 else AF_INET, dst_len, src_len, rule.tos or 0,
                         table, 0, 0, action, FIB_RULE_INVERT if rule.invert else 0)
    flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_CREATE | NLM_F_EXCL if add else 0)
    return Request(RTM_NEWRULE if add else RTM_DELRULE, flags, header + body)
