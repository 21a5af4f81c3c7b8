"""iproute2 names in routes and rules: read as keepalived 2.2.7 reads /etc/iproute2, resolved to
numbers once in the config models, and one option table per line kind."""

from __future__ import annotations

import pytest

from keepalived_py.config.diagnostics import Diagnostics
from keepalived_py.config.loader import load_text
from keepalived_py.config.model import iproute2
from keepalived_py.config.model.route_entry import (
    NEXTHOP_OPTIONS,
    ROUTE_OPTIONS,
    RouteEntry,
    rtt_value,
)
from keepalived_py.config.model.rules import RULE_OPTIONS, RuleEntry
from keepalived_py.config.schema import Ctx, ValueProblem


@pytest.fixture
def etc(tmp_path, monkeypatch):
    """A private /etc/iproute2: write files into it, the tables are read afresh."""
    monkeypatch.setattr(iproute2, "IPROUTE2_DIR", f"{tmp_path}/")
    monkeypatch.setattr(iproute2, "_cache", {})
    return tmp_path


def parse_route(line: str):
    return RouteEntry().parse(line.split(), Ctx(Diagnostics()))


def parse_rule(line: str):
    return RuleEntry().parse(line.split(), Ctx(Diagnostics()))


def test_names_resolve_to_numbers_in_the_model():
    route = parse_route("203.0.113.0/24 via 192.0.2.254 dev eth0 table main protocol bird scope link tos 0 "
                        "realms 0/1 no_track")
    assert (route.table, route.protocol, route.scope, route.tos, route.realms) == (254, 12, 253, 0, 1)
    assert route.kernel_protocol == 12
    assert parse_route("203.0.113.0/24 dev eth0 protocol bird").kernel_protocol == 18
    rule = parse_rule("from all lookup local ipproto tcp preference 5")
    assert (rule.table, rule.ipproto, rule.kernel_protocol) == (255, 6, 18)
    for value in (route.table, route.protocol, route.scope, rule.table, rule.ipproto):
        assert type(value) is int


def test_file_entries_numbers_and_defaults(etc):
    (etc / "rt_protos").write_text("# comment\n0x20 hexproto\n010 octproto\n200 myproto extra\n"
                                   "201 myproto # first wins\n12 notbird\n300 toolarge\n-5 negative\n")
    names = iproute2.names("rt_protos")
    assert names["hexproto"] == 32 and names["octproto"] == 8
    assert "toolarge" not in names and "negative" not in names
    assert names["myproto"] == 201  # '200 myproto extra' has three words: skipped
    assert names["notbird"] == 12 and "bird" not in names  # a default only where its id is free
    assert names["static"] == 4
    assert parse_route("203.0.113.0/24 dev eth0 protocol myproto no_track").protocol == 201


def test_dot_d_directories_are_not_read(etc):
    """keepalived 2.2.7 reads /etc/iproute2/<file> only (checked against the real binary in a
    private mount namespace: a table in rt_tables.d/ is 'not found')."""
    (etc / "rt_tables").write_text("100 mine\n")
    (etc / "rt_tables.d").mkdir()
    (etc / "rt_tables.d" / "x.conf").write_text("250 dtable\n")
    assert iproute2.rt_lookup("rt_tables", "mine") == 100
    assert iproute2.rt_lookup("rt_tables", "dtable") is None
    with pytest.raises(ValueProblem, match="Routing table dtable not found for route"):
        parse_route("203.0.113.0/24 dev eth0 table dtable")


def test_missing_files_give_the_builtin_names(etc):
    assert iproute2.rt_lookup("rt_tables", "main") == 254
    assert iproute2.rt_lookup("rt_scopes", "host") == 254
    assert iproute2.rt_lookup("rt_realms", "anything") is None


@pytest.mark.parametrize("kind,word,value", [
    ("rt_tables", "4294967295", 4294967295),
    ("rt_tables", "4294967296", 0),  # low 32 bits, as keepalived keeps them
    ("rt_tables", "-1", 4294967295),  # C strtoul wraps a '-'
    ("rt_tables", "0x10", 16),
    ("rt_scopes", "256", None),
    ("rt_dsfield", "0x10", 16),
    ("group", "2147483648", None),
])
def test_numbers_as_find_entry_reads_them(kind, word, value):
    assert iproute2.rt_lookup(kind, word) == value


def test_realms_and_types():
    assert iproute2.realms("1/2") == 0x10002 and iproute2.realms("3") == 3
    assert iproute2.realms("x/2") is None
    assert iproute2.format_realms(0x10002) == "1/2" and iproute2.format_realms(3) == "3"
    assert iproute2.rtn_type("brd") == 3 and iproute2.rtn_type("0x6") == 6 and iproute2.rtn_type("256") is None


# keepalived 2.2.7 alloc_route() / parse_nexthops() / alloc_rule() option words
KEEPALIVED_ROUTE_WORDS = {
    "inet6", "inet", "src", "as", "via", "gw", "from", "tos", "dsfield", "table", "protocol", "scope", "metric",
    "priority", "preference", "dev", "oif", "onlink", "encap", "expires", "mtu", "hoplimit", "advmss", "rtt",
    "rttvar", "reordering", "window", "cwnd", "ssthresh", "realms", "rto_min", "initcwnd", "initrwnd",
    "features", "quickack", "congctl", "pref", "ttl-propagate", "fastopen_no_cookie", "add", "prepend", "append",
    "or", "nexthop", "no_track", "vrf"}
