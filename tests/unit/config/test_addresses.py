"""Address, route and rule entries: every option, keepalived's messages, canonical round trip."""

from __future__ import annotations

import ipaddress

import pytest

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.loader import load_text
from keepalived_py.config.model.addresses import (
    FOREVER,
    Encap,
    Nexthop,
    Route,
    RouteEntry,
    Rule,
    RuleEntry,
    StaticAddressEntry,
    VirtualAddress,
    VirtualAddressEntry,
    interface_message,
    missing_interfaces,
)
from keepalived_py.config.model.rules import (
    FR_ACT_BLACKHOLE,
    FR_ACT_GOTO,
    FR_ACT_NOP,
    FR_ACT_PROHIBIT,
    FR_ACT_UNREACHABLE,
)
from keepalived_py.config.schema import Ctx
from keepalived_py.config.validate import ValidationEnv
from keepalived_py.config.writer import write_config

ip = ipaddress.ip_interface


def load_block(block: str, line: str):
    result = load_text(f"{block} {{\n{line}\n}}\n")
    field = {"static_ipaddress": "static_ipaddress", "static_routes": "static_routes",
             "static_rules": "static_rules"}[block]
    return result, getattr(result.config, field)


def errs(result):
    return [d for d in result.diagnostics if d.code != ConfigErr.OK]


# --------------------------------------------------------------------------- addresses
ADDR = [
    ("192.0.2.1/24 dev eth0", VirtualAddress(ip("192.0.2.1/24"), dev="eth0")),
    ("192.0.2.1", VirtualAddress(ip("192.0.2.1/32"))),
    ("192.0.2.1/24 brd + dev eth0", VirtualAddress(ip("192.0.2.1/24"), dev="eth0", brd="+")),
    ("192.0.2.1/24 broadcast 192.0.2.255", VirtualAddress(ip("192.0.2.1/24"), brd="192.0.2.255")),
    ("192.0.2.1/24 brd - scope link", VirtualAddress(ip("192.0.2.1/24"), brd="-", scope=253)),
    ("192.0.2.1/24 scope 253", VirtualAddress(ip("192.0.2.1/24"), scope=253)),
    ("192.0.2.1/24 label eth0:1", VirtualAddress(ip("192.0.2.1/24"), label="eth0:1")),
    ("192.0.2.1 peer 192.0.2.2", VirtualAddress(ip("192.0.2.1/32"), peer=ip("192.0.2.2/32"))),
    ("2001:db8::1/64 home -nodad mngtmpaddr noprefixroute autojoin",
     VirtualAddress(ip("2001:db8::1/64"), home=True, nodad=True, mngtmpaddr=True, noprefixroute=True,
                    autojoin=True)),
    ("192.0.2.1/24 no_track", VirtualAddress(ip("192.0.2.1/24"), no_track=True)),
    ("2001:db8::1/64 preferred_lft forever", VirtualAddress(ip("2001:db8::1/64"), preferred_lft=FOREVER)),
    ("2001:db8::1/64 preferred_lft 0", VirtualAddress(ip("2001:db8::1/64"), preferred_lft=0)),
]


@pytest.mark.parametrize("line,expected", ADDR, ids=[a[0] for a in ADDR])
def test_address_options(line, expected):
    result, entries = load_block("static_ipaddress", line)
    assert entries == (expected,)
    assert errs(result) == []
    assert entries[0].pos.line == 2


def test_address_track_group_static_only_and_use_vmac_virtual_only():
    ctx_result, entries = load_block("static_ipaddress", "192.0.2.1/24 dev eth0 track_group TG use_vmac")
    assert entries[0].track_group == "TG" and not entries[0].use_vmac
    assert any("Unknown configuration entry 'use_vmac'" in d.message for d in errs(ctx_result))
    vip = VirtualAddressEntry()
    diags = Diagnostics()
    entry = vip.parse(["192.0.2.1/24", "use_vmac", "track_group", "X"], Ctx(diags, keyword="virtual_ipaddress"))
    assert entry.use_vmac and entry.track_group is None
    assert any("Unknown configuration entry 'track_group'" in d.message for d in diags)


