"""Route and rule requests as keepalived 2.2.7's netlink_route() / netlink_rule() build them.

The requests are decoded here (header fields and attributes) and checked field by field;
the netns differential test (tests/integration/test_routes_differential.py) checks what the
kernel makes of them beside real keepalived.
"""

from __future__ import annotations

import struct

import pytest

from keepalived_py.config.diagnostics import Diagnostics
from keepalived_py.config.model.route_entry import RouteEntry
from keepalived_py.config.model.rules import RuleEntry
from keepalived_py.config.schema import Ctx
from keepalived_py.net import rtnl

IFINDEX = {"eth0": 2, "eth1": 3}


def route(line: str):
    return RouteEntry().parse(line.split(), Ctx(Diagnostics()))


def rule(line: str):
    return RuleEntry().parse(line.split(), Ctx(Diagnostics()))


def attrs(data: bytes) -> dict[int, list[bytes]]:
    """Netlink attributes by type (a type may repeat)."""
    out: dict[int, list[bytes]] = {}
    i = 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        out.setdefault(kind & 0x3FFF, []).append(data[i + 4:i + length])
        i += (length + 3) & ~3
    return out


def decode_route(req: rtnl.Request) -> tuple[dict[str, int], dict[int, list[bytes]]]:
    names = ("family", "dst_len", "src_len", "tos", "table", "protocol", "scope", "type", "flags")
    header = dict(zip(names, struct.unpack_from("=BBBBBBBBI", req.payload), strict=True))
    return header, attrs(req.payload[12:])


decode_rule = decode_route  # struct fib_rule_hdr has the rtmsg layout (res1/res2 at protocol/scope)


def u32(data: bytes) -> int:
    return struct.unpack("=I", data)[0]


# --------------------------------------------------------------------------- protocol
@pytest.mark.parametrize("line,proto", [
    ("203.0.113.0/24 via 192.0.2.254 dev eth0", 18),
    ("203.0.113.0/24 via 192.0.2.254 dev eth0 protocol bird", 18),  # "resetting protocol"
    ("203.0.113.0/24 via 192.0.2.254 dev eth0 protocol bird no_track", 12),
    ("203.0.113.0/24 via 192.0.2.254 dev eth0 protocol 99 no_track", 99),
    ("203.0.113.0/24 via 192.0.2.254 dev eth0 no_track", 18),
    ("203.0.113.0/24 via 192.0.2.254", 18),  # untracked for want of an interface, reset all the same
])
def test_route_protocol_is_keepalived_unless_no_track_names_one(line, proto):
    header, _ = decode_route(rtnl.route_request(route(line), True, IFINDEX))
    assert header["protocol"] == proto


@pytest.mark.parametrize("line,proto", [
    ("from 192.0.2.1 table 100 preference 1", 18),
    ("from 192.0.2.1 table 100 preference 1 protocol 99", 18),
    ("from 192.0.2.1 table 100 preference 1 protocol 99 no_track", 99),
    ("from 192.0.2.1 table 100 preference 1 no_track", None),
])
def test_rule_protocol(line, proto):
    _, a = decode_rule(rtnl.rule_request(rule(line), True))
    got = a.get(rtnl.FRA_PROTOCOL)
    assert (got[0][0] if got else None) == proto


# --------------------------------------------------------------------------- route header and flags
def test_dev_route_is_universe_scope_in_main_table_prepended():
    req = rtnl.route_request(route("203.0.113.0/24 dev eth0"), True, IFINDEX)
    header, a = decode_route(req)
    assert req.type == rtnl.RTM_NEWROUTE
    assert req.flags == rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK | rtnl.NLM_F_CREATE
    assert header == {"family": 2, "dst_len": 24, "src_len": 0, "tos": 0, "table": 254, "protocol": 18,
                      "scope": 0, "type": 1, "flags": 0}
    assert a[rtnl.RTA_DST] == [bytes([203, 0, 113, 0])]
    assert u32(a[rtnl.RTA_OIF][0]) == 2


@pytest.mark.parametrize("mode,flag", [("add", rtnl.NLM_F_EXCL), ("append", rtnl.NLM_F_APPEND), ("prepend", 0)])
def test_route_modes(mode, flag):
    req = rtnl.route_request(route(f"203.0.113.0/24 dev eth0 {mode}"), True, IFINDEX)
    assert req.flags == rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK | rtnl.NLM_F_CREATE | flag