KEEPALIVED_NEXTHOP_WORDS = {"via", "dev", "weight", "onlink", "encap", "realms", "as"}
KEEPALIVED_RULE_WORDS = {
    "inet6", "inet", "from", "to", "table", "lookup", "not", "preference", "order", "priority", "tos", "dsfield",
    "fwmark", "realms", "suppress_prefixlength", "sup_pl", "suppress_ifgroup", "sup_group", "dev", "iif", "oif",
    "tunnel-id", "uidrange", "l3mdev", "protocol", "ipproto", "sport", "dport", "no_track"}


def test_option_tables_cover_keepalived():
    assert set(ROUTE_OPTIONS) == KEEPALIVED_ROUTE_WORDS
    assert set(NEXTHOP_OPTIONS) == KEEPALIVED_NEXTHOP_WORDS
    assert set(RULE_OPTIONS) == KEEPALIVED_RULE_WORDS


def test_invalid_number_text_comes_first_as_in_keepalived():
    diags = Diagnostics()
    with pytest.raises(ValueProblem, match="Invalid metric x specified for route"):
        RouteEntry().parse(["203.0.113.0/24", "dev", "eth0", "metric", "x"], Ctx(diags))
    assert [d.message for d in diags] == ["invalid number 'x'"]
    diags = Diagnostics()
    with pytest.raises(ValueProblem, match="unknown route keyword bogus"):
        RouteEntry().parse(["203.0.113.0/24", "dev", "eth0", "bogus"], Ctx(diags))
    assert [d.message for d in diags] == ["VRRP parsed invalid IP bogus. skipping IP..."]


@pytest.mark.parametrize("text,mult,value", [
    ("300ms", 8, 2400), ("1.5s", 4, 6000), ("250msec", 1, 250),
    ("2", 8, 1600),  # raw units, raised to keepalived's minimum of 200 ms
    ("121s", 8, 960000),  # lowered to its maximum of 120 s
    ("1.2345s", 1, 1235),  # too many places: rounded on the next digit
    ("0.1", 8, 1600),
    ("5m", 8, None), ("1e3", 8, None), ("s", 8, None), ("5sx", 8, None), ("960001", 8, None),
])
def test_rtt_values_as_get_time_rtt(text, mult, value):
    assert rtt_value(text, mult, None) == value


def test_rules_without_preference_count_down_per_family_and_load():
    text = ("static_rules {\n from 192.0.2.1 table 1\n from 2001:db8::1 table 1\n from 192.0.2.2 table 1\n"
            " from 192.0.2.3 table 1 preference 7\n}\n")
    result = load_text(text)
    assert [r.preference for r in result.config.static_rules] == [16384, 16384, 16383, 7]
    assert [d.message for d in result.diagnostics if "preference" in d.message] == [
        f"Rule has no preference specified - setting to {n}. This is probably not what you want."
        for n in (16384, 16384, 16383)]
    again = load_text(text)  # a new load (a reload) starts again, as keepalived resets them
    assert [r.preference for r in again.config.static_rules] == [16384, 16384, 16383, 7]


@pytest.mark.parametrize("line,messages,encap", [
    # a bad value ends the encap; keepalived's cursor reads its key again as a route word
    ("192.0.2.0/24 dev eth0 encap ip id x dst 192.0.2.8",
     ["invalid number 'x'", "encap id x value is invalid", "VRRP parsed invalid IP id. skipping IP...",
      "unknown route keyword id"], None),
    ("192.0.2.0/24 dev eth0 encap ip dst 192.0.2.8 tos zz",
     ["dsfield zz not valid for ip encapsulation", "TOS value zz is invalid"], None),
    ("2001:db8::/64 dev eth0 encap ip6 dst 2001:db8::1 tc zz",
     ["tc value tc is invalid for ip6 encapsulation", "VRRP parsed invalid IP tc. skipping IP...",
      "unknown route keyword tc"], None),
    # 'src' read again as the route's own, which is valid: the route stays with what the encap had
    ("encap ip6 dst 2001:db8::1 src 192.0.2.5 192.0.2.0/24 dev eth0",
     ["IPv4 address 192.0.2.5 not valid for ip6 encapsulation"], "ip6"),
    ("192.0.2.0/24 dev eth0 encap ip ttl 3", ["address or id missing for ip encapsulation"], "ip"),
    ("192.0.2.0/24 dev eth0 encap mpls x", ["invalid mpls address x for encapsulation"], "mpls"),
    ("192.0.2.0/24 encap gre 10.0.0.1 dev eth0", ["Unknown encap type - gre"], "none"),  # skips a word
])
def test_encap_errors_as_keepalived(line, messages, encap):
    diags = Diagnostics()
    try:
        route = RouteEntry().parse(line.split(), Ctx(diags))
    except ValueProblem as problem:
        route = None
        diags.add(problem.code, str(problem))
    assert [d.message for d in diags if "track" not in d.message] == messages
    if encap is None:
        assert route is None
    else:
        assert route is not None and (route.encap.type if route.encap else "none") == encap
        assert route.dev == "eth0"