ADDR_BAD = [
    ("192.0.2.1/24 nodad", "Unknown configuration entry 'nodad' for ip address - ignoring", 1),
    ("192.0.2.1/33", "Invalid address prefix len 33 for address 192.0.2.1/33 - using 32", 1),
    ("2001:db8::1/64 scope link", "Cannot specify scope for IPv6 addresses (2001:db8::1/64) - ignoring scope", 1),
    ("2001:db8::1/64 label x", "Cannot specify label for IPv6 addresses (2001:db8::1/64) - ignoring label", 1),
    ("192.0.2.1/24 dev", "No dev parameter specified for 192.0.2.1/24", 0),
    ("192.0.2.1/24 dev a dev b", "Cannot specify ipaddress device more than once for 192.0.2.1/24", 0),
    ("2001:db8::1 brd +", "VRRP is trying to assign a broadcast brd to the IPv6 address 2001:db8::1 !!?? WTF... "
                          "skipping VIP...", 0),
    ("192.0.2.1/24 brd 1.2.3", "VRRP is trying to assign invalid broadcast 1.2.3. skipping VIP...", 0),
    ("192.0.2.1/24 label averyveryverylonglabel", "Address label averyveryverylonglabel is longer than maximum "
                                                  "length 15 - removing address", 0),
    ("192.0.2.1/24 peer 192.0.2.2", "Cannot specify address prefix when specifying peer address - ignoring", 1),
    ("192.0.2.1 peer 2001:db8::2", "Peer address 2001:db8::2 does not match address family", 1),
    ("192.0.2.1/24 brd + peer 192.0.2.9", "Cannot specify broadcast and peer addresses - ignoring broadcast address",
     1),
    ("192.0.2.1/31 brd +", "Address prefix length 31 too long for broadcast", 1),
    ("192.0.2.1/24 scope nowhereland", "Invalid scope 'nowhereland' specified for 192.0.2.1/24 - ignoring", 1),
    ("192.0.2.1/24 preferred_lft soon", "preferred_lft soon is invalid", 1),
    ("192.0.2.300/24", "VRRP parsed invalid IP 192.0.2.300/24. skipping IP...", 0),
]


@pytest.mark.parametrize("line,message,kept", ADDR_BAD, ids=[a[0] for a in ADDR_BAD])
def test_address_messages(line, message, kept):
    result, entries = load_block("static_ipaddress", line)
    found = errs(result)
    assert any(d.message == message and d.pos.line == 2 for d in found), [d.message for d in found]
    assert len(entries) == kept
    assert result.exit_status == 5


def test_address_derived_values():
    a = VirtualAddress(ip("192.0.2.1/24"), brd="+")
    assert str(a.broadcast) == "192.0.2.255"
    assert str(VirtualAddress(ip("192.0.2.1/24"), brd="-").broadcast) == "192.0.2.0"
    assert VirtualAddress(ip("2001:db8::1/128")).effective_preferred_lft == 0
    assert VirtualAddress(ip("2001:db8::1/64")).effective_preferred_lft == FOREVER
    assert VirtualAddress(ip("192.0.2.1/24")).effective_preferred_lft is None


def test_address_equality_ignores_position():
    _r, first = load_block("static_ipaddress", "192.0.2.1/24 dev eth0")
    assert first[0] == VirtualAddress(ip("192.0.2.1/24"), dev="eth0")
    assert hash(first[0]) == hash(VirtualAddress(ip("192.0.2.1/24"), dev="eth0"))