def test_delete_has_scope_nowhere_and_type_only_when_given():
    header, _ = decode_route(rtnl.route_request(route("203.0.113.0/24 dev eth0"), False, IFINDEX))
    assert (header["scope"], header["type"]) == (255, 0)
    header, _ = decode_route(rtnl.route_request(route("blackhole 203.0.113.0/24 scope host"), False, IFINDEX))
    assert (header["scope"], header["type"]) == (254, 6)


def test_large_table_goes_in_rta_table():
    header, a = decode_route(rtnl.route_request(route("203.0.113.0/24 dev eth0 table 1000"), True, IFINDEX))
    assert header["table"] == 0 and u32(a[rtnl.RTA_TABLE][0]) == 1000


def test_named_values_arrive_as_numbers():
    r = route("203.0.113.0/24 via 192.0.2.254 dev eth0 table main scope link tos 0x10 realms 1/2 metric 7")
    header, a = decode_route(rtnl.route_request(r, True, IFINDEX))
    assert (header["table"], header["scope"], header["tos"]) == (254, 253, 16)
    assert u32(a[rtnl.RTA_FLOW][0]) == 0x10002 and u32(a[rtnl.RTA_PRIORITY][0]) == 7
    assert a[rtnl.RTA_GATEWAY] == [bytes([192, 0, 2, 254])]


def test_metrics_locks_and_congctl():
    r = route("203.0.113.0/24 dev eth0 mtu lock 1400 rtt 300ms rttvar 1s features ecn congctl lock cubic")
    _, a = decode_route(rtnl.route_request(r, True, IFINDEX))
    metrics = attrs(a[rtnl.RTA_METRICS][0])
    assert u32(metrics[2][0]) == 1400  # RTAX_MTU
    assert u32(metrics[4][0]) == 2400  # RTAX_RTT: 1/8 ms
    assert u32(metrics[5][0]) == 4000  # RTAX_RTTVAR: 1/4 ms
    assert u32(metrics[12][0]) == 1  # RTAX_FEATURES: ecn
    assert metrics[16] == [b"cubic"]  # RTAX_CC_ALGO without its NUL, as keepalived sends it
    assert u32(metrics[1][0]) == (1 << 2) | (1 << 16)  # RTAX_LOCK: mtu, congctl


def test_multipath_weights_onlink_realms():
    r = route("203.0.113.0/24 nexthop via 192.0.2.254 dev eth0 onlink realms 4 nexthop via 198.51.100.254 "
              "dev eth1 weight 3")
    _, a = decode_route(rtnl.route_request(r, True, IFINDEX))
    data = a[rtnl.RTA_MULTIPATH][0]
    length, flags, hops, index = struct.unpack_from("=HBBi", data)
    assert (flags, hops, index) == (rtnl.RTNH_F_ONLINK, 0, 2)
    first = attrs(data[8:length])
    assert first[rtnl.RTA_GATEWAY] == [bytes([192, 0, 2, 254])] and u32(first[rtnl.RTA_FLOW][0]) == 4
    _l2, flags2, hops2, index2 = struct.unpack_from("=HBBi", data, length)
    assert (flags2, hops2, index2) == (0, 2, 3)  # weight 3 is rtnh_hops 2


def test_encaps():
    _, a = decode_route(rtnl.route_request(route("203.0.113.0/24 dev eth0 encap mpls 100/200"), True, IFINDEX))
    assert struct.unpack("=H", a[rtnl.RTA_ENCAP_TYPE][0]) == (1,)
    labels = attrs(a[rtnl.RTA_ENCAP][0])[rtnl.MPLS_IPTUNNEL_DST][0]
    assert struct.unpack(">II", labels) == (100 << 12, (200 << 12) | 0x100)  # bottom of stack on the last
    _, a = decode_route(rtnl.route_request(
        route("203.0.113.0/24 dev eth0 encap ip id 5 dst 192.0.2.9 ttl 3 tos 8"), True, IFINDEX))
    inner = attrs(a[rtnl.RTA_ENCAP][0])
    assert struct.unpack(">Q", inner[rtnl.LWT_ID][0]) == (5,)
    assert inner[rtnl.LWT_DST] == [bytes([192, 0, 2, 9])] and inner[rtnl.LWT_TTL] == [b"\x03"]
    assert inner[rtnl.LWT_TOS] == [b"\x08"]