# --------------------------------------------------------------------------- routes
V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address
ROUTES = [
    ("192.0.2.0/24 via 10.0.0.1 dev eth0", Route("192.0.2.0/24", via=V4("10.0.0.1"), dev="eth0")),
    ("192.0.2.0/24 dev eth0 src 10.0.0.2 table 100 metric 5 protocol keepalived scope link",
     Route("192.0.2.0/24", dev="eth0", src=V4("10.0.0.2"), table=100, metric=5, protocol=18,
           scope=253)),
    ("to 192.0.2.0/24 oif eth0 priority 7", Route("192.0.2.0/24", dev="eth0", metric=7)),
    ("blackhole 192.0.2.0/24 no_track", Route("192.0.2.0/24", type=6, no_track=True)),
    ("unreachable default dev eth0", Route("default", type=7, dev="eth0")),
    ("prohibit 192.0.2.0/24 dev eth0", Route("192.0.2.0/24", type=8, dev="eth0")),
    ("192.0.2.0/24 dev eth0 tos 0x10 onlink mtu lock 1400 hoplimit 10 advmss 1300 rtt 300ms rttvar lock 20s "
     "reordering 3 window 1000 cwnd 10 ssthresh lock 5 realms 1/2 rto_min 250ms initcwnd 10 initrwnd 20 "
     "features ecn quickack 1 congctl lock cubic fastopen_no_cookie 1 append",
     Route("192.0.2.0/24", dev="eth0", tos=16, onlink=True, mtu=1400, hoplimit=10, advmss=1300, rtt=2400,
           rttvar=80000, reordering=3, window=1000, cwnd=10, ssthresh=5, realms=0x10002, rto_min=250,
           initcwnd=10, initrwnd=20, features_ecn=True, quickack=1, congctl="cubic", fastopen_no_cookie=1,
           mode="append", locked=frozenset({"mtu", "rttvar", "ssthresh", "congctl"}))),
    ("2001:db8::/64 via 2001:db8:1::1 dev eth0 from 2001:db8:2::/64 pref high expires 100",
     Route("2001:db8::/64", via=V6("2001:db8:1::1"), dev="eth0", from_="2001:db8:2::/64", pref=1,
           expires=100)),
    ("default dev eth0 inet6", Route("default", dev="eth0", family=6)),
    ("192.0.2.0/24 dev eth0 ttl-propagate disabled prepend", Route("192.0.2.0/24", dev="eth0", ttl_propagate=False,
                                                                   mode="prepend")),
    ("192.0.2.0/24 dev eth0 encap mpls 100/200", Route("192.0.2.0/24", dev="eth0",
                                                       encap=Encap("mpls", labels=(100, 200)))),
    ("192.0.2.0/24 dev eth0 encap ip id 5 dst 10.0.0.9 ttl 3", Route("192.0.2.0/24", dev="eth0", encap=Encap(
        "ip", id=5, dst=V4("10.0.0.9"), ttl=3))),
    ("192.0.2.0/24 table 10 no_track nexthop via 10.0.0.1 dev eth0 weight 1 nexthop via 10.0.0.2 onlink weight 256",
     Route("192.0.2.0/24", table=10, no_track=True, nexthops=(
         Nexthop(via=V4("10.0.0.1"), dev="eth0", weight=1), Nexthop(via=V4("10.0.0.2"), onlink=True, weight=256)))),
    ("192.0.2.0/24 dev eth0 vrf blue", Route("192.0.2.0/24", dev="eth0", vrf="blue")),
]


@pytest.mark.parametrize("line,expected", ROUTES, ids=[r[0][:60] for r in ROUTES])
def test_route_options(line, expected):
    result, entries = load_block("static_routes", line)
    assert errs(result) == []
    assert entries == (expected,)


def test_route_or_is_deprecated_and_becomes_nexthops():
    result, entries = load_block("static_routes", "192.0.2.0/24 via 10.0.0.1 or 10.0.0.2 dev eth0")
    assert entries[0].nexthops == (Nexthop(via=V4("10.0.0.1")), Nexthop(via=V4("10.0.0.2")))
    assert any(d.message == "\"or\" for routes is deprecated. Please use \"nexthop\"" for d in errs(result))


ROUTE_BAD = [
    ("192.0.2.0/24 via 10.0.0.1", "Warning - cannot track route 192.0.2.0/24 with no interface specified, not tracking",
     1),
    ("192.0.2.0/24 dev eth0 protocol static",
     "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol", 1),
    ("192.0.2.0/24 gw 10.0.0.1 dev eth0", "\"gw\" for routes is deprecated. Please use \"via\"", 1),
    ("192.0.2.0/24 via 2001:db8::1 dev eth0", "Cannot mix IPv4 and IPv6 addresses for route", 0),
    ("192.0.2.0/24 dev eth0 table nosuch", "Routing table nosuch not found for route", 0),
    ("192.0.2.0/24 dev eth0 bogus", "unknown route keyword bogus", 0),
    ("dev eth0", "Route must have a destination", 0),
    ("inet6 default dev eth0", "Route must have a destination", 0),  # keepalived steps over 'default'
    ("192.0.2.0/24 dev eth0 from 10.0.0.0/8", "route from address only supported with IPv6 (10.0.0.0/8)", 0),
    ("192.0.2.0/24 dev eth0 metric x", "Invalid metric x specified for route", 0),
    ("192.0.2.0/24 dev eth0 expires 10", "expires is only valid for IPv6", 0),
    ("2001:db8::/64 dev eth0 realms 1", "realms are only valid for IPv4", 0),
    ("192.0.2.0/24 dev eth0 features sack", "feature sack not supported", 1),
    ("192.0.2.0/24 no_track nexthop via 10.0.0.1 weight 0", "Invalid weight 0 specified for route", 0),
    ("192.0.2.0/24 no_track nexthop via 10.0.0.1 junk", "Route has trailing nonsense after nexthops - junk", 0),
    ("192.0.2.0/24 dev eth0 encap gre", "Unknown encap type - gre", 1),  # kept, without encap
    ("192.0.2.0/24 dev eth0 rtt 1e3", "Invalid rtt 1e3 for route", 0),
    ("192.0.2.0/24 dev eth0 rtt 0.1", "number '0.1' has too many decimal places", 1),  # raw: rounded, kept
    ("192.0.2.0/24 dev eth0 rtt 5x", "invalid number '5x'", 0),
    ("192.0.2.0/24 dev eth0 rtt 960001", "Invalid rtt 960001 for route", 0),
    ("192.0.2.0/24 dev eth0 rto_min 120001", "Invalid rto_min value 120001 specified for route", 0),
]


@pytest.mark.parametrize("line,message,kept", ROUTE_BAD, ids=[r[0] for r in ROUTE_BAD])
def test_route_messages(line, message, kept):
    result, entries = load_block("static_routes", line)
    found = errs(result)
    assert any(d.message == message and d.pos.line == 2 for d in found), [d.message for d in found]
    assert len(entries) == kept
    assert result.exit_status == 5


def test_route_table_number_wraps_like_keepalived():
    result, (route,) = load_block("static_routes", "192.0.2.0/24 dev eth0 table 4294967296")
    assert route.table == 0 and errs(result) == []
    result, entries = load_block("static_rules", "from all table 4294967296 preference 1")
    assert entries == () and any(d.message == "Table 0 is not valid" for d in errs(result))


def test_route_family_and_interfaces():
    _r, (route,) = load_block("static_routes", "default via fe80::1 dev eth0 no_track nexthop dev eth1")
    assert route.ip_family == 6 and route.interfaces() == ("eth0", "eth1")
    assert Route("default").ip_family == 4


def test_route_track_group_static_only():
    _r, (route,) = load_block("static_routes", "192.0.2.0/24 dev eth0 track_group TG")
    assert route.track_group == "TG"
    diags = Diagnostics()
    with pytest.raises(Exception, match="unknown route keyword track_group"):
        RouteEntry().parse(["192.0.2.0/24", "dev", "eth0", "track_group", "TG"], Ctx(diags))