def test_ipv6_options():
    r = route("2001:db8:1::/48 via 2001:db8::1 dev eth0 from 2001:db8:2::/64 pref high expires 100")
    header, a = decode_route(rtnl.route_request(r, True, IFINDEX))
    assert (header["family"], header["dst_len"], header["src_len"]) == (10, 48, 64)
    assert a[rtnl.RTA_PREF] == [b"\x01"] and u32(a[rtnl.RTA_EXPIRES][0]) == 100


# --------------------------------------------------------------------------- rules
def test_rule_selectors_and_table():
    r = rule("not from 192.0.2.0/24 to 198.51.100.0/24 fwmark 0x10/0xff iif eth0 oif eth1 tos 0x10 "
             "uidrange 1-2 ipproto udp sport 10-20 dport 30-40 tunnel-id 7 table 1000 preference 5")
    header, a = decode_rule(rtnl.rule_request(r, True))
    assert header["type"] == rtnl.FR_ACT_TO_TBL  # fib_rule_hdr.action
    assert (header["family"], header["src_len"], header["dst_len"], header["tos"], header["table"]) == (
        2, 24, 24, 16, 0)
    assert header["flags"] == rtnl.FIB_RULE_INVERT
    assert u32(a[rtnl.FRA_TABLE][0]) == 1000 and u32(a[rtnl.FRA_PRIORITY][0]) == 5
    assert (u32(a[rtnl.FRA_FWMARK][0]), u32(a[rtnl.FRA_FWMASK][0])) == (16, 255)
    assert a[rtnl.FRA_IIFNAME] == [b"eth0\0"] and a[rtnl.FRA_OIFNAME] == [b"eth1\0"]
    assert struct.unpack("=II", a[rtnl.FRA_UID_RANGE][0]) == (1, 2)
    assert a[rtnl.FRA_IP_PROTO] == [b"\x11"]
    assert struct.unpack("=HH", a[rtnl.FRA_SPORT_RANGE][0]) == (10, 20)
    assert struct.unpack(">Q", a[rtnl.FRA_TUN_ID][0]) == (7,)


@pytest.mark.parametrize("line,action", [
    ("from 192.0.2.1 goto 200 preference 100", 2),
    ("from 192.0.2.1 nop preference 100", 3),
    ("from 192.0.2.1 blackhole preference 100", 6),
    ("from 192.0.2.1 type unreachable preference 100", 7),
    ("from 192.0.2.1 prohibit preference 100", 8),
    ("from 192.0.2.1 l3mdev preference 100", 1),
])
def test_rule_actions(line, action):
    req = rtnl.rule_request(rule(line), True)
    header, a = decode_rule(req)
    assert header["type"] == action  # fib_rule_hdr.action sits where rtmsg has its type
    assert header["table"] == 0
    if action == 2:
        assert u32(a[rtnl.FRA_GOTO][0]) == 200
    if "l3mdev" in line:
        assert a[rtnl.FRA_L3MDEV] == [b"\x01"]
    assert req.flags == rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK | rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL
    assert rtnl.rule_request(rule(line), False).flags == rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK


def test_the_adapter_frames_the_request_as_is():
    """pyroute2 sets the sequence number and port id, the adapter's message adds the nlmsghdr."""
    from keepalived_py.net.pyroute2_adapter import _RawRequest

    req = rtnl.route_request(route("203.0.113.0/24 dev eth0"), True, IFINDEX)
    msg = _RawRequest(req)
    msg["header"]["type"], msg["header"]["flags"] = req.type, req.flags
    msg["header"]["sequence_number"], msg["header"]["pid"] = 7, 9
    msg.reset()  # as pyroute2's NetlinkRequest does before encoding
    msg.encode()
    assert bytes(msg.data) == struct.pack("=IHHII", 16 + len(req.payload), 24, req.flags, 7, 9) + req.payload