# --------------------------------------------------------------------------- rules
RULES = [
    ("from 192.0.2.0/24 table 100 preference 10", Rule(from_="192.0.2.0/24", table=100, preference=10)),
    ("to 192.0.2.0/24 lookup main priority 11", Rule(to="192.0.2.0/24", table=254, preference=11)),
    ("from all fwmark 0x10/0xff table 5 order 12", Rule(from_="all", fwmark=16, fwmask=255, table=5,
                                                       preference=12)),
    ("iif eth0 oif eth1 goto 100 preference 13", Rule(iif="eth0", oif="eth1", action=FR_ACT_GOTO, goto=100,
                                                      preference=13)),
    ("dev eth0 nop preference 14", Rule(iif="eth0", action=FR_ACT_NOP, preference=14)),
    ("not from 10.0.0.0/8 type blackhole preference 15", Rule(from_="10.0.0.0/8", invert=True,
                                                             action=FR_ACT_BLACKHOLE, preference=15)),
    ("from 10.0.0.0/8 unreachable preference 16", Rule(from_="10.0.0.0/8", action=FR_ACT_UNREACHABLE, preference=16)),
    ("from 10.0.0.0/8 prohibit preference 17", Rule(from_="10.0.0.0/8", action=FR_ACT_PROHIBIT, preference=17)),
    ("from 2001:db8::/32 uidrange 1000-2000 table 3 preference 18", Rule(from_="2001:db8::/32",
                                                                         uidrange=(1000, 2000), table=3,
                                                                         preference=18)),
    ("from 10.0.0.0/8 l3mdev preference 19", Rule(from_="10.0.0.0/8", l3mdev=True, preference=19)),
    ("to 10.0.0.0/8 tos 0x10 realms 1/2 sup_pl 8 suppress_ifgroup 0 table 5 preference 20",
     Rule(to="10.0.0.0/8", tos=16, realms=0x10002, suppress_prefixlength=8, suppress_ifgroup=0, table=5,
          preference=20)),
    ("to 10.0.0.0/8 ipproto udp sport 10-20 dport 30-40 protocol 18 tunnel-id 7 table 5 preference 21",
     Rule(to="10.0.0.0/8", ipproto=17, sport=(10, 20), dport=(30, 40), protocol=18, tunnel_id=7, table=5,
          preference=21)),
    ("from all table 5 preference 22 no_track inet6", Rule(from_="all", table=5, preference=22, no_track=True,
                                                           family=6)),
]


@pytest.mark.parametrize("line,expected", RULES, ids=[r[0][:60] for r in RULES])
def test_rule_options(line, expected):
    result, entries = load_block("static_rules", line)
    assert errs(result) == []
    assert entries == (expected,)


RULE_BAD = [
    ("from 192.0.2.0/24 table 100",
     "Rule has no preference specified - setting to 16384. This is probably not what you want.", 1),
    ("from 192.0.2.0/24 preference 1", "No action specified for rule - ignoring", 0),
    ("from 192.0.2.0/24 goto 10 preference 20", "Invalid rule - preference 20 >= goto target 10", 0),
    ("from 192.0.2.0/24 goto 10", "Invalid rule - goto target 10 specified without preference", 0),
    ("from 192.0.2.0/24 table 0 preference 1", "Table 0 is not valid", 0),
    ("from 192.0.2.0/24 realms 5 blackhole preference 1", "suppressor/realm specified for non table action - skipping",
     0),
    ("from 192.0.2.0/24 to 2001:db8::/32 table 1 preference 1", "rule specification has mixed IPv4 and IPv6", 0),
    ("from 192.0.2.0/24 table 1 nop preference 1",
     "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule", 0),
    ("from 192.0.2.0/24 table 1 l3mdev preference 1", "Cannot specify l3mdev with other action", 0),
    ("from 192.0.2.0/24 table 1 dport 80 preference 1", "invalid dport range 80", 1),
    ("from 192.0.2.0/24 table 1 protocol 5 preference 1",
     "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol", 1),
    ("from 192.0.2.0/24 local preference 1", "Invalid rule action local", 0),
    ("from 192.0.2.0/24 frob preference 1", "Unknown rule option frob", 0),
    ("from 192.0.2.0/24 fwmark -1 table 1 preference 1", "Invalid rule fwmark -1 specified", 0),
    ("from 192.0.2.0/24 table 1 ipproto nosuchproto preference 1", "Invalid ipproto nosuchproto", 1),
]


@pytest.mark.parametrize("line,message,kept", RULE_BAD, ids=[r[0] for r in RULE_BAD])
def test_rule_messages(line, message, kept):
    result, entries = load_block("static_rules", line)
    found = errs(result)
    assert any(d.message == message and d.pos.line == 2 for d in found), [d.message for d in found]
    assert len(entries) == kept


def test_rule_track_group_static_only():
    _r, (rule,) = load_block("static_rules", "iif eth0 table 1 preference 1 track_group TG")
    assert rule.track_group == "TG"
    with pytest.raises(Exception, match="Unknown rule option track_group"):
        RuleEntry().parse(["iif", "eth0", "table", "1", "preference", "1", "track_group", "TG"], Ctx(Diagnostics()))


# --------------------------------------------------------------------------- round trip and helpers
ALL_LINES = ([("static_ipaddress", a[0]) for a in ADDR] + [("static_routes", r[0]) for r in ROUTES]
             + [("static_rules", r[0]) for r in RULES]
             + [("static_routes", "192.0.2.0/24 via 10.0.0.1 or 10.0.0.2 dev eth0"),
                ("static_routes", "default via fe80::1 dev eth0 inet6 no_track nexthop dev eth1"),
                ("static_ipaddress", "192.0.2.1/24 dev eth0 track_group TG")])


@pytest.mark.parametrize("block,line", ALL_LINES, ids=[f"{b}:{a[:50]}" for b, a in ALL_LINES])
def test_round_trip(block, line):
    result, entries = load_block(block, line)
    text = write_config(result.config)
    again = load_text(text)
    entries2 = getattr(again.config, block)
    assert entries2 == entries
    assert write_config(again.config) == text


def test_missing_interface_helpers():
    addr = VirtualAddress(ip("192.0.2.1/24"), dev="eth9")
    assert missing_interfaces(addr, frozenset({"eth0"})) == ["eth9"]
    assert interface_message(addr, "eth9") == "WARNING - interface eth9 for ip address 192.0.2.1/24 doesn't exist"
    route = Route("default", dev="eth0", nexthops=(Nexthop(dev="eth8"),))
    assert missing_interfaces(route, frozenset({"eth0"})) == ["eth8"]
    rule = Rule(iif="eth7", table=1, preference=1)
    assert interface_message(rule, "eth7") == "WARNING - interface eth7 for rule doesn't exist"


def test_static_interface_validation():
    from keepalived_py.config.validate.global_defs import validate
    text = ("static_ipaddress {\n 192.0.2.1/24 dev eth9\n 192.0.2.2/24\n}\n"
            "static_routes {\n 192.0.2.0/24 dev eth8\n}\nstatic_rules {\n iif eth7 table 1 preference 1\n}\n")
    result = load_text(text)
    env = ValidationEnv(Diagnostics(), frozenset({"lo", "eth0"}))
    validate(result.config, env)
    messages = [d.message for d in env.diagnostics]
    assert "WARNING - interface eth9 for ip address 192.0.2.1/24 doesn't exist" in messages
    assert "WARNING - interface eth8 for VROUTE nexthop doesn't exist" in messages
    assert "WARNING - interface eth7 for rule doesn't exist" in messages
    env2 = ValidationEnv(Diagnostics(), frozenset({"lo"}))
    validate(result.config, env2)
    assert any(d.code == ConfigErr.FATAL and "requires either an interface" in d.message for d in env2.diagnostics)


def test_static_address_entry_is_static():
    assert StaticAddressEntry().static and not VirtualAddressEntry().static
